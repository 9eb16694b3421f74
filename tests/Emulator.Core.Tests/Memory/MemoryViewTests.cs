using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Memory;

/// <summary>
/// The bus's two views below 4 GiB (QEMU's "cpu-memory" and "cpu-smm" address spaces) and the
/// overlays a chipset switches on and off in them (PAM, SMRAM, TSEG): an enabled overlay hides
/// what lies below it in its views only, a later overlay wins over an earlier one, disabling
/// one uncovers the base map again, and every change tells TLBs to flush.
/// </summary>
[Trait("Category", "Unit")]
public sealed unsafe class MemoryViewTests : IDisposable
{
    private const ulong Page = PhysicalBus.PageSize;
    private const ulong RamSize = 16 * Page;
    private readonly PhysicalBus _bus = new();
    private readonly byte* _ram;

    public MemoryViewTests()
    {
        _ram = _bus.Allocate(RamSize);
        _bus.MapRam("ram", 0, RamSize, _ram);
    }

    public void Dispose() => _bus.Dispose();

    [Fact]
    public void BlackholeInTheNormalView_HidesRamOnlyOutsideSmm()
    {
        _bus.Write(4 * Page, 4, 0x1234_5678);
        var tseg = _bus.MapMmioOverlay("tseg-blackhole", 4 * Page, 2 * Page, PhysicalBus.Blackhole, MemoryView.Normal);
        Assert.Equal(0x1234_5678UL, _bus.Read(4 * Page, 4));

        _bus.SetEnabled(tseg, true);
        Assert.Equal(0xFFFF_FFFFUL, _bus.Read(4 * Page, 4));
        _bus.Write(4 * Page, 4, 0xDEAD);
        Assert.Equal(0x1234_5678u, *(uint*)(_ram + (4 * Page)));
        Assert.True(_bus.ReadPointer(4 * Page) == null);

        _bus.SmmView = true;
        Assert.Equal(0x1234_5678UL, _bus.Read(4 * Page, 4));
        _bus.Write(5 * Page, 1, 0x42);
        Assert.True(_bus.ReadPointer(5 * Page) == _ram + (5 * Page));

        _bus.SmmView = false;
        Assert.Equal(0xFFUL, _bus.Read(5 * Page, 1));
        _bus.SetEnabled(tseg, false);
        Assert.Equal(0x42UL, _bus.Read(5 * Page, 1));
        Assert.Equal(0x1234_5678UL, _bus.Read(4 * Page, 4));
    }

    [Fact]
    public void RamOverlayInTheSmmView_ShowsRamWhereTheNormalViewHasNothing()
    {
        var bus = new PhysicalBus();
        try
        {
            byte* ram = bus.Allocate(0x20000);
            var window = bus.MapRamOverlay("smram-low", 0xA0000, 0x20000, ram, MemoryView.Smm, enabled: true);
            Assert.Equal(RegionKind.Unassigned, bus.Find(0xA0000).Kind);
            bus.SmmView = true;
            Assert.Same(window, bus.Find(0xBFFFF));
            bus.Write(0xA0010, 2, 0xBEEF);
            Assert.Equal(0xBEEF, *(ushort*)(ram + 0x10));
        }
        finally
        {
            bus.Dispose();
        }
    }

    [Fact]
    public void ReadOnlyRamOverlay_ReadsRamAndDropsWrites()
    {
        _bus.Write(2 * Page, 1, 0x11);
        var rom = _bus.MapRamOverlay("pam-rom", 2 * Page, Page, _ram + (2 * Page), MemoryView.Both, readOnly: true, enabled: true);
        Assert.Equal(RegionKind.Rom, rom.Kind);
        _bus.Write(2 * Page, 1, 0x22);
        Assert.Equal(0x11UL, _bus.Read(2 * Page, 1));
        Assert.True(_bus.WritePointer(2 * Page) == null);
        _bus.SetEnabled(rom, false);
        _bus.Write(2 * Page, 1, 0x22);
        Assert.Equal(0x22UL, _bus.Read(2 * Page, 1));
    }

    [Fact]
    public void LaterOverlayWins_AndDisablingItUncoversTheEarlierOne()
    {
        _bus.Write(Page, 1, 0x5A);
        var first = _bus.MapMmioOverlay("first", Page, Page, PhysicalBus.Blackhole, MemoryView.Both, enabled: true);
        var second = _bus.MapRamOverlay("second", Page, Page, _ram + Page, MemoryView.Both, enabled: true);
        Assert.Same(second, _bus.Find(Page));
        Assert.Equal(0x5AUL, _bus.Read(Page, 1));
        _bus.SetEnabled(second, false);
        Assert.Same(first, _bus.Find(Page));
        Assert.Equal(0xFFUL, _bus.Read(Page, 1));
        _bus.SetEnabled(first, false);
        Assert.Equal("ram", _bus.Find(Page).Name);
    }

    [Fact]
    public void EveryChangeOfWhatAPageMapsTo_RaisesMappingChanged()
    {
        int changes = 0;
        _bus.MappingChanged += () => changes++;
        var o = _bus.MapMmioOverlay("o", Page, Page, PhysicalBus.Blackhole, MemoryView.Normal);
        _bus.SetEnabled(o, true);
        _bus.SetEnabled(o, true);
        _bus.SmmView = true;
        _bus.SmmView = true;
        _bus.SmmView = false;
        Assert.Equal(4, changes);
    }

    [Fact]
    public void BaseMapStillRefusesOverlaps_ButIgnoresOverlays()
    {
        _bus.MapMmioOverlay("o", 32 * Page, Page, PhysicalBus.Blackhole, MemoryView.Both, enabled: true);
        var region = _bus.MapRam("more", 32 * Page, Page, _bus.Allocate(Page));
        _bus.SmmView = true;
        Assert.Equal("o", _bus.Find(32 * Page).Name);
        Assert.Throws<ArgumentException>(() => _bus.MapRam("clash", 15 * Page, 2 * Page, _bus.Allocate(2 * Page)));
        Assert.Throws<ArgumentException>(() => _bus.SetEnabled(region, false));
        Assert.Throws<ArgumentException>(() => _bus.MapMmioOverlay("straddling", (1UL << 32) - Page, 2 * Page, PhysicalBus.Blackhole, MemoryView.Both));
    }

    /// <summary>A 64-bit BAR's window wholly above 4 GiB is an overlay there: found while enabled, in its views, the later one on top.</summary>
    [Fact]
    public void OverlaysAbove4GiBAreFoundWhileEnabled()
    {
        const ulong high = 0xE0_0000_0000;
        var lower = _bus.MapMmioOverlay("lower", high, 4 * Page, PhysicalBus.Blackhole, MemoryView.Both);
        var upper = _bus.MapMmioOverlay("upper", high, Page, PhysicalBus.Blackhole, MemoryView.Normal);
        Assert.Equal(RegionKind.Unassigned, _bus.Find(high).Kind);
        _bus.SetEnabled(lower, true);
        Assert.Equal("lower", _bus.Find(high + Page).Name);
        _bus.SetEnabled(upper, true);
        Assert.Equal("upper", _bus.Find(high).Name);
        Assert.Equal(0xFFFF_FFFFUL, _bus.Read(high, 4));
        _bus.SmmView = true;
        Assert.Equal("lower", _bus.Find(high).Name);
        _bus.SetEnabled(lower, false);
        Assert.Equal(RegionKind.Unassigned, _bus.Find(high).Kind);
    }
}
