using System.Buffers.Binary;
using System.IO.Compression;
using Emulator.Core.Storage;

namespace Emulator.Storage.Qcow2;

/// <summary>
/// One qcow2 file of a chain, read-only: the guest offset goes through the L1 and L2 tables
/// (QEMU 7.2 docs/interop/qcow2.txt, "Cluster mapping") to a host cluster, a compressed cluster,
/// zeros, or the backing image below (null: zeros). Every table is checked when it is loaded —
/// entries cluster-aligned and inside the file — and every L2 table once at open, so a damaged
/// image is refused before the guest runs; a table that changes afterwards and fails the check
/// is a guest-visible I/O error, as QEMU marks the image corrupt and fails the request
/// (qcow2.c qcow2_signal_corruption).
/// </summary>
internal sealed class Qcow2Layer : IBlockBackend
{
    // L1E_OFFSET_MASK / L2E_OFFSET_MASK (qcow2.h): bits 9–55.
    private const ulong OffsetMask = 0x00FF_FFFF_FFFF_FE00UL;
    private const ulong CompressedFlag = 1UL << 62;
    private const ulong ZeroFlag = 1UL;

    // Each image of a chain caches at most this many bytes of L2 tables (at least one table).
    private const long L2CacheBudget = 2L << 20;

    private readonly FileStream _file;
    private readonly string _what;
    private readonly long _fileLength;
    private readonly ulong[] _l1;
    private readonly L2TableCache _l2Cache = new(L2CacheBudget);
    private readonly IBlockBackend? _backing;

    // The last compressed cluster inflated (QEMU keeps one too: s->cluster_cache).
    private long _inflatedAt = -1;
    private byte[]? _inflated;

    private Qcow2Layer(FileStream file, string what, Qcow2Header header, ulong[] l1, IBlockBackend? backing)
    {
        _file = file;
        _what = what;
        _fileLength = file.Length;
        Header = header;
        _l1 = l1;
        _backing = backing;
    }

    public Qcow2Header Header { get; }

    public long Length => Header.Size;

    public bool ReadOnly => true;

    /// <summary>The image below (a raw file or another qcow2 layer), or null.</summary>
    public IBlockBackend? Backing => _backing;

    /// <summary>
    /// Opens the qcow2 file <paramref name="path"/> read-only with its backing chain;
    /// <paramref name="openBacking"/> opens a backing file by name and format. Every L2 table is
    /// checked here. A refusal throws <see cref="StorageException"/>.
    /// </summary>
    public static Qcow2Layer Open(string path, Func<Qcow2Header, IBlockBackend?> openBacking)
    {
        string what = $"qcow2 image '{path}'";
        var file = ImageFile.Open(path, what, write: false);
        IBlockBackend? backing = null;
        try
        {
            var header = Qcow2Header.Read(file, what);
            ulong[] l1 = ReadTable(file, header.L1TableOffset, header.L1Size);
            backing = openBacking(header);
            var layer = new Qcow2Layer(file, what, header, l1, backing);
            layer.CheckEveryTable();
            return layer;
        }
        catch (Exception e) when (e is BlockBackendException or IOException)
        {
            backing?.Dispose();
            file.Dispose();
            throw new StorageException(e is BlockBackendException ? e.Message : $"{what} could not be read: {e.Message}", e);
        }
        catch
        {
            backing?.Dispose();
            file.Dispose();
            throw;
        }
    }

    public void Read(long offset, Span<byte> destination)
    {
        BlockRange.Check(Length, offset, destination.Length);
        int clusterSize = Header.ClusterSize;
        int done = 0;
        while (done < destination.Length)
        {
            long at = offset + done;
            int within = (int)(at & (clusterSize - 1));
            int n = Math.Min(clusterSize - within, destination.Length - done);
            ReadCluster(at >> Header.ClusterBits, within, destination.Slice(done, n));
            done += n;
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> source) => throw new BlockBackendException("the qcow2 image is read-only to emu");

    public void Flush()
    {
    }

    public void Dispose()
    {
        _file.Dispose();
        _backing?.Dispose();
    }

    private void ReadCluster(long cluster, int within, Span<byte> destination)
    {
        ulong entry = L2Entry(cluster);
        long guestOffset = (cluster << Header.ClusterBits) + within;
        if ((entry & CompressedFlag) != 0)
        {
            Inflated(entry).AsSpan(within, destination.Length).CopyTo(destination);
        }
        else if ((entry & ZeroFlag) != 0)
        {
            // v3 "reads as all zeros", neither the host cluster nor the backing file is read.
            destination.Clear();
        }
        else if ((long)(entry & OffsetMask) is var host and not 0)
        {
            ReadHost(host + within, destination);
        }
        else
        {
            ReadBacking(guestOffset, destination);
        }
    }

    /// <summary>An unallocated cluster: the backing image's bytes where it has them, zeros past its end or without one.</summary>
    private void ReadBacking(long offset, Span<byte> destination)
    {
        int fromBacking = _backing == null ? 0 : (int)Math.Clamp(_backing.Length - offset, 0, destination.Length);
        if (fromBacking > 0)
        {
            _backing!.Read(offset, destination[..fromBacking]);
        }

        destination[fromBacking..].Clear();
    }

    /// <summary>The L2 entry of a guest cluster (0, unallocated, when its L1 entry is).</summary>
    private ulong L2Entry(long cluster)
    {
        long l1Index = cluster / Header.L2Entries;
        long l2Offset = (long)(_l1[l1Index] & OffsetMask);
        return l2Offset == 0 ? 0 : _l2Cache.Get(l2Offset, LoadL2)[cluster % Header.L2Entries];
    }

    /// <summary>
    /// Every L1 entry the virtual disk uses and every entry of the L2 tables they name, checked once
    /// at open. Each distinct table is read once (L1 entries naming one table many times would
    /// otherwise make a small file cost terabytes of reads), so the scan reads at most the file.
    /// </summary>
    private void CheckEveryTable()
    {
        long used = Qcow2Header.L1EntriesFor(Length, Header.ClusterSize);
        var checkedTables = new HashSet<long>();
        for (long i = 0; i < used; i++)
        {
            if ((long)(_l1[i] & OffsetMask) is var l2 and not 0 && checkedTables.Add(l2))
            {
                LoadL2(l2);
            }
        }
    }

    /// <summary>Reads the L2 table at <paramref name="offset"/> and checks every entry against the header and the file.</summary>
    private ulong[] LoadL2(long offset)
    {
        if (offset % Header.ClusterSize != 0 || offset > _fileLength - Header.ClusterSize)
        {
            throw Corrupt($"an L2 table at {offset} is not cluster-aligned or lies beyond the end of the file ({_fileLength} bytes)");
        }

        ulong[] table = ReadTable(_file, offset, Header.L2Entries);
        for (int i = 0; i < table.Length; i++)
        {
            if (CheckL2Entry(table[i]) is { } problem)
            {
                throw Corrupt($"the L2 table at {offset}, entry {i} (0x{table[i]:x16}): {problem}");
            }
        }

        return table;
    }

    /// <summary>What is wrong with an L2 entry, or null (qcow2.txt "Standard/Compressed Cluster Descriptor").</summary>
    private string? CheckL2Entry(ulong entry)
    {
        if ((entry & CompressedFlag) != 0)
        {
            long hostOffset = (long)CompressedDescriptor(entry).Offset;
            return hostOffset >= _fileLength ? "a compressed cluster beyond the end of the file" : null;
        }

        if ((entry & ZeroFlag) != 0 && Header.Version < 3)
        {
            // qcow2.c qcow2_get_host_offset: "Zero cluster entry found in pre-v3 image".
            return "a zero-cluster flag in a version 2 image";
        }

        long host = (long)(entry & OffsetMask);
        return host % Header.ClusterSize != 0 ? "a data cluster offset that is not cluster-aligned"
            : host >= _fileLength ? "a data cluster beyond the end of the file"
            : null;
    }

    /// <summary>
    /// A compressed cluster descriptor (x = 62 − (cluster_bits − 8)): the host offset in bits 0..x−1,
    /// the number of additional 512-byte sectors in bits x..61; the data runs from the offset to the
    /// end of its last sector (qcow2.c qcow2_parse_compressed_l2_entry).
    /// </summary>
    private (ulong Offset, int Length) CompressedDescriptor(ulong entry)
    {
        int shift = 62 - (Header.ClusterBits - 8);
        ulong offset = entry & ((1UL << shift) - 1);
        int sectors = (int)((entry >> shift) & ((1UL << (Header.ClusterBits - 8)) - 1)) + 1;
        return (offset, (sectors * 512) - (int)(offset & 511));
    }

    /// <summary>A compressed cluster inflated to a whole cluster (the last one is kept: the guest reads a cluster in several requests).</summary>
    private byte[] Inflated(ulong entry)
    {
        var (offset, length) = CompressedDescriptor(entry);
        if ((long)offset == _inflatedAt && _inflated != null)
        {
            return _inflated;
        }

        // The last sector may run past the end of the file; QEMU reads that as zeros (block/io.c),
        // which cannot complete a deflate or zstd stream: only the bytes in the file are read.
        byte[] compressed = new byte[Math.Min(length, _fileLength - (long)offset)];
        ReadHost((long)offset, compressed);
        byte[] cluster = _inflated ?? new byte[Header.ClusterSize];
        _inflatedAt = -1;
        try
        {
            using var input = new MemoryStream(compressed, writable: false);
            using Stream inflater = Header.Compression == Qcow2Compression.Zstd
                ? new SharpCompress.Compressors.ZStandard.DecompressionStream(input)
                : new DeflateStream(input, CompressionMode.Decompress);
            // Decompression stops when a whole cluster is out, whatever follows (qcow2-threads.c).
            inflater.ReadExactly(cluster);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or SharpCompress.Common.SharpCompressException)
        {
            throw Corrupt($"the compressed cluster at {offset} ({length} bytes) does not decompress to a {Header.ClusterSize}-byte cluster ({e.Message.Split('\n')[0].TrimEnd('.')})");
        }

        _inflated = cluster;
        _inflatedAt = (long)offset;
        return cluster;
    }

    /// <summary>Reads image file bytes; bytes past the end of the file read as zeros, as QEMU's block layer reads them (block/io.c bdrv_aligned_preadv).</summary>
    private void ReadHost(long offset, Span<byte> destination)
    {
        int inFile = (int)Math.Clamp(_fileLength - offset, 0, destination.Length);
        HostRead.Exactly(_file.SafeFileHandle, offset, destination[..inFile], $"qcow2 image file '{_file.Name}'");
        destination[inFile..].Clear();
    }

    private BlockBackendException Corrupt(string problem) => new($"{_what} is damaged: {problem}");

    /// <summary>A table of big-endian 64-bit entries (the caller checked that it lies inside the file).</summary>
    private static ulong[] ReadTable(FileStream file, long offset, int entries)
    {
        byte[] bytes = new byte[entries * 8L];
        HostRead.Exactly(file.SafeFileHandle, offset, bytes, $"qcow2 image file '{file.Name}'");
        ulong[] table = new ulong[entries];
        for (int i = 0; i < entries; i++)
        {
            table[i] = BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(i * 8));
        }

        return table;
    }
}
