using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Devices;

[Trait("Category", "Unit")]
public sealed class AcpiPmTests
{
    private const ushort Base = 0xB000;
    private readonly PortBus _ports = new(new UnassignedAccessLog());
    private readonly PmIoBlock _pm;
    private long _nanoseconds;

    public AcpiPmTests()
    {
        _pm = new PmIoBlock(() => _nanoseconds);
        _ports.Register(Base, PmIoBlock.PortCount, _pm);
    }

    [Fact]
    public void TimerAdvancesAt3579545HzOfVirtualTime()
    {
        Assert.Equal(0u, _ports.Read(Base + 8, 4));
        _nanoseconds = 1_000_000_000;
        Assert.Equal(3_579_545u, _ports.Read(Base + 8, 4));
        _nanoseconds = 1_000;
        Assert.Equal(3u, _ports.Read(Base + 8, 4));
    }

    [Fact]
    public void TimerWrapsAt24BitsAndSetsTimerStatus()
    {
        Assert.Equal(0u, _ports.Read(Base, 2) & PmIoBlock.StatusTimer);
        _nanoseconds = 5_000_000_000;
        uint ticks = (uint)(5L * 3_579_545);
        Assert.Equal(ticks & 0xFF_FFFF, _ports.Read(Base + 8, 4));
        Assert.True(ticks > 0xFF_FFFF);
        Assert.Equal((uint)PmIoBlock.StatusTimer, _ports.Read(Base, 2) & PmIoBlock.StatusTimer);
        _ports.Write(Base, 2, PmIoBlock.StatusTimer);
        Assert.Equal(0u, _ports.Read(Base, 2) & PmIoBlock.StatusTimer);
    }

    [Fact]
    public void ControlStoresSciEnAndSleepEnableRaisesTheEvent()
    {
        int requested = -1;
        _pm.SleepRequested += type => requested = type;
        _ports.Write(Base + 4, 2, 0x0001);
        Assert.Equal(1u, _ports.Read(Base + 4, 2));
        Assert.True(_pm.SciEnabled);
        Assert.Equal(-1, requested);
        _ports.Write(Base + 4, 2, 0x2001 | (5 << 10));
        Assert.Equal(5, requested);
        Assert.Equal(0x1401u, _ports.Read(Base + 4, 2));
    }

    [Fact]
    public void EnableIsStoredAndUndecodedOffsetsReadAllOnes()
    {
        _ports.Write(Base + 2, 2, 0x0121);
        Assert.Equal(0x0121u, _ports.Read(Base + 2, 2));

        // QEMU's "piix4-pm" container decodes +0..+5 and +8..+11 only; GPE0 lives at 0xAFE0.
        _ports.Write(Base + 0x0E, 2, 0x0003);
        Assert.Equal(0xFFFF_FFFFu, _ports.Read(Base + 0x0C, 4));
        Assert.Equal(0xFFFFu, _ports.Read(Base + 6, 2));
        Assert.Equal(0xFFu, _ports.Read(Base + PmIoBlock.PortCount - 1, 1));
        Assert.Equal(0u, _pm.Gpe0.Read(Gpe0Block.EnableOffset, 2));
    }

    [Fact]
    public void Gpe0EnableIsStoredPerByteAndStatusIsWriteOneToClear()
    {
        _ports.Register(Gpe0Block.BasePort, Gpe0Block.PortCount, _pm.Gpe0);
        _ports.Write(Gpe0Block.BasePort + Gpe0Block.EnableOffset, 1, 0x05);
        _ports.Write(Gpe0Block.BasePort + Gpe0Block.EnableOffset + 1, 1, 0x80);
        Assert.Equal(0x8005u, _ports.Read(Gpe0Block.BasePort + Gpe0Block.EnableOffset, 2));
        _ports.Write(Gpe0Block.BasePort, 4, 0x0000_FFFF);
        Assert.Equal(0x0000_0000u, _ports.Read(Gpe0Block.BasePort, 2));
        Assert.Equal(0u, _ports.Read(Gpe0Block.BasePort + Gpe0Block.EnableOffset, 2));
        Assert.False(_pm.Gpe0.SciPending);

        _ports.Write(Gpe0Block.BasePort + Gpe0Block.EnableOffset, 2, 0x0001);
        _pm.Reset();
        Assert.Equal(0u, _ports.Read(Gpe0Block.BasePort, 4));
    }

    [Fact]
    public void TimerOverflowWithEnableRaisesSciWhenSciEnIsSet()
    {
        var levels = new List<bool>();
        _pm.Sci.Connect("test", levels.Add);
        _ports.Write(Base + 4, 2, PmIoBlock.ControlSciEnable);
        _ports.Write(Base + 2, 2, PmIoBlock.EnableTimer);
        _nanoseconds = 3_000_000_000;
        _ports.Write(Base + 2, 2, PmIoBlock.EnableTimer);
        Assert.Equal([true], levels);
        _ports.Write(Base, 2, PmIoBlock.StatusTimer);
        Assert.Equal([true, false], levels);
    }
}
