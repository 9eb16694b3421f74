using CsCheck;
using Emulator.Fuzz.Tests.Support;
using Emulator.Hosting.Varstore;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// The varstore journal a boot keeps beside the VARS file (VarstoreJournal, VarstoreFile), damaged
/// as a crash, a bad disk or another program leaves it. Beyond "no unexpected exception", the
/// property that makes it crash-safe (docs/boot.md, "Varstore persistence"): whatever the damage,
/// what replay gives is the file with some prefix of the journal's genuine records applied — a
/// torn or damaged record ends the prefix, nothing is invented, reordered or lost before it — and
/// a journal that is not ours is refused with one line, both files left alone.
/// </summary>
[Trait("Category", "Fuzz")]
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

    /// <summary>
    /// The same damage through the files, as the commands open them: <c>vars list</c>'s snapshot
    /// (replayed in memory, both files untouched) and a one-instruction <c>boot</c> that recovers in
    /// place and ends cleanly (the file holds the replayed bytes, the journal is gone), or either
    /// refuses the journal with one line and touches nothing.
    /// </summary>
    [Theory]
    [InlineData(false, 10)]
    [InlineData(true, 60)]
    public void MutatedJournalFilesBesideTheStore(bool snapshot, int iterations) =>
        CommandLineFuzz.RunCostly($"{Target}-file-{(snapshot ? "snapshot" : "persisted")}", iterations, Mutations.Of(Journal, HotOffsets),
            journal => OpenBeside(journal, snapshot), _ => false);

    [Fact]
    public void SeedJournalReplaysEveryRecord()
    {
        var target = (byte[])Store.Clone();
        var scan = VarstoreJournal.Replay(Journal, Store.Length, target);
        Assert.Equal((JournalState.Records, Writes.Length, 0L), (scan.State, scan.Records, scan.TornBytes));
        Assert.Equal(Expected(Writes.Length), target);
    }

    /// <summary>
    /// A bad record with valid ones more than a batch after it was durable when it went bad (the
    /// writer appends the next batch only after fsyncing this one): replaying the records before it
    /// would write older bytes over what the file received since, so the journal is refused with
    /// one line and neither file changes. Within one batch the same damage is a torn tail.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ADamagedRecordFollowedByLaterBatchesIsRefused(bool laterBatch)
    {
        int count = laterBatch ? 2 + (FlashPersistence.BatchBytes / 4096) : 8;
        var writes = Enumerable.Range(0, count).Select(i => ((long)(i % 16) * 4096, Enumerable.Repeat((byte)i, 4096).ToArray())).ToArray();
        byte[] journal = MakeJournal(writes);
        journal[VarstoreJournal.HeaderSize + VarstoreJournal.RecordHeaderSize + 5] ^= 0x40; // data of the first record

        var scan = VarstoreJournal.Replay(journal, Store.Length, Span<byte>.Empty);
        Assert.Equal((laterBatch ? JournalState.Damaged : JournalState.Empty, 0L), (scan.State, scan.Records));

        using var dir = new CliProperties.ScratchDirectory();
        string vars = dir.File("VARS.fd");
        File.WriteAllBytes(vars, Store);
        File.WriteAllBytes(VarstoreJournal.PathFor(vars), journal);
        using var stderr = new StringWriter();
        int status = Emulator.Cli.CommandDispatcher.Run(["vars", "list", vars], new MemoryStream(), stderr);
        Assert.Equal(laterBatch ? 2 : 0, status);
        Assert.Equal(laterBatch, stderr.ToString().Contains("is damaged at byte 32 with valid records after it", StringComparison.Ordinal));
        Assert.Equal(Store, File.ReadAllBytes(vars));
        Assert.Equal(journal, File.ReadAllBytes(VarstoreJournal.PathFor(vars)));
    }

    /// <summary>
    /// The search for valid records after a bad one checksums each candidate: a journal of
    /// nothing but record headers, each claiming the whole store, must not make it quadratic.
    /// </summary>
    [Fact]
    public void ForgedRecordHeadersAfterABadOneCostLinearTime()
    {
        byte[] journal = new byte[8 << 20];
        MakeJournal(Writes.Take(1).ToArray()).CopyTo(journal, 0);
        // Back to back, sequence 0 (out of order: the replay stops at the first), offset 0, CRC 0.
        int first = VarstoreJournal.HeaderSize + VarstoreJournal.RecordHeaderSize + Writes[0].Data.Length;
        for (int at = first; at + VarstoreJournal.RecordHeaderSize <= journal.Length; at += VarstoreJournal.RecordHeaderSize)
        {
            "VREC"u8.CopyTo(journal.AsSpan(at));
            BitConverter.TryWriteBytes(journal.AsSpan(at + 4), Store.Length);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        FuzzRun.Once($"{Target}-forged-headers", journal, ReplayInMemory, _ => false);

        // ~300,000 candidates of 128 KiB each would be 39 GB of CRC; the bounded search does 16 MiB.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"{clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Random bytes, alone or after a valid header (so they are read as records).</summary>
    private static Gen<byte[]> GarbageAfterHeader() =>
        Gen.OneOf(Mutations.Garbage(256), Mutations.Garbage(200).Select(tail => Journal[..VarstoreJournal.HeaderSize].Concat(tail).ToArray()));

    private static void ReplayInMemory(byte[] journal)
    {
        var target = (byte[])Store.Clone();
        var scan = VarstoreJournal.Replay(journal, Store.Length, target);
        int records = AssertPrefix(target);
        if (records != (scan.State == JournalState.Records ? scan.Records : 0) || scan.TornBytes < 0 || scan.TornBytes > journal.Length)
        {
            throw new FuzzFailure($"the scan does not describe what was replayed ({records} records): {scan}");
        }
    }

    private static void OpenBeside(byte[] journal, bool snapshot)
    {
        using var dir = new CliProperties.ScratchDirectory();
        string vars = dir.File("VARS.fd"), journalPath = VarstoreJournal.PathFor(dir.File("VARS.fd"));
        File.WriteAllBytes(vars, Store);
        File.WriteAllBytes(journalPath, journal);
        string? before = CliProperties.Digest(vars), journalBefore = CliProperties.Digest(journalPath);
        string[] args = snapshot
            ? ["vars", "list", vars, "--all", "--json"]
            : ["boot", "--code", CliProperties.FixturePath("OVMF_CODE.fd"), "--vars", vars, "--max-instructions", "1", "--memory", "32M", "--quiet", "--no-status"];
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int status = Emulator.Cli.CommandDispatcher.Run(args, stdout, stderr);
        CliProperties.AssertOneLineOnFailure(args, status, stderr.ToString());
        if (status == 2 || snapshot)
        {
            // Refused (or only read): both files exactly as they were.
            CliProperties.AssertUnchanged(vars, before);
            CliProperties.AssertUnchanged(journalPath, journalBefore);
            if (status == 2 && !stderr.ToString().Contains("journal", StringComparison.Ordinal))
            {
                throw new FuzzFailure($"refused for another reason than the journal: {stderr}");
            }

            return;
        }

        // Recovered in place and closed cleanly.
        AssertPrefix(File.ReadAllBytes(vars));
        if (File.Exists(journalPath))
        {
            throw new FuzzFailure($"the journal is still there after a clean end (status {status}): {stderr}");
        }
    }

    /// <summary>The replayed bytes are the store with the first k genuine writes, for some k: never anything else.</summary>
    private static int AssertPrefix(byte[] replayed)
    {
        for (int k = 0; k <= Writes.Length; k++)
        {
            if (replayed.AsSpan().SequenceEqual(Expected(k)))
            {
                return k;
            }
        }

        throw new FuzzFailure("replay gave bytes that are not the store with a prefix of the journal's records");
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
