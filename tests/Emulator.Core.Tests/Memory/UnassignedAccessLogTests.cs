using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Memory;

/// <summary>
/// The log of accesses that hit nothing: one entry per (space, address, direction) holding the
/// first access's size and instruction and a count; full at <see cref="UnassignedAccessLog.MaxEntries"/>
/// distinct addresses, after which new addresses are only counted as dropped; saved and restored
/// whole with a machine snapshot.
/// </summary>
[Trait("Category", "Unit")]
public sealed class UnassignedAccessLogTests
{
    [Fact]
    public void EachSpaceAddressAndDirectionHasOneEntryKeepingTheFirstAccess()
    {
        var log = new UnassignedAccessLog();
        log.Record(UnassignedSpace.Memory, 0x80, 4, false, 10);
        log.Record(UnassignedSpace.Memory, 0x80, 1, false, 20);
        log.Record(UnassignedSpace.Memory, 0x80, 2, true, 30);
        log.Record(UnassignedSpace.Port, 0x80, 1, false, 40);

        var entries = log.Entries.Select(e => (e.Space, e.Address, e.Size, e.Write, e.FirstInstruction, e.Count)).ToList();
        Assert.Equal(
            [
                (UnassignedSpace.Memory, 0x80UL, 4, false, 10L, 2L),
                (UnassignedSpace.Memory, 0x80UL, 2, true, 30L, 1L),
                (UnassignedSpace.Port, 0x80UL, 1, false, 40L, 1L),
            ],
            entries);
        Assert.Equal(0, log.Dropped);
    }

    [Fact]
    public void AFullLogCountsNewAddressesAsDroppedButStillCountsKnownOnes()
    {
        var log = new UnassignedAccessLog();
        for (ulong a = 0; a < UnassignedAccessLog.MaxEntries; a++)
        {
            log.Record(UnassignedSpace.Port, a, 1, false, (long)a);
        }

        log.Record(UnassignedSpace.Port, 0xFFFF, 1, false, 99);
        log.Record(UnassignedSpace.Port, 0xFFFF, 1, false, 99);
        log.Record(UnassignedSpace.Port, 5, 1, false, 99);

        Assert.Equal(UnassignedAccessLog.MaxEntries, log.Entries.Count);
        Assert.Equal(2, log.Dropped);
        Assert.Equal(2, log.Entries.Single(e => e.Address == 5).Count);
        Assert.DoesNotContain(log.Entries, e => e.Address == 0xFFFF);
    }

    [Fact]
    public void ARestoredLogEqualsTheSavedOneAndCarriesOnCounting()
    {
        var log = new UnassignedAccessLog();
        log.Record(UnassignedSpace.Memory, 0xFEE0_0000, 4, true, 3);
        log.Record(UnassignedSpace.Memory, 0xFEE0_0000, 4, true, 8);
        log.Record(UnassignedSpace.Port, 0x402, 1, false, 5);
        var saved = log.SaveState();

        var restored = new UnassignedAccessLog();
        restored.Record(UnassignedSpace.Port, 0x1234, 1, false, 1); // replaced by the restore
        restored.RestoreState(saved);
        Assert.Equal(saved.Entries, restored.SaveState().Entries);
        Assert.Equal(saved.Dropped, restored.SaveState().Dropped);

        restored.Record(UnassignedSpace.Memory, 0xFEE0_0000, 4, true, 100);
        Assert.Equal(3, restored.Entries.Single(e => e.Address == 0xFEE0_0000).Count);
        Assert.Equal(3, restored.Entries.Single(e => e.Address == 0xFEE0_0000).FirstInstruction);
        Assert.DoesNotContain(restored.Entries, e => e.Address == 0x1234);
    }
}
