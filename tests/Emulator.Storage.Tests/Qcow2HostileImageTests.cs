using System.Buffers.Binary;
using Emulator.Core.Storage;
using Emulator.Storage.Qcow2;

namespace Emulator.Storage.Tests;

/// <summary>
/// Damaged and hostile qcow2 images, made by patching qemu-img's: each is refused at open with
/// one line naming the image and the rule (or, for data only a read can check — a compressed
/// cluster's bytes — fails that read with one line), never with an out-of-range read, a huge
/// allocation or a loop. Offsets are from qcow2.txt's header table.
/// </summary>
[Trait("Category", "Unit")]
public sealed class Qcow2HostileImageTests : IDisposable
{
    private const ulong CompressedFlag = 1UL << 62;

    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A 1 MiB image of random data (64 KiB clusters, so 16 allocated clusters and one L2 table); compressed with -c.</summary>
    private byte[] Image(bool compressed = false, string options = "compat=1.1")
    {
        byte[] raw = new byte[1 << 20];
        var random = new Random(5);
        for (int i = 0; i < raw.Length; i++)
        {
            raw[i] = (byte)random.Next(compressed ? 4 : 256);
        }

        _dir.Write("source.raw", raw);
        string image = _dir["made.qcow2"];
        QemuImg.Run(["convert", .. compressed ? new[] { "-c" } : [], "-f", "raw", "-O", "qcow2", "-o", options, _dir["source.raw"], image]);
        return File.ReadAllBytes(image);
    }

    private StorageException Refused(byte[] image)
    {
        string path = _dir.Write("hostile.qcow2", image);
        var e = Assert.Throws<StorageException>(() => Qcow2Backend.Open(path, RawImageMode.ReadOnly).Dispose());
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("hostile.qcow2", e.Message);
        return e;
    }

    private static ulong U64(byte[] b, long at) => BinaryPrimitives.ReadUInt64BigEndian(b.AsSpan((int)at));

    private static void Put64(byte[] b, long at, ulong value) => BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan((int)at), value);

    private static void Put32(byte[] b, long at, uint value) => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan((int)at), value);

    /// <summary>The file offset of L2 table 0's first entry.</summary>
    private static long FirstL2Entry(byte[] image) => (long)(U64(image, (long)U64(image, 40)) & 0x00FF_FFFF_FFFF_FE00UL);

    [Fact]
    public void ATruncatedHeaderIsRefused()
    {
        byte[] image = Image();
        Assert.Contains("truncated", Refused(image[..50]).Message);
        Assert.Contains("truncated", Refused(image[..80]).Message);
        Assert.Contains("not a qcow2 image", Refused(image[..3]).Message);
    }

    [Fact]
    public void HeaderFieldsOutOfRangeAreRefused()
    {
        byte[] image = Image();
        Assert.Contains("version 4", Refused(Patched(image, b => Put32(b, 4, 4))).Message);
        Assert.Contains("cluster_bits 22", Refused(Patched(image, b => Put32(b, 20, 22))).Message);
        Assert.Contains("cluster_bits 8", Refused(Patched(image, b => Put32(b, 20, 8))).Message);
        Assert.Contains("virtual size", Refused(Patched(image, b => Put64(b, 24, 1000))).Message);
        Assert.Contains("encrypted", Refused(Patched(image, b => Put32(b, 32, 1))).Message);
        Assert.Contains("32 MiB limit", Refused(Patched(image, b => Put32(b, 36, uint.MaxValue))).Message);
        Assert.Contains("too small", Refused(Patched(image, b => Put32(b, 36, 0))).Message);
        Assert.Contains("too small", Refused(Patched(image, b => Put64(b, 24, (ulong)long.MaxValue - 511))).Message);
        Assert.Contains("virtual size", Refused(Patched(image, b => Put64(b, 24, ulong.MaxValue - 511))).Message);
        Assert.Contains("beyond the end of the file", Refused(Patched(image, b => Put64(b, 40, (ulong)b.Length + (1 << 20)))).Message);
        Assert.Contains("not cluster-aligned", Refused(Patched(image, b => Put64(b, 40, U64(b, 40) + 512))).Message);
        Assert.Contains("backing file name", Refused(Patched(image, b => { Put64(b, 8, 0xFFFF_FFF0); Put32(b, 16, 10); })).Message);
    }

    [Fact]
    public void IncompatibleFeaturesEmuCannotReadAreRefused()
    {
        byte[] image = Image();
        Assert.Contains("bit 5", Refused(Patched(image, b => Put64(b, 72, U64(b, 72) | (1UL << 5)))).Message);
        Assert.Contains("marked corrupt", Refused(Patched(image, b => Put64(b, 72, U64(b, 72) | 2))).Message);
        Assert.Contains("external data file", Refused(Patched(image, b => Put64(b, 72, U64(b, 72) | 4))).Message);
        Assert.Contains("compression_type", Refused(Patched(image, b => Put64(b, 72, U64(b, 72) | 8))).Message);

        QemuImg.Run("create", "-f", "qcow2", "-o", "extended_l2=on", _dir["ext.qcow2"], "1M");
        Assert.Contains("extended L2", Refused(File.ReadAllBytes(_dir["ext.qcow2"])).Message);
        // qemu-img's LUKS images time a key derivation at creation, which fails on a busy machine: crypt_method 2 is patched in.
        Assert.Contains("LUKS", Refused(Patched(image, b => Put32(b, 32, 2))).Message);
    }

    [Fact]
    public void TableEntriesOutsideTheFileAreRefused()
    {
        byte[] image = Image();
        long l1 = (long)U64(image, 40);
        long l2 = FirstL2Entry(image);
        ulong far = ((ulong)image.Length + (1UL << 30)) & ~0xFFFFUL;
        Assert.Contains("an L2 table at", Refused(Patched(image, b => Put64(b, l1, (1UL << 63) | far))).Message);
        Assert.Contains("data cluster beyond the end of the file", Refused(Patched(image, b => Put64(b, l2, (1UL << 63) | far))).Message);
        Assert.Contains("not cluster-aligned", Refused(Patched(image, b => Put64(b, l2, U64(b, l2) + 512))).Message);
        Assert.Contains("compressed cluster beyond", Refused(Patched(image, b => Put64(b, l2, CompressedFlag | far))).Message);

        byte[] v2 = Image(options: "compat=0.10");
        long v2L2 = FirstL2Entry(v2);
        Assert.Contains("zero-cluster flag in a version 2 image", Refused(Patched(v2, b => Put64(b, v2L2, U64(b, v2L2) | 1))).Message);
    }

    [Fact]
    public void BackingLoopsAndMissingBackingFilesAreRefused()
    {
        string self = _dir["self.qcow2"], a = _dir["a.qcow2"], b = _dir["b.qcow2"];
        QemuImg.Run("create", "-f", "qcow2", self, "1M");
        QemuImg.Run("rebase", "-u", "-b", "self.qcow2", "-F", "qcow2", self);
        var e = Assert.Throws<StorageException>(() => Qcow2Backend.Open(self, RawImageMode.ReadOnly));
        Assert.Contains("backing-file loop", e.Message);

        QemuImg.Run("create", "-f", "qcow2", b, "1M");
        QemuImg.Run("create", "-f", "qcow2", "-b", "b.qcow2", "-F", "qcow2", a);
        QemuImg.Run("rebase", "-u", "-b", "a.qcow2", "-F", "qcow2", b);
        e = Assert.Throws<StorageException>(() => Qcow2Backend.Open(a, RawImageMode.ReadOnly));
        Assert.Contains("backing-file loop", e.Message);

        QemuImg.Run("rebase", "-u", "-b", "gone.raw", "-F", "raw", b);
        e = Assert.Throws<StorageException>(() => Qcow2Backend.Open(b, RawImageMode.ReadOnly));
        Assert.Contains("gone.raw' does not exist", e.Message);

        QemuImg.Run("rebase", "-u", "-b", "nbd://localhost/x", "-F", "raw", b);
        Assert.Contains("not a local file", Assert.Throws<StorageException>(() => Qcow2Backend.Open(b, RawImageMode.ReadOnly)).Message);
    }

    [Fact]
    public void ACompressedClusterOfGarbageFailsItsReadInOneLine()
    {
        byte[] image = Image(compressed: true);
        long l2 = FirstL2Entry(image);
        ulong entry = U64(image, l2);
        Assert.True((entry & CompressedFlag) != 0, "qemu-img compressed cluster 0");
        // 64 KiB clusters: the host offset is bits 0..53 (x = 62 - (16 - 8)).
        long offset = (long)(entry & ((1UL << 54) - 1));
        byte[] hostile = Patched(image, b => b.AsSpan((int)offset, 200).Fill(0xFF));
        string path = _dir.Write("garbage.qcow2", hostile);
        using var disk = Qcow2Backend.Open(path, RawImageMode.ReadOnly);
        var e = Assert.Throws<BlockBackendException>(() => disk.Read(0, new byte[512]));
        Assert.Contains("does not decompress", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // The other clusters still read.
        disk.Read(1 << 16, new byte[512]);
    }

    /// <summary>Every L1 entry naming the same L2 table (a 2 MiB-cluster image whose L1 table is a few MiB): opened in well under a second, each table read once.</summary>
    [Fact]
    public void ManyL1EntriesNamingOneTableAreCheckedOnce()
    {
        byte[] image = Image(options: "cluster_size=2M");
        long l1 = (long)U64(image, 40);
        ulong table = U64(image, l1);
        // 2 MiB clusters: one L2 table covers 512 GiB; 4,000 entries for a 2,000 TiB disk, the L1 table in the image's spare room.
        const int entries = 4000;
        byte[] hostile = Patched(image, b =>
        {
            Put64(b, 24, (ulong)entries << 39);
            Put32(b, 36, entries);
            for (int i = 0; i < entries; i++)
            {
                Put64(b, l1 + (8 * i), table);
            }
        });
        string path = _dir.Write("shared.qcow2", hostile);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var disk = Qcow2Backend.Open(path, RawImageMode.ReadOnly);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"open took {clock.Elapsed}");
        Assert.Equal((long)entries << 39, disk.Length);
    }

    /// <summary>A compressed run cut to its first sector (the L2 entry's sector count set to 0): the stream ends early, for zlib and for zstd (found by fuzzing: zstd's decoder throws its own exception types).</summary>
    [Theory]
    [InlineData("compression_type=zlib")]
    [InlineData("compression_type=zstd")]
    public void ACompressedRunCutShortFailsItsReadInOneLine(string options)
    {
        byte[] image = Image(compressed: true, options);
        long l2 = FirstL2Entry(image);
        // 64 KiB clusters: the sector count is bits 54..61.
        long entry = Enumerable.Range(0, 16).Select(i => l2 + (8 * i)).First(at => ((U64(image, at) >> 54) & 0xFF) > 0);
        string path = _dir.Write("cut.qcow2", Patched(image, b => Put64(b, entry, U64(b, entry) & ~(0xFFUL << 54))));
        using var disk = Qcow2Backend.Open(path, RawImageMode.ReadOnly);
        var e = Assert.Throws<BlockBackendException>(() => disk.Read((entry - l2) / 8 * 65536, new byte[512]));
        Assert.Contains("does not decompress", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ABackingFileNameWithANulByteIsRefused()
    {
        byte[] image = Image();
        // The name: 4 bytes at 0x200 in the first cluster's zeros ("\0\0\0\0").
        Assert.Contains("NUL byte", Refused(Patched(image, b => { Put64(b, 8, 0x200); Put32(b, 16, 4); })).Message);
    }

    /// <summary>Random bytes over the header, the L1 and the L2 table: open refuses or every read succeeds or fails as an I/O error — nothing else escapes.</summary>
    [Fact]
    public void RandomDamageGivesARefusalOrAnIoErrorNeverACrash()
    {
        byte[] plain = Image(), compressed = Image(compressed: true);
        var random = new Random(7);
        byte[] buffer = new byte[1 << 20];
        for (int round = 0; round < 300; round++)
        {
            byte[] image = (round % 2 == 0 ? plain : compressed).ToArray();
            long[] regions = [0, (long)U64(image, 40), FirstL2Entry(image)];
            for (int flips = random.Next(1, 8); flips > 0; flips--)
            {
                long at = regions[random.Next(regions.Length)] + random.Next(128);
                image[at] = (byte)random.Next(256);
            }

            string path = _dir.Write("fuzzed.qcow2", image);
            IBlockBackend disk;
            try
            {
                disk = Qcow2Backend.Open(path, RawImageMode.Snapshot);
            }
            catch (StorageException e)
            {
                Assert.DoesNotContain('\n', e.Message);
                continue;
            }

            using (disk)
            {
                for (long at = 0; at < Math.Min(disk.Length, 4L << 20); at += buffer.Length)
                {
                    try
                    {
                        disk.Read(at, buffer.AsSpan(0, (int)Math.Min(buffer.Length, disk.Length - at)));
                    }
                    catch (BlockBackendException e)
                    {
                        Assert.DoesNotContain('\n', e.Message);
                    }
                }
            }
        }
    }

    private static byte[] Patched(byte[] image, Action<byte[]> patch)
    {
        byte[] copy = image.ToArray();
        patch(copy);
        return copy;
    }
}
