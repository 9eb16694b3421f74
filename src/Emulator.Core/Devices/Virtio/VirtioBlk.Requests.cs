// virtio-blk requests (QEMU 7.2 hw/block/virtio-blk.c virtio_blk_handle_request and the handlers
// it calls): the part of VirtioBlk that reads a popped chain and answers it. See VirtioBlk.cs.
using System.Buffers.Binary;
using Emulator.Core.Storage;

namespace Emulator.Core.Devices.Virtio;

/// <summary>The requests of <see cref="VirtioBlk"/>.</summary>
public sealed partial class VirtioBlk
{
    public const uint RequestDiscard = 11;
    public const uint RequestWriteZeroes = 13;

    /// <summary>struct virtio_blk_discard_write_zeroes: sector, num_sectors, flags.</summary>
    private const int DiscardSegmentSize = 16;

    /// <summary>
    /// One request (virtio_blk_handle_request): the 16-byte header from the device-readable
    /// buffers, the status byte at the end of the last device-writable one; returns the used
    /// length, every device-writable byte. A chain without both parts breaks the device.
    /// </summary>
    private uint Execute(VirtQueueElement element)
    {
        if (element.Out.Count < 1 || element.In.Count < 1)
        {
            throw new VirtioGuestError("virtio-blk missing headers");
        }

        var header = new byte[RequestHeaderSize];
        if (Copy(element.Out, header, intoGuest: false) != RequestHeaderSize)
        {
            throw new VirtioGuestError("virtio-blk request outhdr too short");
        }

        var last = element.In[^1];
        uint inLength = (uint)element.In.Sum(b => (long)b.Length);
        var data = element.In.Take(element.In.Count - 1).Append(last with { Length = last.Length - 1 }).Where(b => b.Length > 0).ToList();
        uint type = BinaryPrimitives.ReadUInt32LittleEndian(header);
        ulong sector = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(8));
        byte status = (type & ~(RequestOut | RequestBarrier)) switch
        {
            RequestIn when (type & RequestOut) != 0 => Transfer(sector, SkipHeader(element.Out), write: true),
            RequestIn => Transfer(sector, data, write: false),
            RequestFlush & ~RequestOut => Flush(),
            RequestGetId => GetId(data),
            RequestDiscard & ~RequestOut or RequestWriteZeroes & ~RequestOut => DiscardOrWriteZeroes(type, element.Out),
            _ => StatusUnsupported,
        };
        _memory.Write(last.Address + last.Length - 1, 1, status);
        return inLength;
    }

    /// <summary>IN or OUT: the data buffers' bytes from or to the medium at <paramref name="sector"/>; IOERR for a bad range or a backend refusal.</summary>
    private byte Transfer(ulong sector, List<VirtBuffer> buffers, bool write)
    {
        long size = buffers.Sum(b => (long)b.Length);
        if (!RangeOk(sector, size))
        {
            return StatusIoError;
        }

        var bytes = new byte[size];
        long offset = (long)sector * SectorSize;
        try
        {
            if (write)
            {
                Copy(buffers, bytes, intoGuest: false);
                _backend.Write(offset, bytes);
            }
            else
            {
                _backend.Read(offset, bytes);
                Copy(buffers, bytes, intoGuest: true);
            }
        }
        catch (BlockBackendException)
        {
            return StatusIoError;
        }

        return StatusOk;
    }

    private byte Flush()
    {
        try
        {
            _backend.Flush();
            return StatusOk;
        }
        catch (Exception e) when (e is BlockBackendException or IOException)
        {
            return StatusIoError;
        }
    }

    /// <summary>GET_ID: the drive's serial with its NUL, at most 20 bytes; emu's drives have no serial (QEMU without serial=): one NUL byte.</summary>
    private byte GetId(List<VirtBuffer> buffers)
    {
        long room = Math.Min(buffers.Sum(b => (long)b.Length), IdBytes);
        Copy(buffers, new byte[Math.Min(1, room)], intoGuest: true);
        return StatusOk;
    }

    /// <summary>virtio_blk_sect_range_ok: whole sectors, at most QEMU's request limit, inside the medium.</summary>
    private bool RangeOk(ulong sector, long size)
    {
        ulong sectors = (ulong)size / SectorSize;
        ulong total = (ulong)_backend.Length / SectorSize;
        return sectors <= MaxRequestSectors && size % SectorSize == 0 && sector <= total && sectors <= total - sector;
    }

    /// <summary>The device-readable buffers after the 16-byte header (iov_discard_front).</summary>
    private static List<VirtBuffer> SkipHeader(IReadOnlyList<VirtBuffer> buffers)
    {
        var result = new List<VirtBuffer>();
        uint skip = RequestHeaderSize;
        foreach (var b in buffers)
        {
            uint drop = Math.Min(skip, b.Length);
            skip -= drop;
            if (b.Length > drop)
            {
                result.Add(new VirtBuffer(b.Address + drop, b.Length - drop));
            }
        }

        return result;
    }

    /// <summary>
    /// Copies between guest buffers, in order, and <paramref name="bytes"/> until either runs out
    /// (iov_to_buf, or iov_from_buf with <paramref name="intoGuest"/>); returns the bytes copied.
    /// </summary>
    private int Copy(IReadOnlyList<VirtBuffer> buffers, byte[] bytes, bool intoGuest)
    {
        int done = 0;
        foreach (var b in buffers)
        {
            if (done == bytes.Length)
            {
                break;
            }

            int n = (int)Math.Min(b.Length, (uint)(bytes.Length - done));
            if (intoGuest)
            {
                _memory.WriteBlock(b.Address, bytes.AsSpan(done, n));
            }
            else
            {
                _memory.ReadBlock(b.Address, bytes.AsSpan(done, n));
            }

            done += n;
        }

        return done;
    }

    /// <summary>
    /// DISCARD (11) and WRITE_ZEROES (13), virtio_blk_handle_request and
    /// virtio_blk_handle_discard_write_zeroes: UNSUPP without the OUT bit or with more than one
    /// 16-byte segment {sector, num_sectors, flags} after the header; a short segment breaks the
    /// device; IOERR beyond the limits or the medium; UNSUPP for unknown flags, or UNMAP on a
    /// discard. A discard changes nothing — QEMU's -drive default discard=ignore drops it
    /// (bdrv_co_pdiscard without BDRV_O_UNMAP) —; write-zeroes writes zeros.
    /// </summary>
    private byte DiscardOrWriteZeroes(uint type, IReadOnlyList<VirtBuffer> outBuffers)
    {
        const uint flagUnmap = 1;
        var segments = SkipHeader(outBuffers);
        if ((type & RequestOut) == 0 || segments.Sum(b => (long)b.Length) > DiscardSegmentSize)
        {
            return StatusUnsupported;
        }

        var segment = new byte[DiscardSegmentSize];
        if (Copy(segments, segment, intoGuest: false) != DiscardSegmentSize)
        {
            throw new VirtioGuestError("virtio-blk discard/write_zeroes header too short");
        }

        ulong sector = BinaryPrimitives.ReadUInt64LittleEndian(segment);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(segment.AsSpan(8));
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(segment.AsSpan(12));
        bool writeZeroes = (type & ~RequestBarrier) == RequestWriteZeroes;
        if (count > MaxRequestSectors || !RangeOk(sector, (long)count * SectorSize))
        {
            return StatusIoError;
        }

        if ((flags & ~flagUnmap) != 0 || (!writeZeroes && flags != 0))
        {
            return StatusUnsupported;
        }

        if (!writeZeroes)
        {
            return StatusOk;
        }

        try
        {
            var zeros = new byte[Math.Min((long)count * SectorSize, 1 << 20)];
            for (long done = 0; done < (long)count * SectorSize; done += zeros.Length)
            {
                int n = (int)Math.Min(zeros.Length, ((long)count * SectorSize) - done);
                _backend.Write(((long)sector * SectorSize) + done, zeros.AsSpan(0, n));
            }
        }
        catch (BlockBackendException)
        {
            return StatusIoError;
        }

        return StatusOk;
    }
}
