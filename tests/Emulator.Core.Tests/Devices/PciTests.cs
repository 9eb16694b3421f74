using Emulator.Core.Devices.Pci;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Devices;

[Trait("Category", "Unit")]
public sealed class PciTests
{
    private readonly PortBus _ports = new(new UnassignedAccessLog());
    private readonly I440fxHostBridge _host = new();
    private readonly Piix3IsaBridge _isa = new();
    private readonly Piix4PowerManagement _pm = new();

    public PciTests()
    {
        var pci = new PciHost();
        pci.Attach(0, 0, _host);
        pci.Attach(1, 0, _isa);
        pci.Attach(1, 3, _pm);
        _ports.Register(PciHost.BasePort, PciHost.PortCount, pci);
    }

    [Fact]
    public void IdentifiesTheThreeFunctions()
    {
        Assert.Equal(0x1237_8086u, ReadConfig(0, 0, 0x00));
        Assert.Equal(0x7000_8086u, ReadConfig(1, 0, 0x00));
        Assert.Equal(0x7113_8086u, ReadConfig(1, 3, 0x00));
        Assert.Equal(0x0600_0002u, ReadConfig(0, 0, 0x08));
        Assert.Equal(0x0680_0003u, ReadConfig(1, 3, 0x08));
        Assert.Equal(0x80u, (ReadConfig(1, 0, 0x0C) >> 16) & 0xFF);
        Assert.Equal(0x0601u, ReadConfig(1, 0, 0x08) >> 16);
        Assert.Equal(0x0109u, ReadConfig(1, 3, 0x3C) & 0xFFFF);
    }

    [Fact]
    public void AbsentFunctionsAndOtherBusesReadAllOnes()
    {
        Assert.Equal(0xFFFF_FFFFu, ReadConfig(1, 1, 0x00));
        Assert.Equal(0xFFFF_FFFFu, ReadConfig(2, 0, 0x00));
        _ports.Write(0xCF8, 4, 0x8001_0000);
        Assert.Equal(0xFFFF_FFFFu, _ports.Read(0xCFC, 4));
        _ports.Write(0xCF8, 4, 0x0000_0000);
        Assert.Equal(0xFFFFu, _ports.Read(0xCFC, 2));
    }

    [Fact]
    public void AddressRegisterReadsBackAndSubDwordDataAccessesUseTheByteOffset()
    {
        _ports.Write(0xCF8, 4, Address(0, 0, 0x00));
        Assert.Equal(Address(0, 0, 0x00), _ports.Read(0xCF8, 4));
        Assert.Equal(0x86u, _ports.Read(0xCFC, 1));
        Assert.Equal(0x80u, _ports.Read(0xCFD, 1));
        Assert.Equal(0x1237u, _ports.Read(0xCFE, 2));
    }

    [Fact]
    public void PirqRoutingDefaultsDisabledAndIsWritable()
    {
        Assert.Equal(0x8080_8080u, ReadConfig(1, 0, 0x60));
        _ports.Write(0xCF8, 4, Address(1, 0, 0x60));
        _ports.Write(0xCFD, 1, 0x0A);
        Assert.Equal(0x8080_0A80u, ReadConfig(1, 0, 0x60));
        Assert.Equal(10, _isa.GetPirqRoute(1));
        Assert.Equal(-1, _isa.GetPirqRoute(0));
    }

    /// <summary>
    /// QEMU's piix3_set_irq: a PIRQ drives the ISA IRQ its PIRQRC names, ORed with the other PIRQs
    /// routed there; disabled routing drives nothing; rerouting raises the new IRQ and, as in
    /// QEMU's piix3_update_irq_levels, leaves the old one as it was; slot d's INTA is PIRQ (d − 1) mod 4.
    /// </summary>
    [Fact]
    public void PirqsDriveTheIsaIrqsTheirRoutingNames()
    {
        var levels = new bool[Piix3IsaBridge.IsaIrqCount];
        for (int irq = 0; irq < levels.Length; irq++)
        {
            int n = irq;
            _isa.Irq[irq].Connect($"irq {n}", level => levels[n] = level);
        }

        _isa.SetPirq(1, true);
        Assert.DoesNotContain(true, levels);                       // routing disabled
        WriteConfig(1, 0, 0x60, 0x0B0B_0A0A);
        Assert.True(levels[10]);
        _isa.SetPirq(0, true);
        _isa.SetPirq(1, false);
        Assert.True(levels[10]);                                   // PIRQA still high on IRQ 10
        _isa.SetPirq(0, false);
        Assert.False(levels[10]);
        _isa.SetPirq(2, true);
        WriteConfig(1, 0, 0x60, 0x0905_0A0A);                      // C to 5, D (low) to 9: nothing routes to 11 now
        Assert.True(levels[5]);
        Assert.True(levels[11]);                                   // not lowered by the reroute (QEMU)
        Assert.Equal((1, 2, 3, 0), (Piix3IsaBridge.PirqFor(2, 0), Piix3IsaBridge.PirqFor(3, 0), Piix3IsaBridge.PirqFor(4, 0), Piix3IsaBridge.PirqFor(5, 0)));
    }

    [Fact]
    public void PamWritesAreStoredAndReported()
    {
        var changed = new List<int>();
        _host.PamChanged += changed.Add;
        _ports.Write(0xCF8, 4, Address(0, 0, 0x58));
        _ports.Write(0xCFE, 1, 0x33);
        Assert.Equal([1], changed);
        Assert.Equal(0x33u, (ReadConfig(0, 0, 0x58) >> 16) & 0xFF);
        var segment = I440fxHostBridge.PamSegments[1];
        Assert.Equal(0xC0000u, segment.Start);
        Assert.Equal(PamAccess.ReadDram | PamAccess.WriteDram, _host.GetPamAccess(segment));
        Assert.Equal(PamAccess.None, _host.GetPamAccess(I440fxHostBridge.PamSegments[0]));
        Assert.Equal(0x02u, ReadConfig(0, 0, 0x70) >> 16 & 0xFF);
    }

    [Fact]
    public void PmBaseSizesLikeAnIoBarAndProgrammingItRaisesTheEvent()
    {
        var events = new List<(bool, ushort)>();
        _pm.PmIoChanged += (enabled, pmBase) => events.Add((enabled, pmBase));

        WriteConfig(1, 3, 0x40, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFC1u, ReadConfig(1, 3, 0x40));
        Assert.Empty(events);

        WriteConfig(1, 3, 0x40, 0xB001);
        Assert.Equal(0xB001u, ReadConfig(1, 3, 0x40));
        _ports.Write(0xCF8, 4, Address(1, 3, 0x80));
        _ports.Write(0xCFC, 1, 0x01);
        Assert.Equal([(true, (ushort)0xB000)], events);

        _ports.Write(0xCFC, 1, 0x00);
        Assert.Equal((false, (ushort)0xB000), events[^1]);
    }

    [Fact]
    public void MemoryBarSizingReturnsTheSizeMask()
    {
        var pci = new PciHost();
        pci.Attach(2, 0, new TestFunction());
        var ports = new PortBus(new UnassignedAccessLog());
        ports.Register(PciHost.BasePort, PciHost.PortCount, pci);
        ports.Write(0xCF8, 4, Address(2, 0, 0x10));
        ports.Write(0xCFC, 4, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_0008u, ports.Read(0xCFC, 4));
        ports.Write(0xCFC, 4, 0xFEBF_1234);
        Assert.Equal(0xFEBF_0008u, ports.Read(0xCFC, 4));
    }

    [Fact]
    public void ReadOnlyRegistersIgnoreWrites()
    {
        WriteConfig(0, 0, 0x00, 0x1234_5678);
        Assert.Equal(0x1237_8086u, ReadConfig(0, 0, 0x00));
    }

    private static uint Address(int device, int function, int register) =>
        0x8000_0000u | ((uint)device << 11) | ((uint)function << 8) | (uint)register;

    private uint ReadConfig(int device, int function, int register)
    {
        _ports.Write(0xCF8, 4, Address(device, function, register));
        return _ports.Read(0xCFC, 4);
    }

    private void WriteConfig(int device, int function, int register, uint value)
    {
        _ports.Write(0xCF8, 4, Address(device, function, register));
        _ports.Write(0xCFC, 4, value);
    }

    private sealed class TestFunction : PciFunction
    {
        public TestFunction()
            : base("test", 0x1234, 0x1111, 0, 0x030000, 0)
        {
            DefineBar(FirstBarOffset, 0x10000, BarPrefetchable);
        }
    }
}
