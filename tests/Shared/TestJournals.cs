using Emulator.Hosting.Varstore;

namespace Emulator.Tests.Shared;

/// <summary>
/// Journals built record by record for a <see cref="FileLength"/>-byte varstore (the journal
/// format's tests in Emulator.Hosting.Tests, a leftover journal in Emulator.Boot.Tests). Compiled
/// into both projects.
/// </summary>
public static class TestJournals
{
    public const int FileLength = 64;

    /// <summary>A journal of epoch <paramref name="epoch"/> with one record per (offset, data).</summary>
    public static byte[] Journal(ulong epoch, params (int Offset, byte[] Data)[] records) =>
        WithSequences(epoch, records.Select((r, i) => ((ulong)i + 1, r.Offset, r.Data)).ToArray());

    public static byte[] WithSequences(ulong epoch, (ulong Sequence, int Offset, byte[] Data)[] records, ulong? recordEpoch = null)
    {
        var bytes = new byte[VarstoreJournal.HeaderSize + records.Sum(r => VarstoreJournal.RecordHeaderSize + r.Data.Length)];
        VarstoreJournal.WriteHeader(bytes, epoch, FileLength);
        int at = VarstoreJournal.HeaderSize;
        foreach (var (sequence, offset, data) in records)
        {
            data.CopyTo(bytes, at + VarstoreJournal.RecordHeaderSize);
            VarstoreJournal.SealRecord(bytes.AsSpan(at), recordEpoch ?? epoch, sequence, offset, data.Length);
            at += VarstoreJournal.RecordHeaderSize + data.Length;
        }

        return bytes;
    }
}
