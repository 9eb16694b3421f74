using System.Diagnostics;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Varstore;
using Emulator.Core.Devices.CfiFlash;

namespace Emulator.Hosting.Bench;

/// <summary>
/// What persisting a measured run cost: the bytes that reached the file and how long it took to finish.
/// BytesPersisted: Data bytes written into the file in place (each also journaled and fsynced first).
/// DrainSeconds: From the end of the guest's (or kernel's) writes until the file was durable and the journal gone.
/// </summary>
internal sealed record FileCost(long BytesPersisted, double DrainSeconds, long Syncs, long JournalRecords);

/// <summary>
/// A scratch varstore file for the persisted figures: created erased in <see cref="Directory"/>,
/// written through the same <see cref="VarstoreFile"/> journal and <see cref="FlashPersistence"/>
/// writer as <c>boot --vars</c>, and deleted (with its journal) afterwards. The directory's file
/// system and disk bound the result: point <c>--file-dir</c> at the disk that will hold real
/// varstores.
/// </summary>
internal sealed class BenchVarstore : IDisposable
{
    private static readonly InputRole BenchRole = InputRole.Varstore("bench vars");

    private readonly string _path;
    private readonly VarstoreFile _file;
    private readonly FlashPersistence _persistence;

    public BenchVarstore(string directory, int size)
    {
        Directory = directory;
        _path = Path.Combine(directory, $"emu-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.fd");
        var erased = new byte[size];
        erased.AsSpan().Fill(0xFF);
        File.WriteAllBytes(_path, erased);
        _file = VarstoreFile.Open(BenchRole, _path, snapshot: false);
        _persistence = new FlashPersistence(_file);
    }

    public string Directory { get; }

    /// <summary>What the machine's vars chip must start from: the file's bytes.</summary>
    public byte[] Bytes => _file.Bytes;

    public void Attach(CfiFlash chip) => chip.AddListener(_persistence);

    /// <summary>
    /// Drains the writer and closes the file cleanly (fsync, journal deleted), then checks the
    /// file holds <paramref name="expected"/>: a persisted figure is only reported for bytes that
    /// really arrived.
    /// </summary>
    public FileCost Finish(ReadOnlySpan<byte> expected)
    {
        long start = Stopwatch.GetTimestamp();
        _persistence.Dispose();
        double drain = Stopwatch.GetElapsedTime(start).TotalSeconds;
        _file.Dispose(); // releases the run's exclusive lock, so the file can be read back
        if (_persistence.Failure is { } failure)
        {
            throw new InvalidOperationException($"persisting to {_path} failed: {failure.Message}");
        }

        if (!expected.SequenceEqual(InputFile.Read(BenchRole, _path)) || File.Exists(VarstoreJournal.PathFor(_path)))
        {
            throw new InvalidOperationException($"{_path} does not hold what the chip holds after a clean close");
        }

        return new FileCost(_persistence.BytesPersisted, drain, _persistence.Syncs, _persistence.JournalRecords);
    }

    public void Dispose()
    {
        _persistence.Dispose();
        _file.Dispose();
        File.Delete(_path);
        File.Delete(VarstoreJournal.PathFor(_path));
    }
}
