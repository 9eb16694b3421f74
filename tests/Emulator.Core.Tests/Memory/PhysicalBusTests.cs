using Emulator.Core.Memory;
using Emulator.Core.Tests.Support;

namespace Emulator.Core.Tests.Memory;

/// <summary>
/// The physical address space on its own: RAM, ROM, ROM-device and MMIO regions mapped by page,
/// unassigned space (all-ones like real hardware, or zero like QEMU's unassigned_mem_read when
/// asked), accesses that run past a region's end split into bytes at the boundary, refused maps,
/// regions above and across 4 GiB, and the code-page bookkeeping the CPU's decoded-code caches
/// rely on (writes into a page holding code are reported; direct write pointers withheld).
/// </summary>
[Trait("Category", "Unit")]
public sealed unsafe class PhysicalBusTests : IDisposable
{
    private const ulong Page = PhysicalBus.PageSize;
    private readonly PhysicalBus _bus = new();

    public void Dispose() => _bus.Dispose();

    [Fact]
    public void RamKeepsWhatIsWrittenLittleEndianAtEverySize()
    {
        var ram = _bus.MapRam("ram", 0x10000, 2 * Page, _bus.Allocate(2 * Page));
        _bus.Write(0x10100, 8, 0x1122_3344_5566_7788);
        _bus.Write(0x10200, 4, 0xCAFE_BABE);
        _bus.Write(0x10300, 2, 0xBEEF);
        _bus.Write(0x10400, 1, 0x5A);

        Assert.Equal(0x1122_3344_5566_7788UL, _bus.Read(0x10100, 8));
        Assert.Equal(0x88UL, _bus.Read(0x10100, 1));
        Assert.Equal(0x5566_7788UL, _bus.Read(0x10100, 4));
        Assert.Equal(0x3344UL, _bus.Read(0x10104, 2));
        Assert.Equal(0xCAFE_BABEUL, _bus.Read(0x10200, 4));
        Assert.Equal(0xBEEFUL, _bus.Read(0x10300, 2));
        Assert.Equal(0x5AUL, _bus.Read(0x10400, 1));
        Assert.Same(ram, _bus.Find(0x11FFF));
        Assert.Equal(RegionKind.Unassigned, _bus.Find(0x12000).Kind);
        Assert.Equal(RegionKind.Unassigned, _bus.Find(0xFFFF).Kind);
    }

    [Fact]
    public void RomReadsItsCopyOfTheContentsAndIgnoresWrites()
    {
        byte[] contents = new byte[Page];
        contents[0] = 0xEA;
        contents[1] = 0x5B;
        _bus.MapRom("rom", 0xF0000, contents);
        contents[0] = 0; // the bus keeps its own copy

        _bus.Write(0xF0000, 2, 0x1234);
        _bus.Write(0xF0001, 1, 0x00);

        Assert.Equal(0x5BEAUL, _bus.Read(0xF0000, 2));
        Assert.True(_bus.ReadPointer(0xF0000) != null);
        Assert.True(_bus.WritePointer(0xF0000) == null);
        Assert.Empty(_bus.Unassigned.Entries);
    }

    [Fact]
    public void MmioAccessesReachTheDeviceWithOffsetsFromTheRegionStart()
    {
        var device = new RecordingDevice("dev", readBase: 0x100);
        _bus.MapMmio("dev", 0xFED0_0000, Page, device);

        Assert.Equal(0x1F0UL, _bus.Read(0xFED0_00F0, 4));
        _bus.Write(0xFED0_0008, 8, 0xDEAD_BEEF_0000_0001);

        Assert.Equal([("r", 0xF0UL, 4, 0UL), ("w", 0x8UL, 8, 0xDEAD_BEEF_0000_0001UL)], device.Accesses);
        Assert.True(_bus.ReadPointer(0xFED0_0000) == null);
        Assert.True(_bus.WritePointer(0xFED0_0000) == null);
    }

    [Fact]
    public void ARomDeviceReadsItsArrayUntilItTakesReadsOverAndAlwaysGetsWrites()
    {
        byte* host = _bus.Allocate(Page);
        host[4] = 0x77;
        var device = new RecordingDevice("flash", readBase: 0x900);
        var region = _bus.MapRomDevice("flash", 0xFFC0_0000, Page, host, device);
        int changes = 0;
        _bus.MappingChanged += () => changes++;

        Assert.Equal(0x77UL, _bus.Read(0xFFC0_0004, 1));
        _bus.Write(0xFFC0_0004, 1, 0x98);
        Assert.Equal(0x77, host[4]);

        _bus.SetReadsDirect(region, false);
        _bus.SetReadsDirect(region, false);
        Assert.Equal(0x904UL, _bus.Read(0xFFC0_0004, 1));
        Assert.True(_bus.ReadPointer(0xFFC0_0000) == null);

        _bus.SetReadsDirect(region, true);
        Assert.Equal(0x77UL, _bus.Read(0xFFC0_0004, 1));
        Assert.Equal(2, changes);
        Assert.Equal([("w", 4UL, 1, 0x98UL), ("r", 4UL, 1, 0UL)], device.Accesses);
    }

    [Theory]
    [InlineData(1, 0xFFUL)]
    [InlineData(2, 0xFFFFUL)]
    [InlineData(4, 0xFFFF_FFFFUL)]
    [InlineData(8, ulong.MaxValue)]
    public void UnassignedMemoryReadsAllOnesOrZeroWhenAsked(int size, ulong allOnes)
    {
        Assert.Equal(allOnes, _bus.Read(0x5000_0000, size));
        _bus.UnassignedReadsZero = true;
        Assert.Equal(0UL, _bus.Read(0x5000_0000, size));
    }

    [Fact]
    public void UnassignedAccessesAreDroppedAndLoggedOncePerAddressWithTheFirstInstruction()
    {
        long instruction = 41;
        _bus.InstructionCounter = () => instruction++;
        _bus.Write(0x6000_0000, 4, 1);
        _bus.Write(0x6000_0000, 4, 2);
        _bus.Read(0x6000_0000, 2);
        _bus.Read(0x1_2000_0000, 8);

        var entries = _bus.Unassigned.Entries.OrderBy(e => e.Address).ThenBy(e => e.Write).ToList();
        Assert.Equal(3, entries.Count);
        Assert.Equal((UnassignedSpace.Memory, 0x6000_0000UL, 2, false, 43L, 1L), Describe(entries[0]));
        Assert.Equal((UnassignedSpace.Memory, 0x6000_0000UL, 4, true, 41L, 2L), Describe(entries[1]));
        Assert.Equal((UnassignedSpace.Memory, 0x1_2000_0000UL, 8, false, 44L, 1L), Describe(entries[2]));
        Assert.Equal(RegionKind.Unassigned, _bus.Find(0x6000_0000).Kind);
    }

    [Fact]
    public void AnAccessRunningFromRamIntoMmioIsSplitIntoBytesAtTheBoundary()
    {
        byte* ram = _bus.Allocate(Page);
        _bus.MapRam("ram", 0x1000, Page, ram);
        var device = new RecordingDevice("dev", readBase: 0xA0);
        _bus.MapMmio("dev", 0x2000, Page, device);
        ram[0xFFE] = 0x11;
        ram[0xFFF] = 0x22;

        Assert.Equal(0xA1A0_2211UL, _bus.Read(0x1FFE, 4));
        _bus.Write(0x1FFF, 2, 0xBBAA);

        Assert.Equal(0xAA, ram[0xFFF]);
        Assert.Equal(0x11, ram[0xFFE]);
        Assert.Equal([("r", 0UL, 1, 0UL), ("r", 1UL, 1, 0UL), ("w", 0UL, 1, 0xBBUL)], device.Accesses);
    }

    [Fact]
    public void AnAccessRunningFromRamIntoUnassignedSpaceReadsOnesForTheMissingBytes()
    {
        byte* ram = _bus.Allocate(Page);
        _bus.MapRam("ram", 0x1000, Page, ram);
        ram[0xFFF] = 0x42;

        Assert.Equal(0xFFFF_FF42UL, _bus.Read(0x1FFF, 4));
        _bus.Write(0x1FFF, 2, 0x9988);

        Assert.Equal(0x88, ram[0xFFF]);
        Assert.Equal([0x2000UL, 0x2001UL, 0x2002UL], _bus.Unassigned.Entries.Where(e => !e.Write).Select(e => e.Address).Order());
        Assert.Equal([0x2000UL], _bus.Unassigned.Entries.Where(e => e.Write).Select(e => e.Address));
        Assert.All(_bus.Unassigned.Entries, e => Assert.Equal(1, e.Size));
    }

    [Fact]
    public void AnOverlappingMapIsRefusedNamingBothRegionsAndChangesNothing()
    {
        var first = _bus.MapRam("low", 0x10000, 4 * Page, _bus.Allocate(4 * Page));
        int changes = 0;
        _bus.MappingChanged += () => changes++;

        var error = Assert.Throws<ArgumentException>(() => _bus.MapMmio("late", 0xE000, 3 * Page, new RecordingDevice()));

        Assert.Contains("late", error.Message);
        Assert.Contains("low", error.Message);
        Assert.Contains("0x10000", error.Message);
        Assert.Equal(0, changes);
        Assert.Equal(2, _bus.Regions.Count);
        Assert.Equal(RegionKind.Unassigned, _bus.Find(0xE000).Kind);
        Assert.Same(first, _bus.Find(0x10000));
    }

    [Theory]
    [InlineData(0x1800UL, 0x1000UL)]
    [InlineData(0x1000UL, 0x800UL)]
    [InlineData(0x1000UL, 0UL)]
    public void AMapThatIsNotWholePagesIsRefused(ulong start, ulong size)
    {
        Assert.Throws<ArgumentException>(() => _bus.MapMmio("odd", start, size, new RecordingDevice()));
        Assert.Single(_bus.Regions);
    }

    [Fact]
    public void RegionsAboveAndAcross4GiBAreFoundOnBothSides()
    {
        var across = _bus.MapMmio("across", 0xFFFF_F000, 2 * Page, new RecordingDevice("across", readBase: 0x50));
        Assert.Throws<ArgumentException>(() => _bus.MapRam("clash", 0x1_0000_0000, Page, _bus.Allocate(Page)));
        var above = _bus.MapRam("above", 0x2_0000_0000, Page, _bus.Allocate(Page));

        Assert.Same(across, _bus.Find(0xFFFF_F000));
        Assert.Same(across, _bus.Find(0x1_0000_0FFF));
        Assert.Same(above, _bus.Find(0x2_0000_0FFF));
        Assert.Equal(RegionKind.Unassigned, _bus.Find(0x1_0000_1000).Kind);
        Assert.Equal(RegionKind.Unassigned, _bus.Find(0x2_0000_1000).Kind);

        _bus.Write(0x2_0000_0010, 8, 0x0102_0304_0506_0708);
        Assert.Equal(0x0102_0304_0506_0708UL, _bus.Read(0x2_0000_0010, 8));
        Assert.Equal(0x50UL + 0x1008, _bus.Read(0x1_0000_0008, 2));
    }

    [Fact]
    public void WritesIntoACodePageAreReportedAndTakeTheSlowPath()
    {
        var region = _bus.MapRam("ram", 0, 4 * Page, _bus.Allocate(4 * Page));
        var written = new List<ulong>();
        _bus.CodePageWritten += written.Add;
        Assert.True(_bus.WritePointer(2 * Page) != null);

        _bus.MarkCodePage(2);
        _bus.MarkCodePage(2);
        Assert.True(_bus.IsCodePage(2));
        Assert.Equal(1, region.CodePages);
        Assert.True(_bus.WritePointer(2 * Page + 8) == null);
        Assert.True(_bus.ReadPointer(2 * Page + 8) != null);

        _bus.Write(Page + 0x10, 4, 1);            // page 1: no code
        _bus.Write(2 * Page + 0x10, 4, 2);        // page 2
        _bus.Write(2 * Page - 2, 4, 3);           // crosses from page 1 into page 2
        Assert.Equal([2UL, 2UL], written);
        Assert.Equal(3UL, _bus.Read(2 * Page - 2, 4));

        _bus.ClearCodePage(2);
        _bus.ClearCodePage(2);
        _bus.Write(2 * Page + 0x10, 4, 4);
        Assert.Equal(0, region.CodePages);
        Assert.Equal(2, written.Count);
        Assert.True(_bus.WritePointer(2 * Page) != null);
    }

    [Fact]
    public void NotifyWrittenReportsEveryCodePageTheRangeTouches()
    {
        var low = _bus.MapRam("low", 0, 8 * Page, _bus.Allocate(8 * Page));
        var high = _bus.MapRam("high", 0x1_0000_0000, Page, _bus.Allocate(Page));
        _bus.MarkCodePage(1);
        _bus.MarkCodePage(3);
        _bus.MarkCodePage(0x10_0000);
        var written = new List<ulong>();
        _bus.CodePageWritten += written.Add;

        _bus.NotifyWritten(Page - 1, 2 * Page + 2);   // pages 0..3
        _bus.NotifyWritten(5 * Page, 0);
        _bus.NotifyWritten(0x1_0000_0FFF, 1);

        Assert.Equal([1UL, 3UL, 0x10_0000UL], written);
        Assert.Equal(2, low.CodePages);
        Assert.Equal(1, high.CodePages);
    }

    [Fact]
    public void BlocksAreCopiedAcrossRegionsByteByByte()
    {
        _bus.MapRam("a", 0x1000, Page, _bus.Allocate(Page));
        _bus.MapRam("b", 0x2000, Page, _bus.Allocate(Page));
        _bus.WriteBlock(0x1FFD, [1, 2, 3, 4, 5, 6]);

        var back = new byte[8];
        _bus.ReadBlock(0x1FFC, back);

        Assert.Equal(new byte[] { 0, 1, 2, 3, 4, 5, 6, 0 }, back);
        Assert.Equal(0x0006_0504UL, _bus.Read(0x2000, 4));
    }

    private static (UnassignedSpace, ulong, int, bool, long, long) Describe(UnassignedAccess e) =>
        (e.Space, e.Address, e.Size, e.Write, e.FirstInstruction, e.Count);
}
