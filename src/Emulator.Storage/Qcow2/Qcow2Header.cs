using System.Buffers.Binary;
using System.Text;

namespace Emulator.Storage.Qcow2;

/// <summary>What a compressed cluster's bytes are compressed with (header field compression_type).</summary>
public enum Qcow2Compression
{
    /// <summary>0: zlib's raw deflate (QEMU's qcow2-threads.c qcow2_zlib_decompress: inflateInit2 with window bits -12).</summary>
    Deflate,
    /// <summary>1: zstd frames (qcow2_zstd_decompress).</summary>
    Zstd,
}

/// <summary>
/// A qcow2 image header (QEMU 7.2 docs/interop/qcow2.txt, "Header" and "Header extensions"),
/// checked the way QEMU's qcow2.c qcow2_do_open checks it before it reads a table, plus every
/// offset against the file's length. Everything emu cannot read correctly is refused here, with
/// the rule in the message: encryption, external data files, extended L2 entries, the corrupt
/// bit, unknown incompatible features, an unknown compression type.
/// </summary>
public sealed record Qcow2Header
{
    /// <summary>"QFI\xfb", bytes 0–3.</summary>
    public static ReadOnlySpan<byte> Magic => [(byte)'Q', (byte)'F', (byte)'I', 0xFB];

    /// <summary>The version 2 header's length; version 3 headers are at least 104 bytes.</summary>
    public const int Version2Length = 72;

    private const int Version3MinimumLength = 104;

    // qcow2.h MIN_CLUSTER_BITS / MAX_CLUSTER_BITS: 512 B to 2 MiB, QEMU's implementation limit.
    private const int MinClusterBits = 9;
    private const int MaxClusterBits = 21;

    // qcow2.h QCOW_MAX_L1_SIZE: 32 MiB of L1 table, QEMU's limit ("Active L1 table too large").
    private const long MaxL1Bytes = 32L << 20;

    // The spec: "Must not be longer than 1023 bytes."
    private const int MaxBackingNameLength = 1023;

    // incompatible_features bits (qcow2.txt, bytes 72–79).
    private const ulong DirtyBit = 1UL << 0;
    private const ulong CorruptBit = 1UL << 1;
    private const ulong ExternalDataFileBit = 1UL << 2;
    private const ulong CompressionTypeBit = 1UL << 3;
    private const ulong ExtendedL2Bit = 1UL << 4;
    private const ulong KnownIncompatible = DirtyBit | CorruptBit | ExternalDataFileBit | CompressionTypeBit | ExtendedL2Bit;

    // Header extension types (qcow2.txt "Header extensions").
    private const uint EndOfExtensions = 0;
    private const uint BackingFormatExtension = 0xE2792ACA;
    private const uint FeatureNameTableExtension = 0x6803F857;

    public int Version { get; private init; }

    public int ClusterBits { get; private init; }

    public int ClusterSize => 1 << ClusterBits;

    /// <summary>The virtual disk's size in bytes (a whole number of 512-byte sectors).</summary>
    public long Size { get; private init; }

    public int L1Size { get; private init; }

    public long L1TableOffset { get; private init; }

    /// <summary>The backing file's name as stored (not resolved), or null.</summary>
    public string? BackingFile { get; private init; }

    /// <summary>The backing format extension's value ("raw", "qcow2"), or null when the image has none (the format is probed).</summary>
    public string? BackingFormat { get; private init; }

    public Qcow2Compression Compression { get; private init; }

    /// <summary>L2 entries per table: a cluster of 8-byte entries.</summary>
    public int L2Entries => ClusterSize / 8;

    /// <summary>The L1 entries a virtual disk of <paramref name="size"/> bytes uses (qcow2.c size_to_l1), without overflow for any positive size.</summary>
    public static long L1EntriesFor(long size, int clusterSize) => ((size - 1) / ((long)clusterSize * (clusterSize / 8))) + 1;

    /// <summary>Whether <paramref name="start"/> begins with the qcow2 magic (QEMU's qcow2_probe).</summary>
    public static bool HasMagic(ReadOnlySpan<byte> start) => start.Length >= 4 && start[..4].SequenceEqual(Magic);

    /// <summary>
    /// Parses the header at the start of <paramref name="file"/> (<paramref name="what"/> names the
    /// image in messages); a header emu cannot read throws <see cref="StorageException"/>.
    /// </summary>
    public static Qcow2Header Read(FileStream file, string what)
    {
        long fileLength = file.Length;
        // The fields emu reads end with compression_type at byte 104 (padded to 112).
        byte[] fixedPart = new byte[112];
        int got = RandomAccess.Read(file.SafeFileHandle, fixedPart, 0);
        if (got < Version2Length || !HasMagic(fixedPart))
        {
            throw new StorageException(got < 4 || !HasMagic(fixedPart) ? $"{what} is not a qcow2 image (no QFI\\xfb magic)" : $"{what} is truncated: its qcow2 header needs {Version2Length} bytes, the file has {got}");
        }

        ReadOnlySpan<byte> h = fixedPart;
        int version = (int)U32(h, 4);
        if (version is not (2 or 3))
        {
            throw new StorageException($"{what} is qcow2 version {version}; emu reads versions 2 and 3");
        }

        int headerLength = version == 2 ? Version2Length : (int)Math.Min(U32(h, 100), int.MaxValue);
        if (version == 3 && (got < Version3MinimumLength || headerLength < Version3MinimumLength || headerLength % 8 != 0))
        {
            throw new StorageException($"{what} is truncated or damaged: a qcow2 version 3 header is at least {Version3MinimumLength} bytes, a multiple of 8 (header_length {headerLength}, file {fileLength} bytes)");
        }

        uint clusterBits = U32(h, 20);
        if (clusterBits is < MinClusterBits or > MaxClusterBits)
        {
            throw new StorageException($"{what} has cluster_bits {clusterBits}; qcow2 allows {MinClusterBits} (512 B) to {MaxClusterBits} (2 MiB)");
        }

        int clusterSize = 1 << (int)clusterBits;
        if (headerLength > clusterSize || headerLength > fileLength)
        {
            throw new StorageException($"{what}'s qcow2 header ({headerLength} bytes) exceeds its first cluster or the file");
        }

        if (U32(h, 32) is var crypt and not 0)
        {
            throw new StorageException($"{what} is encrypted (qcow2 crypt_method {crypt}, {(crypt == 1 ? "AES" : crypt == 2 ? "LUKS" : "unknown")}); emu does not decrypt images: 'qemu-img convert' it to an unencrypted one");
        }

        ulong incompatible = version == 3 ? U64(h, 72) : 0;
        byte compression = version == 3 && headerLength > 104 && got > 104 ? h[104] : (byte)0;
        byte[] extensionArea = ReadExtensionArea(file, what, h, headerLength, clusterSize, fileLength);
        var (backingFormat, featureNames) = ReadExtensions(what, extensionArea, headerLength);
        CheckIncompatible(what, incompatible, compression, featureNames);

        long size = checked((long)Math.Min(U64(h, 24), long.MaxValue));
        if (size <= 0 || size % 512 != 0)
        {
            throw new StorageException($"{what} has a virtual size of {U64(h, 24)} bytes; emu needs a whole, non-zero number of 512-byte sectors");
        }

        uint l1Size = U32(h, 36);
        long l1Offset = (long)Math.Min(U64(h, 40), long.MaxValue);
        long l1Needed = L1EntriesFor(size, clusterSize);
        if ((long)l1Size * 8 > MaxL1Bytes)
        {
            throw new StorageException($"{what}'s L1 table of {l1Size} entries exceeds QEMU's 32 MiB limit");
        }

        if (l1Size < l1Needed)
        {
            throw new StorageException($"{what}'s L1 table ({l1Size} entries) is too small for its virtual size ({size} bytes needs {l1Needed})");
        }

        if (l1Offset == 0 || l1Offset % clusterSize != 0 || l1Offset > fileLength || (long)l1Size * 8 > fileLength - l1Offset)
        {
            throw new StorageException($"{what}'s L1 table ({l1Size} entries at {l1Offset}) is not cluster-aligned or lies beyond the end of the file ({fileLength} bytes)");
        }

        return new Qcow2Header
        {
            Version = version,
            ClusterBits = (int)clusterBits,
            Size = size,
            L1Size = (int)l1Size,
            L1TableOffset = l1Offset,
            BackingFile = ReadBackingName(file, what, h, clusterSize, fileLength),
            BackingFormat = backingFormat,
            Compression = compression == 1 ? Qcow2Compression.Zstd : Qcow2Compression.Deflate,
        };
    }

    /// <summary>qcow2_do_open's feature checks, in its words where it has them.</summary>
    private static void CheckIncompatible(string what, ulong incompatible, byte compressionType, Dictionary<int, string> featureNames)
    {
        if ((incompatible & ~KnownIncompatible) is var unknown and not 0)
        {
            var bits = Enumerable.Range(0, 64).Where(b => (unknown & (1UL << b)) != 0)
                .Select(b => featureNames.TryGetValue(b, out string? name) ? $"'{name}' (bit {b})" : $"bit {b}");
            throw new StorageException($"{what} uses qcow2 features emu does not know: {string.Join(", ", bits)}");
        }

        if ((incompatible & CorruptBit) != 0)
        {
            throw new StorageException($"{what} is marked corrupt (qcow2 corrupt bit): 'qemu-img check -r all' repairs it");
        }

        if ((incompatible & ExternalDataFileBit) != 0)
        {
            throw new StorageException($"{what} keeps its data in an external data file, which emu does not read");
        }

        if ((incompatible & ExtendedL2Bit) != 0)
        {
            throw new StorageException($"{what} uses extended L2 entries (subclusters), which emu does not read: 'qemu-img convert -O qcow2' without extended_l2=on rewrites it");
        }

        bool typeBit = (incompatible & CompressionTypeBit) != 0;
        if (typeBit != (compressionType != 0) || compressionType > 1)
        {
            throw new StorageException($"{what} has compression_type {compressionType} with the compression-type feature bit {(typeBit ? "set" : "clear")}; qcow2 knows 0 (zlib) and 1 (zstd), the bit set exactly when the type is not 0");
        }
    }

    /// <summary>The bytes from the header's end to the backing file name (or the end of the first cluster), where the extensions are.</summary>
    private static byte[] ReadExtensionArea(FileStream file, string what, ReadOnlySpan<byte> h, int headerLength, int clusterSize, long fileLength)
    {
        long backingOffset = (long)Math.Min(U64(h, 8), long.MaxValue);
        long end = Math.Min(backingOffset != 0 && backingOffset > headerLength ? backingOffset : clusterSize, fileLength);
        end = Math.Min(end, clusterSize);
        if (end <= headerLength)
        {
            return [];
        }

        byte[] area = new byte[end - headerLength];
        int got = RandomAccess.Read(file.SafeFileHandle, area, headerLength);
        if (got != area.Length)
        {
            throw new StorageException($"{what} could not be read at {headerLength}");
        }

        return area;
    }

    /// <summary>Walks the header extensions (type, length, data padded to 8): the backing format and the feature name table, the others skipped.</summary>
    private static (string? BackingFormat, Dictionary<int, string> FeatureNames) ReadExtensions(string what, ReadOnlySpan<byte> area, int headerLength)
    {
        string? backingFormat = null;
        var featureNames = new Dictionary<int, string>();
        int at = 0;
        while (at + 8 <= area.Length)
        {
            uint type = U32(area, at);
            uint length = U32(area, at + 4);
            if (type == EndOfExtensions)
            {
                break;
            }

            if (length > area.Length - at - 8)
            {
                throw new StorageException($"{what}'s qcow2 header extension 0x{type:x8} at {headerLength + at} ({length} bytes) runs past the header area");
            }

            var data = area.Slice(at + 8, (int)length);
            if (type == BackingFormatExtension)
            {
                backingFormat = Encoding.UTF8.GetString(data);
            }
            else if (type == FeatureNameTableExtension)
            {
                // 48-byte entries: type (0 = incompatible), bit number, name padded with zeros.
                for (int e = 0; e + 48 <= data.Length; e += 48)
                {
                    if (data[e] == 0)
                    {
                        featureNames[data[e + 1]] = Encoding.UTF8.GetString(data.Slice(e + 2, 46)).TrimEnd('\0');
                    }
                }
            }

            at += 8 + (int)((length + 7) & ~7u);
        }

        return (backingFormat, featureNames);
    }

    private static string? ReadBackingName(FileStream file, string what, ReadOnlySpan<byte> h, int clusterSize, long fileLength)
    {
        long offset = (long)Math.Min(U64(h, 8), long.MaxValue);
        if (offset == 0)
        {
            return null;
        }

        uint length = U32(h, 16);
        if (length == 0 || length > MaxBackingNameLength || offset > clusterSize - length || offset + length > fileLength)
        {
            throw new StorageException($"{what}'s backing file name ({length} bytes at {offset}) is empty, longer than {MaxBackingNameLength} bytes, or outside the first cluster");
        }

        byte[] name = new byte[length];
        if (RandomAccess.Read(file.SafeFileHandle, name, offset) != name.Length)
        {
            throw new StorageException($"{what} could not be read at {offset}");
        }

        if (Array.IndexOf(name, (byte)0) >= 0)
        {
            // QEMU would read the name as a C string, cut at the NUL; no file name holds one.
            throw new StorageException($"{what}'s backing file name holds a NUL byte");
        }

        return Encoding.UTF8.GetString(name);
    }

    private static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32BigEndian(b[at..]);

    private static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64BigEndian(b[at..]);
}
