using System.Buffers.Binary;
using System.Diagnostics;
using Emulator.Core.Storage;
using Emulator.Fuzz.Tests.Support;
using Emulator.Storage;
using Emulator.Storage.Qcow2;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// Target "qcow2": <see cref="Qcow2Backend"/> opening a damaged image and a guest reading and
/// writing it (snapshot mode) — the documented answers are a one-line <see cref="StorageException"/>
/// at open and a one-line <see cref="BlockBackendException"/> for a read the image cannot serve
/// (docs/storage.md, "qcow2 images"). The allocation limit holds a damaged image to what its
/// file size and the fixed caches allow: no field may make the reader allocate by its value.
/// Seeds are made by QEMU's qemu-img (qemu-utils) from a fixed 64 KiB disk: 512-byte clusters
/// (two L2 tables) compressed with zlib, 4 KiB clusters as v2, and zstd-compressed with a zero
/// cluster.
/// </summary>
[Trait("Category", "Fuzz")]
public class Qcow2FuzzTests
{
    private const string Target = "qcow2";

    // 2 MiB clusters are the largest a header may declare: one inflated cluster, one compressed
    // run of two clusters, one L2 table, with room for the test's own buffers.
    private static readonly FuzzOptions Options = new(Iterations: 400, AllocationLimit: 24L << 20);

    [Theory]
    [InlineData("compat=1.1,cluster_size=512", true)]
    [InlineData("compat=0.10,cluster_size=4096", false)]
    [InlineData("compression_type=zstd,cluster_size=4096", true)]
    public void MutatedImages(string options, bool compressed)
    {
        byte[] seed = Seed(options, compressed);
        FuzzRun.Run($"{Target}-{options}", Mutations.Of(seed, HotOffsets(seed)), OpenAndRead, IsDocumented, Options);
    }

    /// <summary>The header, the first L1 entries and every L2 table's first entries: where a mutation changes what is read.</summary>
    private static int[] HotOffsets(byte[] image)
    {
        int clusterSize = 1 << (int)BinaryPrimitives.ReadUInt32BigEndian(image.AsSpan(20));
        long l1 = (long)BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan(40));
        var hot = new List<int> { 4, 8, 16, 20, 24, 32, 36, 40, 72, 100, 104 };
        for (int i = 0; i < 2; i++)
        {
            hot.Add((int)l1 + (8 * i));
            long l2 = (long)(BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan((int)l1 + (8 * i))) & 0x00FF_FFFF_FFFF_FE00UL);
            if (l2 != 0 && l2 + clusterSize <= image.Length)
            {
                hot.AddRange(Enumerable.Range(0, 8).Select(e => (int)l2 + (8 * e)));
            }
        }

        return [.. hot];
    }

    private static void OpenAndRead(byte[] image)
    {
        string path = Path.Combine(Path.GetTempPath(), $"emu-fuzz-qcow2-{Environment.CurrentManagedThreadId}-{Guid.NewGuid():N}.qcow2");
        File.WriteAllBytes(path, image);
        try
        {
            using var disk = Qcow2Backend.Open(path, RawImageMode.Snapshot);
            byte[] buffer = new byte[64 << 10];
            // The first 256 KiB and the last sectors, whatever the declared size (which may be huge).
            for (long at = 0; at < Math.Min(disk.Length, 256 << 10); at += buffer.Length)
            {
                ReadOrIoError(disk, at, buffer.AsSpan(0, (int)Math.Min(buffer.Length, disk.Length - at)));
            }

            ReadOrIoError(disk, disk.Length - 1024, buffer.AsSpan(0, 1024));
            // A write of part of an overlay chunk reads the rest of it from the image first.
            IoErrorAllowed(() => disk.Write(0, buffer.AsSpan(0, 512).ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void ReadOrIoError(IBlockBackend disk, long at, Span<byte> buffer)
    {
        byte[] into = new byte[buffer.Length];
        IoErrorAllowed(() => disk.Read(at, into));
    }

    /// <summary>Runs a guest request: it succeeds or fails as the one-line I/O error a device reports to the guest.</summary>
    private static void IoErrorAllowed(Action request)
    {
        try
        {
            request();
        }
        catch (BlockBackendException e) when (!e.Message.Contains('\n'))
        {
        }
    }

    private static bool IsDocumented(Exception e) => e is StorageException && !e.Message.Contains('\n');

    /// <summary>A qcow2 image of a fixed 64 KiB disk (random, zero and patterned 4 KiB runs) made by qemu-img convert with <paramref name="options"/>.</summary>
    private static byte[] Seed(string options, bool compressed)
    {
        string dir = Directory.CreateTempSubdirectory("emu-fuzz-qcow2-seed-").FullName;
        try
        {
            byte[] raw = new byte[64 << 10];
            new Random(11).NextBytes(raw);
            raw.AsSpan(16 << 10, 8 << 10).Clear();
            for (int i = 40 << 10; i < raw.Length; i++)
            {
                raw[i] = (byte)(i % 13);
            }

            File.WriteAllBytes(Path.Combine(dir, "seed.raw"), raw);
            QemuUtil(dir, "qemu-img", ["convert", .. compressed ? new[] { "-c" } : [], "-f", "raw", "-O", "qcow2", "-o", options, "seed.raw", "seed.qcow2"]);
            if (options.Contains("zstd", StringComparison.Ordinal))
            {
                QemuUtil(dir, "qemu-io", ["-f", "qcow2", "-c", "write -z 8k 4k", "seed.qcow2"]);
            }

            return File.ReadAllBytes(Path.Combine(dir, "seed.qcow2"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void QemuUtil(string dir, string tool, string[] args)
    {
        var psi = new ProcessStartInfo(tool, args) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        try
        {
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {output}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException($"{tool} is needed for the qcow2 seeds: apt-get install qemu-utils (.ci/run installs it)");
        }
    }
}
