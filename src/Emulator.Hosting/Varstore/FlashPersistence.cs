using System.Buffers.Binary;
using System.Diagnostics;
using Emulator.Core.Devices.CfiFlash;

namespace Emulator.Hosting.Varstore;

/// <summary>
/// Carries a chip's completed program and erase operations to its <see cref="VarstoreFile"/>.
///
/// The CPU thread (<see cref="Written"/>) only copies the new bytes into a preallocated ring
/// (<see cref="RingBytes"/>; no allocation, no lock, no system call per operation). A writer
/// thread wakes every <see cref="SyncInterval"/> (sooner when the ring is half full), and for
/// everything queued: appends journal records (adjacent operations coalesced into one record),
/// fsyncs the journal, then writes the same bytes into the file in place — the write-ahead rule,
/// so the file never holds an operation the durable journal lacks. When the journal passes
/// <see cref="CheckpointBytes"/> it checkpoints (<see cref="VarstoreFile.Checkpoint"/>).
/// <see cref="Dispose"/> drains the ring and closes the file cleanly: fsync, journal deleted.
///
/// Guarantees: killed at any instant (kill -9), the file plus its journal hold exactly some
/// prefix of the completed operations — records are validated and sequenced, and the file only
/// receives bytes whose records precede them in the journal. On a power loss, at most the
/// operations of the last <see cref="SyncInterval"/> plus one sync are lost — at most a ring and a
/// batch of them: the guest waits rather than let the ring run further ahead.
/// </summary>
internal sealed class FlashPersistence : IFlashWriteListener, IDisposable
{
    public static readonly TimeSpan SyncInterval = TimeSpan.FromMilliseconds(100);

    public const int RingBytes = 8 << 20;
    public const int BatchBytes = 1 << 20;
    public const long CheckpointBytes = 16L << 20;

    /// <summary>
    /// The longest journal this writer leaves: a checkpoint follows any <see cref="Persist"/> that
    /// ends past <see cref="CheckpointBytes"/>, and one Persist appends at most a ring of entries,
    /// each (8 bytes + data padded to 8 in the ring) becoming a record of 28 bytes + data: less than
    /// twice its ring bytes. A longer file beside a varstore was not written by emu.
    /// </summary>
    public const long MaxJournalLength = VarstoreJournal.HeaderSize + CheckpointBytes + 2L * RingBytes;

    /// <summary>Ring entry: offset u32, length u32, data, padded to 8 bytes; length <see cref="WrapMarker"/> = continue at 0.</summary>
    private const int EntryHeader = 8;
    private const uint WrapMarker = uint.MaxValue;

    private readonly VarstoreFile _file;
    private readonly byte[] _ring = new byte[RingBytes];
    private readonly byte[] _batch = new byte[BatchBytes];
    private readonly Thread _writer;
    private readonly AutoResetEvent _wake = new(false);
    private readonly ManualResetEventSlim _space = new(false);
    private long _head; // bytes ever queued: written by the CPU thread only
    private long _tail; // bytes ever persisted: written by the writer thread only
    private ulong _sequence;
    private volatile bool _stopping;
    private volatile bool _wakeRequested; // one wake-up per writer cycle: Set() is not free
    private volatile Exception? _failure;
    private bool _disposed;

    public FlashPersistence(VarstoreFile file)
    {
        if (file.Snapshot)
        {
            throw new ArgumentException("a snapshot is never written", nameof(file));
        }

        _file = file;
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "varstore writer" };
        _writer.Start();
    }

    public long Operations { get; private set; }

    /// <summary>Data bytes written to the file (after coalescing).</summary>
    public long BytesPersisted { get; private set; }

    public long JournalRecords { get; private set; }

    public long Syncs { get; private set; }

    public long Checkpoints { get; private set; }

    /// <summary>Times the guest waited for the writer because the ring was full.</summary>
    public long RingFullWaits { get; private set; }

    /// <summary>Why persistence stopped (disk full, I/O error), or null.</summary>
    public Exception? Failure => _failure;

    public void Written(CfiFlash chip, FlashWriteKind kind, ulong offset, int length)
    {
        if (_failure != null)
        {
            return;
        }

        Operations++;
        int need = (EntryHeader + length + 7) & ~7;
        long head = _head;
        int at = (int)(head % RingBytes);
        int wrap = RingBytes - at < need ? RingBytes - at : 0;
        while (head + wrap + need - Volatile.Read(ref _tail) > RingBytes)
        {
            // The writer is behind by a whole ring: wait for it rather than queue without bound.
            if (_failure != null)
            {
                return;
            }

            RingFullWaits++;
            _space.Reset();
            _wake.Set();
            if (head + wrap + need - Volatile.Read(ref _tail) > RingBytes)
            {
                _space.Wait(SyncInterval);
            }
        }

        if (wrap > 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_ring.AsSpan(at + 4), WrapMarker);
            at = 0;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_ring.AsSpan(at), (uint)offset);
        BinaryPrimitives.WriteUInt32LittleEndian(_ring.AsSpan(at + 4), (uint)length);
        if (length == 1)
        {
            // OVMF's byte program: a plain store beats a one-byte copy call.
            _ring[at + EntryHeader] = chip.Contents[(int)offset];
        }
        else
        {
            chip.Contents.Slice((int)offset, length).CopyTo(_ring.AsSpan(at + EntryHeader));
        }
        long queued = head + wrap + need;
        Volatile.Write(ref _head, queued);
        if (!_wakeRequested && queued - Volatile.Read(ref _tail) > RingBytes / 2)
        {
            _wakeRequested = true;
            _wake.Set();
        }
    }

    /// <summary>Drains everything queued and closes the file cleanly; throws if persistence failed.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stopping = true;
        _wake.Set();
        _writer.Join();
        _wake.Dispose();
        _space.Dispose();
        if (_failure == null)
        {
            try
            {
                _file.Close();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _file.KeepJournal = true;
                _failure = e;
            }
        }
    }

    private void WriterLoop()
    {
        try
        {
            while (true)
            {
                bool stopping = _stopping;
                if (!stopping)
                {
                    _wake.WaitOne(SyncInterval);
                }

                _wakeRequested = false;
                Persist(Volatile.Read(ref _head));
                if (stopping)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Disk full, I/O error, or a bug here: reported at the end of the run, never a host crash.
            _file.KeepJournal = true;
            _failure = e;
            _space.Set();
        }
    }

    /// <summary>Journals, syncs and applies every entry queued before <paramref name="head"/>, a batch at a time.</summary>
    private void Persist(long head)
    {
        long tail = _tail;
        while (tail < head)
        {
            tail = BuildBatch(tail, head, out int batchLength);

            // The batch holds its own copy: the guest may refill the ring while it is synced.
            Volatile.Write(ref _tail, tail);
            _space.Set();
            _file.AppendJournal(_batch.AsSpan(0, batchLength));
            _file.SyncJournal();
            Syncs++;
            ApplyBatch(batchLength);
        }

        if (_file.JournalLength > CheckpointBytes)
        {
            _file.Checkpoint();
            _sequence = 0;
            Checkpoints++;
        }
    }

    /// <summary>
    /// Turns ring entries from <paramref name="tail"/> into sealed journal records in the batch
    /// buffer, merging an entry that starts where the previous record ends (OVMF programs byte
    /// after byte); stops when the batch is full. Returns the ring position after the last entry taken.
    /// </summary>
    private long BuildBatch(long tail, long head, out int batchLength)
    {
        int length = 0;
        int record = -1; // start of the open record in _batch
        long recordOffset = 0;
        int recordLength = 0;
        while (tail < head)
        {
            int at = (int)(tail % RingBytes);
            uint n = BinaryPrimitives.ReadUInt32LittleEndian(_ring.AsSpan(at + 4));
            if (n == WrapMarker)
            {
                tail += RingBytes - at;
                continue;
            }

            long offset = BinaryPrimitives.ReadUInt32LittleEndian(_ring.AsSpan(at));
            var data = _ring.AsSpan(at + EntryHeader, (int)n);
            bool extend = record >= 0 && offset == recordOffset + recordLength;
            int room = BatchBytes - length - (extend ? 0 : VarstoreJournal.RecordHeaderSize);
            if (room < data.Length)
            {
                break;
            }

            if (!extend)
            {
                Seal(record, recordOffset, recordLength);
                record = length;
                recordOffset = offset;
                recordLength = 0;
                length += VarstoreJournal.RecordHeaderSize;
            }

            if (n == 1)
            {
                _batch[length] = data[0];
            }
            else
            {
                data.CopyTo(_batch.AsSpan(length));
            }

            length += data.Length;
            recordLength += data.Length;
            tail += (EntryHeader + n + 7) & ~7;
        }

        Seal(record, recordOffset, recordLength);
        batchLength = length;
        return tail;
    }

    private void Seal(int record, long offset, int length)
    {
        if (record >= 0)
        {
            VarstoreJournal.SealRecord(_batch.AsSpan(record), _file.Epoch, ++_sequence, offset, length);
            JournalRecords++;
        }
    }

    /// <summary>Writes the batch's records into the file, in order (they are already durable in the journal).</summary>
    private void ApplyBatch(int batchLength)
    {
        int at = 0;
        while (at < batchLength)
        {
            var r = _batch.AsSpan(at);
            int n = BinaryPrimitives.ReadInt32LittleEndian(r[4..]);
            long offset = BinaryPrimitives.ReadInt64LittleEndian(r[16..]);
            _file.WriteFile(offset, r.Slice(VarstoreJournal.RecordHeaderSize, n));
            BytesPersisted += n;
            at += VarstoreJournal.RecordHeaderSize + n;
        }

        Debug.Assert(at == batchLength, "records fill the batch exactly");
    }
}
