using CsCheck;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Varstore;
using Emulator.Fuzz.Tests.Support;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// The varstore journal a boot keeps beside the VARS file (VarstoreJournal, VarstoreFile), damaged
/// as a crash, a bad disk or another program leaves it. Beyond "no unexpected exception", the
/// property that makes it crash-safe (docs/boot.md, "Varstore persistence"): whatever the damage,
/// what replay gives is the file with some prefix of the journal's genuine records applied — a
/// torn or damaged record ends the prefix, nothing is invented, reordered or lost before it — and
/// a journal that is not ours is refused with one line, both files left alone.
/// </summary>
public class JournalFuzzTests
{
    private const string Target = "journal";
    private const ulong Epoch = 7;

    private static readonly byte[] Store = Seeds.Fixture("OVMF_VARS.fd");

    /// <summary>The records of the seed journal, in order: what a boot that wrote variables appends.</summary>
    private static readonly (long Offset, byte[] Data)[] Writes = MakeWrites();

    private static readonly byte[] Journal = MakeJournal(Writes);

    /// <summary>Header fields and every record's header: where damage tests the validation.</summary>
    private static readonly int[] HotOffsets = RecordStarts().SelectMany(r => new[] { r, r + 4, r + 8, r + 16, r + 24 }).Prepend(16).Prepend(8).Prepend(0).ToArray();

    [Fact]
    public void MutatedJournalsReplayAPrefix() =>
        FuzzRun.Run($"{Target}-replay", Mutations.Of(Journal, HotOffsets), ReplayInMemory, _ => false);

    [Fact]
    public void GarbageJournals() =>
        FuzzRun.Run($"{Target}-garbage", GarbageAfterHeader(), ReplayInMemory, _ => false);

    /// <summary>The same damage through the files a boot opens: in place (recovery) and with --snapshot (memory only).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MutatedJournalFilesBesideTheStore(bool snapshot) =>
        CommandLineFuzz.RunCostly($"{Target}-file-{(snapshot ? "snapshot" : "persisted")}", 60, Mutations.Of(Journal, HotOffsets),
            journal => OpenBeside(journal, snapshot), e => e is UsageException);

    [Fact]
    public void SeedJournalReplaysEveryRecord()
    {
        var target = (byte[])Store.Clone();
        var scan = VarstoreJournal.Replay(Journal, Store.Length, target);
        Assert.Equal((JournalState.Records, Writes.Length, 0L), (scan.State, scan.Records, scan.TornBytes));
        Assert.Equal(Expected(Writes.Length), target);
    }

    /// <summary>Random bytes, alone or after a valid header (so they are read as records).</summary>
    private static Gen<byte[]> GarbageAfterHeader() =>
        Gen.OneOf(Mutations.Garbage(256), Mutations.Garbage(200).Select(tail => Journal[..VarstoreJournal.HeaderSize].Concat(tail).ToArray()));

    private static void ReplayInMemory(byte[] journal)
    {
        var target = (byte[])Store.Clone();
        var scan = VarstoreJournal.Replay(journal, Store.Length, target);
        AssertPrefix(scan, target, journal.Length);
    }

    private static void OpenBeside(byte[] journal, bool snapshot)
    {
        using var dir = new CliProperties.ScratchDirectory();
        string vars = dir.File("VARS.fd");
        File.WriteAllBytes(vars, Store);
        File.WriteAllBytes(VarstoreJournal.PathFor(vars), journal);
        string? before = CliProperties.Digest(vars), journalBefore = CliProperties.Digest(VarstoreJournal.PathFor(vars));
        JournalScan recovered;
        byte[] replayed;
        try
        {
            using (var file = VarstoreFile.Open("vars", vars, snapshot))
            {
                (recovered, replayed) = (file.Recovered, file.Bytes);
            }

            AssertPrefix(recovered, replayed, journal.Length);
            if (snapshot)
            {
                CliProperties.AssertUnchanged(vars, before);
                CliProperties.AssertUnchanged(VarstoreJournal.PathFor(vars), journalBefore);
            }
            else if (!File.ReadAllBytes(vars).AsSpan().SequenceEqual(replayed))
            {
                throw new FuzzFailure($"recovery in place left the file different from the {recovered.Records} records replayed in memory");
            }
        }
        catch (UsageException)
        {
            // Refused: both files must be exactly as they were.
            CliProperties.AssertUnchanged(vars, before);
            CliProperties.AssertUnchanged(VarstoreJournal.PathFor(vars), journalBefore);
            throw;
        }
    }

    /// <summary>The replayed bytes are the store with the first <c>scan.Records</c> genuine writes: never anything else.</summary>
    private static void AssertPrefix(JournalScan scan, byte[] replayed, int journalLength)
    {
        long records = scan.State == JournalState.Records ? scan.Records : 0;
        if (records > Writes.Length || !replayed.AsSpan().SequenceEqual(Expected((int)records)))
        {
            throw new FuzzFailure($"replay gave bytes that are not the store with a prefix of the journal's records ({scan})");
        }

        if (scan.State == JournalState.Records && (scan.TornBytes < 0 || scan.TornBytes > journalLength))
        {
            throw new FuzzFailure($"torn tail of {scan.TornBytes} bytes in a {journalLength}-byte journal");
        }
    }

    private static byte[] Expected(int records)
    {
        var bytes = (byte[])Store.Clone();
        foreach (var (offset, data) in Writes.Take(records))
        {
            data.CopyTo(bytes, offset);
        }

        return bytes;
    }

    /// <summary>
    /// Writes like OVMF's variable driver makes to add a variable: a header, a name, data, then the
    /// State byte programmed twice (VAR_HEADER_VALID_ONLY, VAR_ADDED), and one coalesced run; some
    /// overlap, so order matters. Fixed values: the seed is the same on every run.
    /// </summary>
    private static (long, byte[])[] MakeWrites()
    {
        var random = new Random(15);
        var writes = new List<(long, byte[])>();
        long at = 0x2000;
        for (int v = 0; v < 6; v++)
        {
            foreach (int length in new[] { 60, 2 * random.Next(4, 20), random.Next(1, 80), 1, 1 })
            {
                byte[] data = new byte[length];
                random.NextBytes(data);
                writes.Add((length == 1 ? at - 1 : at, data));
                at += length == 1 ? 0 : length;
            }
        }

        byte[] run = new byte[1500];
        random.NextBytes(run);
        writes.Add((0x2000 + 100, run));
        return [.. writes];
    }

    private static byte[] MakeJournal((long Offset, byte[] Data)[] writes)
    {
        var journal = new byte[VarstoreJournal.HeaderSize + writes.Sum(w => VarstoreJournal.RecordHeaderSize + w.Data.Length)];
        VarstoreJournal.WriteHeader(journal, Epoch, Store.Length);
        int at = VarstoreJournal.HeaderSize;
        ulong sequence = 0;
        foreach (var (offset, data) in writes)
        {
            data.CopyTo(journal, at + VarstoreJournal.RecordHeaderSize);
            VarstoreJournal.SealRecord(journal.AsSpan(at), Epoch, ++sequence, offset, data.Length);
            at += VarstoreJournal.RecordHeaderSize + data.Length;
        }

        return journal;
    }

    private static IEnumerable<int> RecordStarts()
    {
        int at = VarstoreJournal.HeaderSize;
        foreach (var (_, data) in Writes)
        {
            yield return at;
            at += VarstoreJournal.RecordHeaderSize + data.Length;
        }
    }
}
