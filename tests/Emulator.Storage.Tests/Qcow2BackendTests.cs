using Emulator.Core.Storage;
using Emulator.Storage.Inspection;
using Emulator.Storage.Qcow2;

namespace Emulator.Storage.Tests;

/// <summary>
/// qcow2 images made by QEMU 7.2's qemu-img from a raw image read back byte for byte: every
/// layout the reader has a branch for (v2, v3, compressed with zlib and zstd, 512 B and 2 MiB
/// clusters, backing files, zero clusters), and the snapshot overlay over them.
/// </summary>
[Trait("Category", "Unit")]
public sealed class Qcow2BackendTests : IDisposable
{
    private const int Size = 4 << 20;

    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>4 MiB: random data, with zero runs (left unallocated by convert) and a repeated pattern (compressible, so every 2 MiB cluster compresses too).</summary>
    private string Source(string name = "source.raw", int seed = 1)
    {
        byte[] bytes = new byte[Size];
        new Random(seed).NextBytes(bytes);
        bytes.AsSpan(1 << 20, 700_000).Clear();
        for (int i = 3 << 20; i < Size; i++)
        {
            bytes[i] = (byte)(i % 61);
        }

        return _dir.Write(name, bytes);
    }

    private static void AssertSameBytes(string rawPath, IBlockBackend disk)
    {
        byte[] expected = File.ReadAllBytes(rawPath);
        Assert.Equal(expected.Length, disk.Length);
        byte[] actual = new byte[expected.Length];
        // Odd-sized reads that straddle clusters, as well as the whole disk at once.
        for (int at = 0; at < actual.Length; at += 77_777)
        {
            disk.Read(at, actual.AsSpan(at, Math.Min(77_777, actual.Length - at)));
        }

        Assert.True(expected.AsSpan().SequenceEqual(actual), "the qcow2 view differs from the raw image");
        Array.Clear(actual);
        disk.Read(0, actual);
        Assert.True(expected.AsSpan().SequenceEqual(actual), "the qcow2 view differs from the raw image (one read)");
    }

    [Theory]
    [InlineData("compat=1.1")]
    [InlineData("compat=0.10")]
    [InlineData("cluster_size=512")]
    [InlineData("cluster_size=2M")]
    [InlineData("compat=0.10,cluster_size=4096")]
    [InlineData("preallocation=metadata")]
    [InlineData("preallocation=full,lazy_refcounts=on")]
    [InlineData("refcount_bits=1,cluster_size=16k")]
    public void ConvertedImagesReadAsTheirSource(string options)
    {
        string raw = Source();
        string image = _dir["disk.qcow2"];
        QemuImg.Run("convert", "-f", "raw", "-O", "qcow2", "-o", options, raw, image);
        using var disk = Qcow2Backend.Open(image, RawImageMode.ReadOnly);
        Assert.Equal(options.Contains("0.10") ? 2 : 3, disk.Header.Version);
        AssertSameBytes(raw, disk);
    }

    [Theory]
    [InlineData("compression_type=zlib")]
    [InlineData("compression_type=zstd")]
    [InlineData("compat=0.10,cluster_size=512")]
    [InlineData("cluster_size=2M")]
    public void CompressedImagesReadAsTheirSource(string options)
    {
        string raw = Source();
        string image = _dir["disk.qcow2"];
        QemuImg.Run("convert", "-c", "-f", "raw", "-O", "qcow2", "-o", options, raw, image);
        QemuImg.Run("convert", "-f", "raw", "-O", "qcow2", "-o", options, raw, _dir["plain.qcow2"]);
        Assert.True(new FileInfo(image).Length < new FileInfo(_dir["plain.qcow2"]).Length, "qemu-img compressed the image");
        using var disk = Qcow2Backend.Open(image, RawImageMode.ReadOnly);
        Assert.Equal(options.Contains("zstd") ? Qcow2Compression.Zstd : Qcow2Compression.Deflate, disk.Header.Compression);
        AssertSameBytes(raw, disk);
    }

    [Fact]
    public void BackingFilesFillUnallocatedClustersAndZeroClustersHideThem()
    {
        string baseRaw = Source("base.raw", seed: 2);
        string middle = _dir["middle.qcow2"], top = _dir["top.qcow2"];
        // Relative names, resolved against the image's directory as QEMU resolves them.
        QemuImg.Run("create", "-f", "qcow2", "-b", "base.raw", "-F", "raw", middle);
        QemuImg.Io(middle, "write -P 0xab 100k 64k");
        QemuImg.Run("create", "-f", "qcow2", "-b", "middle.qcow2", "-F", "qcow2", "-o", "cluster_size=4096", top);
        QemuImg.Io(top, "write -P 0xcd 1020k 8k", "write -z 2M 128k", "write -z 3000k 6k");

        byte[] expected = File.ReadAllBytes(baseRaw);
        expected.AsSpan(100 << 10, 64 << 10).Fill(0xAB);
        expected.AsSpan(1020 << 10, 8 << 10).Fill(0xCD);
        expected.AsSpan(2 << 20, 128 << 10).Clear();
        expected.AsSpan(3000 << 10, 6 << 10).Clear();
        string expectedPath = _dir.Write("expected.raw", expected);

        using var disk = Qcow2Backend.Open(top, RawImageMode.ReadOnly);
        Assert.Equal([middle, baseRaw], disk.BackingChain);
        AssertSameBytes(expectedPath, disk);
    }

    /// <summary>An internal snapshot shares clusters with the active state (refcount 2, bit 63 clear in the L2 entries); writes after it copy clusters: the active L1 table is the disk.</summary>
    [Fact]
    public void TheActiveStateIsReadPastInternalSnapshots()
    {
        string raw = Source();
        string image = _dir["snapshotted.qcow2"];
        QemuImg.Run("convert", "-f", "raw", "-O", "qcow2", raw, image);
        QemuImg.Run("snapshot", "-c", "before", image);
        QemuImg.Io(image, "write -P 0x5a 64k 192k");
        byte[] expected = File.ReadAllBytes(raw);
        expected.AsSpan(64 << 10, 192 << 10).Fill(0x5A);
        using var disk = Qcow2Backend.Open(image, RawImageMode.ReadOnly);
        AssertSameBytes(_dir.Write("expected.raw", expected), disk);
    }

    [Fact]
    public void ABackingFileShorterThanTheImageReadsAsZerosPastItsEnd()
    {
        byte[] small = new byte[1 << 20];
        new Random(3).NextBytes(small);
        _dir.Write("small.raw", small);
        string top = _dir["grown.qcow2"];
        QemuImg.Run("create", "-f", "qcow2", "-b", _dir["small.raw"], "-F", "raw", top, "4M");
        byte[] expected = new byte[Size];
        small.CopyTo(expected, 0);
        using var disk = Qcow2Backend.Open(top, RawImageMode.ReadOnly);
        AssertSameBytes(_dir.Write("expected.raw", expected), disk);
    }

    [Fact]
    public void SnapshotWritesStayInMemoryAndTheImagesAreUnchanged()
    {
        string raw = Source();
        string image = _dir["disk.qcow2"];
        QemuImg.Run("convert", "-c", "-f", "raw", "-O", "qcow2", raw, image);
        byte[] before = File.ReadAllBytes(image);
        var mtime = File.GetLastWriteTimeUtc(image);
        using (var disk = Qcow2Backend.Open(image, RawImageMode.Snapshot))
        {
            Assert.False(disk.ReadOnly);
            byte[] data = Enumerable.Range(0, 1536).Select(i => (byte)(i * 3)).ToArray();
            disk.Write(2_001_920, data);
            byte[] back = new byte[1536];
            disk.Read(2_001_920, back);
            Assert.Equal(data, back);
            disk.Flush();
            Assert.Equal(4096 * 2, disk.OverlayBytes);
        }

        Assert.Equal(before, File.ReadAllBytes(image));
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(image));
    }

    [Fact]
    public void AWritableQcow2IsRefusedAndReadOnlyRefusesWrites()
    {
        string image = _dir["disk.qcow2"];
        QemuImg.Run("create", "-f", "qcow2", image, "1M");
        var e = Assert.Throws<StorageException>(() => Qcow2Backend.Open(image, RawImageMode.ReadWrite));
        Assert.Contains("emu reads but does not write", e.Message);
        Assert.Contains("snapshot=on", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        using var disk = Qcow2Backend.Open(image, RawImageMode.ReadOnly);
        Assert.True(disk.ReadOnly);
        Assert.Throws<BlockBackendException>(() => disk.Write(0, new byte[512]));
        Assert.Throws<BlockBackendException>(() => disk.Read((1 << 20) - 511, new byte[512]));
    }

    [Fact]
    public void TheFormatIsProbedByItsMagic()
    {
        string raw = Source();
        string image = _dir["disk.qcow2"];
        QemuImg.Run("convert", "-f", "raw", "-O", "qcow2", raw, image);
        Assert.Equal(DiskImageFormat.Qcow2, DiskImage.Probe(image));
        Assert.Equal(DiskImageFormat.Raw, DiskImage.Probe(raw));
        using (var disk = DiskImage.Open(image, null, RawImageMode.ReadOnly))
        {
            Assert.Equal("qcow2", DiskImage.FormatName(disk));
        }

        // format=raw over a qcow2 file presents its bytes, as QEMU does.
        using var asRaw = DiskImage.Open(image, DiskImageFormat.Raw, RawImageMode.ReadOnly);
        Assert.Equal(new FileInfo(image).Length, asRaw.Length);
    }

    [Fact]
    public void TheInspectorSeesThroughQcow2()
    {
        byte[] bytes = new byte[Size];
        bytes[446 + 4] = 0xEF;
        BitConverter.GetBytes(2048u).CopyTo(bytes, 446 + 8);
        BitConverter.GetBytes(4096u).CopyTo(bytes, 446 + 12);
        bytes[510] = 0x55;
        bytes[511] = 0xAA;
        string raw = _dir.Write("mbr.raw", bytes);
        string image = _dir["mbr.qcow2"];
        QemuImg.Run("convert", "-f", "raw", "-O", "qcow2", raw, image);
        using var disk = Qcow2Backend.Open(image, RawImageMode.ReadOnly);
        var facts = DiskImageInspector.Inspect(disk);
        Assert.Equal(PartitionTableKind.Mbr, facts.PartitionTable);
        Assert.Single(facts.Partitions);
    }
}
