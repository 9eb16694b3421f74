using System.Buffers.Binary;
using System.Numerics;

namespace Emulator.Hosting.Varstore;

/// <summary>
/// The on-disk format of the write-ahead journal kept beside a persisted flash file
/// (<c>FILE.emu-journal</c>), and its validation. Physical redo records: each says "these bytes
/// now hold this data", so replaying a record twice, or over a partly applied file, gives the
/// same result (replay is idempotent).
///
/// <code>
/// header (32 bytes):  "EMUVJNL1" | epoch u64 | file length u64 | reserved u32 | crc32c u32 (of bytes 0..27)
/// record (28 + n):    "VREC" u32 | length u32 = n | sequence u64 | offset u64 | crc32c u32 | data[n]
/// </code>
/// All little-endian. A record's CRC-32C covers the header's epoch, its own first 24 bytes and its
/// data, so a record left over from an earlier epoch (the journal is truncated at every
/// checkpoint and restarted with the next epoch) can never pass for a current one. Sequences start
/// at 1 in every epoch and must follow each other: replay stops at the first record that is short,
/// fails its CRC, is out of sequence or out of bounds, and everything from there on is a torn tail.
///
/// A torn tail can only be the last append: the writer appends one batch (at most
/// <see cref="FlashPersistence.BatchBytes"/>), fsyncs it, writes its bytes into the file, and only
/// then appends the next. So a record that validates a whole batch or more beyond the first bad one
/// proves the bad one was durable and the file has received later records since: the journal was
/// damaged afterwards (a bad disk, another program), not torn. Replaying the records before the
/// damage would write older bytes over newer ones, so such a journal is
/// <see cref="JournalState.Damaged"/> and nothing of it is applied.
/// </summary>
internal static class VarstoreJournal
{
    public const string Suffix = ".emu-journal";
    public const int HeaderSize = 32;
    public const int RecordHeaderSize = 28;

    private const ulong HeaderMagic = 0x314C4E4A56554D45; // "EMUVJNL1"
    private const uint RecordMagic = 0x43455256; // "VREC"
    private const int HeaderCrcOffset = 28;
    private const int RecordCrcOffset = 24;

    public static string PathFor(string file) => file + Suffix;

    public static void WriteHeader(Span<byte> destination, ulong epoch, long fileLength)
    {
        var h = destination[..HeaderSize];
        h.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(h, HeaderMagic);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], epoch);
        BinaryPrimitives.WriteInt64LittleEndian(h[16..], fileLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[HeaderCrcOffset..], Crc(0, h[..HeaderCrcOffset]));
    }

    /// <summary>
    /// Writes a record header in front of <paramref name="length"/> data bytes already in place at
    /// <c>record[RecordHeaderSize..]</c>, and seals it with its CRC.
    /// </summary>
    public static void SealRecord(Span<byte> record, ulong epoch, ulong sequence, long offset, int length)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, RecordMagic);
        BinaryPrimitives.WriteInt32LittleEndian(record[4..], length);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(record[16..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(record[RecordCrcOffset..], RecordCrc(epoch, record, length));
    }

    /// <summary>
    /// Validates <paramref name="journal"/> against a file of <paramref name="fileLength"/> bytes
    /// and applies its complete records, in order, to <paramref name="target"/> (which may be
    /// empty to validate only). Never throws on bad content: a journal that is not one of ours,
    /// or belongs to a file of another size, is reported as <see cref="JournalState.Foreign"/>.
    /// </summary>
    public static JournalScan Replay(ReadOnlySpan<byte> journal, long fileLength, Span<byte> target)
    {
        if (journal.Length < HeaderSize)
        {
            // Created or reset but its header never completed: no record can follow it.
            return new JournalScan(JournalState.Empty, 0, 0, 0, journal.Length, 0);
        }

        var h = journal[..HeaderSize];
        if (BinaryPrimitives.ReadUInt64LittleEndian(h) != HeaderMagic)
        {
            return new JournalScan(JournalState.Foreign, 0, 0, 0, journal.Length, 0);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(h[HeaderCrcOffset..]) != Crc(0, h[..HeaderCrcOffset]))
        {
            // A header torn while it was being written: records are appended only after it is complete.
            return new JournalScan(JournalState.Empty, 0, 0, 0, journal.Length, 0);
        }

        ulong epoch = BinaryPrimitives.ReadUInt64LittleEndian(h[8..]);
        long length = BinaryPrimitives.ReadInt64LittleEndian(h[16..]);
        if (length != fileLength)
        {
            return new JournalScan(JournalState.Foreign, epoch, 0, 0, journal.Length, length);
        }

        int end = ApplyRecords(journal, epoch, fileLength, Span<byte>.Empty, out long records, out long bytes);
        if (end < journal.Length && ValidRecordFrom(journal, epoch, fileLength, (long)end + FlashPersistence.BatchBytes))
        {
            return new JournalScan(JournalState.Damaged, epoch, records, bytes, journal.Length - end, length);
        }

        if (!target.IsEmpty)
        {
            ApplyRecords(journal, epoch, fileLength, target, out _, out _);
        }

        return new JournalScan(records > 0 ? JournalState.Records : JournalState.Empty, epoch, records, bytes, journal.Length - end, length);
    }

    /// <summary>
    /// Walks the complete, valid records in sequence from the header on, copying each into
    /// <paramref name="target"/> unless it is empty; returns where the first record that is not
    /// one of them starts (the journal's length when there is none).
    /// </summary>
    private static int ApplyRecords(ReadOnlySpan<byte> journal, ulong epoch, long fileLength, Span<byte> target, out long records, out long bytes)
    {
        int at = HeaderSize;
        records = 0;
        bytes = 0;
        while (IsValidRecord(journal[at..], epoch, fileLength, (ulong)records + 1) is int n)
        {
            if (!target.IsEmpty)
            {
                journal.Slice(at + RecordHeaderSize, n).CopyTo(target.Slice((int)BinaryPrimitives.ReadInt64LittleEndian(journal[(at + 16)..]), n));
            }

            records++;
            bytes += n;
            at += RecordHeaderSize + n;
        }

        return at;
    }

    /// <summary>
    /// The data length of the record at the start of <paramref name="rest"/> when it is complete,
    /// inside the file, of this epoch (its CRC) and, unless <paramref name="sequence"/> is null,
    /// the expected one in sequence; null otherwise. Every field is checked before it is used.
    /// </summary>
    private static int? IsValidRecord(ReadOnlySpan<byte> rest, ulong epoch, long fileLength, ulong? sequence)
    {
        if (rest.Length < RecordHeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(rest) != RecordMagic)
        {
            return null;
        }

        int n = BinaryPrimitives.ReadInt32LittleEndian(rest[4..]);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(rest[16..]);
        bool valid = n > 0 && n <= rest.Length - RecordHeaderSize && offset >= 0 && offset <= fileLength - n
            && (sequence == null || BinaryPrimitives.ReadUInt64LittleEndian(rest[8..]) == sequence)
            && BinaryPrimitives.ReadUInt32LittleEndian(rest[RecordCrcOffset..]) == RecordCrc(epoch, rest, n);
        return valid ? n : null;
    }

    /// <summary>
    /// Whether a record of this epoch (any sequence) starts anywhere at or after <paramref name="from"/>.
    /// Each candidate costs a CRC over its data, so a journal of nothing but record headers could
    /// make the search quadratic: it checksums at most twice the journal's length, then gives up
    /// (and the journal is read as torn, as before this check existed) — damage from a bad disk
    /// leaves few false candidates, and a deliberately forged journal could forge valid records anyway.
    /// </summary>
    private static bool ValidRecordFrom(ReadOnlySpan<byte> journal, ulong epoch, long fileLength, long from)
    {
        ReadOnlySpan<byte> magic = [0x56, 0x52, 0x45, 0x43]; // "VREC"
        long budget = 2L * journal.Length;
        for (long at = from; at <= journal.Length - RecordHeaderSize && budget > 0;)
        {
            int found = journal[(int)at..].IndexOf(magic);
            if (found < 0)
            {
                return false;
            }

            at += found;
            if (IsValidRecord(journal[(int)at..], epoch, fileLength, sequence: null) != null)
            {
                return true;
            }

            // What IsValidRecord checksummed at most: only a length that fits the file gets that far.
            int n = BinaryPrimitives.ReadInt32LittleEndian(journal[((int)at + 4)..]);
            budget -= RecordHeaderSize + (n > 0 && n <= fileLength ? n : 0);
            at++;
        }

        return false;
    }

    private static uint RecordCrc(ulong epoch, ReadOnlySpan<byte> record, int length)
    {
        Span<byte> e = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(e, epoch);
        uint crc = Crc(0, e);
        crc = Crc(crc, record[..RecordCrcOffset]);
        return Crc(crc, record.Slice(RecordHeaderSize, length));
    }

    /// <summary>CRC-32C (Castagnoli), hardware-accelerated where the CPU has it.</summary>
    private static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, data[i]);
        }

        return crc;
    }
}

/// <summary>What a journal scan found.</summary>
public enum JournalState
{
    /// <summary>No complete record (a fresh, checkpointed or half-created journal).</summary>
    Empty,

    /// <summary>At least one complete, valid record.</summary>
    Records,

    /// <summary>Not an emu journal for this file (another format, or written for a file of another size).</summary>
    Foreign,

    /// <summary>Damaged after it was durable: valid records lie a batch or more beyond a bad one (see <see cref="VarstoreJournal"/>); nothing may be applied.</summary>
    Damaged,
}

/// <summary>What a journal held: its epoch, the complete records (count and data bytes) and the torn tail discarded (for <see cref="JournalState.Damaged"/>: the bytes from the first bad record on).</summary>
public readonly record struct JournalScan(JournalState State, ulong Epoch, long Records, long DataBytes, long TornBytes, long FileLength);
