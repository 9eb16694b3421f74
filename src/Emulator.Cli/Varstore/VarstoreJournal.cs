using System.Buffers.Binary;
using System.Numerics;

namespace Emulator.Cli.Varstore;

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
/// </summary>
public static class VarstoreJournal
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
    /// or belongs to a file of another size, is reported as <see cref="JournalScan.Foreign"/>.
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

        int at = HeaderSize;
        long records = 0;
        long bytes = 0;
        while (true)
        {
            var rest = journal[at..];
            if (rest.Length < RecordHeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(rest) != RecordMagic)
            {
                break;
            }

            int n = BinaryPrimitives.ReadInt32LittleEndian(rest[4..]);
            ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(rest[8..]);
            long offset = BinaryPrimitives.ReadInt64LittleEndian(rest[16..]);
            if (n <= 0 || n > rest.Length - RecordHeaderSize || offset < 0 || offset > fileLength - n
                || sequence != (ulong)records + 1
                || BinaryPrimitives.ReadUInt32LittleEndian(rest[RecordCrcOffset..]) != RecordCrc(epoch, rest, n))
            {
                break;
            }

            if (!target.IsEmpty)
            {
                rest.Slice(RecordHeaderSize, n).CopyTo(target.Slice((int)offset, n));
            }

            records++;
            bytes += n;
            at += RecordHeaderSize + n;
        }

        return new JournalScan(records > 0 ? JournalState.Records : JournalState.Empty, epoch, records, bytes, journal.Length - at, length);
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

public enum JournalState
{
    /// <summary>No complete record (a fresh, checkpointed or half-created journal).</summary>
    Empty,

    /// <summary>At least one complete, valid record.</summary>
    Records,

    /// <summary>Not an emu journal for this file (another format, or written for a file of another size).</summary>
    Foreign,
}

/// <summary>What a journal held: its epoch, the complete records (count and data bytes) and the torn tail discarded.</summary>
public readonly record struct JournalScan(JournalState State, ulong Epoch, long Records, long DataBytes, long TornBytes, long FileLength);
