using Emulator.Hosting.Varstore;
using Emulator.Tests.Shared;


namespace Emulator.Hosting.Tests.Varstore;

/// <summary>
/// The journal format on its own: complete records replay in order, a torn tail or a damaged
/// record ends the replay there, stale or out-of-sequence records never apply, replay is idempotent.
/// </summary>
[Trait("Category", "Unit")]
public class VarstoreJournalTests
{
    private const int FileLength = TestJournals.FileLength;

    private static byte[] Template() => Enumerable.Repeat((byte)0xFF, FileLength).ToArray();

    private static readonly (int, byte[])[] ThreeRecords = [(0, [1, 2, 3]), (2, [9, 9]), (60, [7, 7, 7, 7])];

    [Fact]
    public void CompleteRecordsApplyInOrder()
    {
        var target = Template();
        var scan = VarstoreJournal.Replay(TestJournals.Journal(5, ThreeRecords), FileLength, target);

        Assert.Equal(JournalState.Records, scan.State);
        Assert.Equal((5UL, 3L, 9L, 0L), (scan.Epoch, scan.Records, scan.DataBytes, scan.TornBytes));
        var expected = Template();
        expected[0] = 1;
        expected[1] = 2;
        expected[2] = 9; // the later record wins over the earlier one
        expected[3] = 9;
        expected.AsSpan(60).Fill(7);
        Assert.Equal(expected, target);
    }

    [Fact]
    public void EveryTornLengthAppliesExactlyTheCompleteRecords()
    {
        var journal = TestJournals.Journal(1, ThreeRecords);
        int[] recordEnds = [VarstoreJournal.HeaderSize + 31, VarstoreJournal.HeaderSize + 61, journal.Length];
        for (int length = 0; length <= journal.Length; length++)
        {
            var target = Template();
            var scan = VarstoreJournal.Replay(journal.AsSpan(0, length), FileLength, target);

            int complete = recordEnds.Count(end => end <= length);
            Assert.Equal(complete, scan.Records);
            Assert.Equal(complete > 0 ? JournalState.Records : JournalState.Empty, scan.State);
            var expected = Template();
            VarstoreJournal.Replay(journal.AsSpan(0, complete == 0 ? 0 : recordEnds[complete - 1]), FileLength, expected);
            Assert.Equal(expected, target);
            int applied = complete == 0 ? Math.Min(length, VarstoreJournal.HeaderSize) : recordEnds[complete - 1];
            Assert.Equal(length < VarstoreJournal.HeaderSize ? length : length - applied, scan.TornBytes);
        }
    }

    [Fact]
    public void EmptyAndHeaderOnlyJournalsChangeNothing()
    {
        foreach (var journal in new[] { Array.Empty<byte>(), TestJournals.Journal(3) })
        {
            var target = Template();
            var scan = VarstoreJournal.Replay(journal, FileLength, target);
            Assert.Equal(JournalState.Empty, scan.State);
            Assert.Equal(0, scan.Records);
            Assert.Equal(Template(), target);
        }
    }

    [Fact]
    public void AFlippedBitAnywhereInARecordEndsTheReplayBeforeIt()
    {
        var journal = TestJournals.Journal(1, ThreeRecords);
        int second = VarstoreJournal.HeaderSize + 31;
        for (int i = second; i < second + VarstoreJournal.RecordHeaderSize + 2; i++)
        {
            var damaged = (byte[])journal.Clone();
            damaged[i] ^= 0x10;
            var target = Template();
            var scan = VarstoreJournal.Replay(damaged, FileLength, target);

            Assert.Equal(1, scan.Records);
            Assert.Equal(journal.Length - second, scan.TornBytes);
            Assert.Equal(new byte[] { 1, 2, 3, 0xFF }, target[..4]);
            Assert.Equal(0xFF, target[60]);
        }
    }

    [Fact]
    public void ReplayIsIdempotent()
    {
        var journal = TestJournals.Journal(1, ThreeRecords);
        var once = Template();
        VarstoreJournal.Replay(journal, FileLength, once);
        var twice = (byte[])once.Clone();
        VarstoreJournal.Replay(journal, FileLength, twice);
        Assert.Equal(once, twice);

        // A file the crash left half updated ends the same as an untouched one.
        var partial = Template();
        partial[0] = 1;
        partial[60] = 7;
        VarstoreJournal.Replay(journal, FileLength, partial);
        Assert.Equal(once, partial);
    }

    [Fact]
    public void RecordsOfAnotherEpochNeverApply()
    {
        var stale = TestJournals.WithSequences(2, [(1, 0, [1])], recordEpoch: 1);
        var target = Template();
        Assert.Equal(0, VarstoreJournal.Replay(stale, FileLength, target).Records);
        Assert.Equal(Template(), target);
    }

    [Fact]
    public void ASequenceGapEndsTheReplay()
    {
        var gap = TestJournals.WithSequences(1, [(1, 0, [1]), (3, 1, [2]), (4, 2, [3])]);
        var target = Template();
        Assert.Equal(1, VarstoreJournal.Replay(gap, FileLength, target).Records);
        Assert.Equal(new byte[] { 1, 0xFF, 0xFF }, target[..3]);
    }

    [Fact]
    public void RecordsOutsideTheFileEndTheReplay()
    {
        var outside = TestJournals.Journal(1, (0, [1]), (FileLength - 1, [2, 2]));
        var target = Template();
        Assert.Equal(1, VarstoreJournal.Replay(outside, FileLength, target).Records);
        Assert.Equal(0xFF, target[FileLength - 1]);
    }

    [Fact]
    public void AJournalOfAnotherFileSizeOrFormatIsForeign()
    {
        Assert.Equal(JournalState.Foreign, VarstoreJournal.Replay(TestJournals.Journal(1, (0, [1])), FileLength * 2, Span<byte>.Empty).State);
        var other = TestJournals.Journal(1, (0, [1]));
        other[0] ^= 1;
        Assert.Equal(JournalState.Foreign, VarstoreJournal.Replay(other, FileLength, Span<byte>.Empty).State);
    }

    [Fact]
    public void ATornHeaderHoldsNoRecords()
    {
        var journal = TestJournals.Journal(1, (0, [1]));
        journal[9] ^= 1; // inside the epoch: the header's CRC no longer matches
        var target = Template();
        var scan = VarstoreJournal.Replay(journal, FileLength, target);
        Assert.Equal(JournalState.Empty, scan.State);
        Assert.Equal(Template(), target);
    }
}
