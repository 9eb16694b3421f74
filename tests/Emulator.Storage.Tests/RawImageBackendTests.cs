using System.Diagnostics;
using Emulator.Core.Storage;

namespace Emulator.Storage.Tests;

[Trait("Category", "Unit")]
public sealed class RawImageBackendTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Image(int sectors, byte fill = 0)
    {
        byte[] bytes = new byte[sectors * 512];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(fill + i * 7);
        }

        return _dir.Write("disk.img", bytes);
    }

    [Fact]
    public void ReadWriteReachesTheFileAndStaysInBounds()
    {
        string path = Image(8);
        using (var disk = RawImageBackend.Open(path, RawImageMode.ReadWrite))
        {
            Assert.Equal(4096, disk.Length);
            Assert.False(disk.ReadOnly);
            disk.Write(512, new byte[] { 1, 2, 3 });
            disk.Flush();
            Assert.Throws<BlockBackendException>(() => disk.Read(4096 - 511, new byte[512]));
            Assert.Throws<BlockBackendException>(() => disk.Write(-1, new byte[1]));
            Assert.Throws<BlockBackendException>(() => disk.Read(long.MaxValue, new byte[1]));
            byte[] last = new byte[512];
            disk.Read(4096 - 512, last);
            Assert.Equal(unchecked((byte)((4096 - 512) * 7)), last[0]);
        }

        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path).AsSpan(512, 3).ToArray());
        Assert.Equal(4096, new FileInfo(path).Length);
    }

    [Fact]
    public void ReadOnlyRefusesWrites()
    {
        string path = Image(2);
        byte[] before = File.ReadAllBytes(path);
        using var disk = RawImageBackend.Open(path, RawImageMode.ReadOnly);
        Assert.True(disk.ReadOnly);
        var e = Assert.Throws<BlockBackendException>(() => disk.Write(0, new byte[512]));
        Assert.Contains("read-only", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void SnapshotKeepsWritesInMemoryAndTheFileByteIdentical()
    {
        string path = Image(64, fill: 3);
        byte[] before = File.ReadAllBytes(path);
        var stamp = File.GetLastWriteTimeUtc(path);
        using (var disk = RawImageBackend.Open(path, RawImageMode.Snapshot))
        {
            Assert.False(disk.ReadOnly);
            byte[] pattern = Enumerable.Range(0, 1500).Select(i => (byte)(i ^ 0x5A)).ToArray();
            disk.Write(1000, pattern); // part of chunk 0
            disk.Write(8190, new byte[] { 0xEE, 0xFF, 0x11 }); // straddles chunks 1 and 2
            disk.Flush();

            byte[] back = new byte[disk.Length];
            disk.Read(0, back);
            byte[] expected = (byte[])before.Clone();
            pattern.CopyTo(expected, 1000);
            expected[8190] = 0xEE;
            expected[8191] = 0xFF;
            expected[8192] = 0x11;
            Assert.Equal(expected, back);
            Assert.Equal(3 * 4096, disk.OverlayBytes); // three chunks written, nothing else held
        }

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void SnapshotOpensAReadOnlyFile()
    {
        string path = Image(1);
        File.SetUnixFileMode(path, UnixFileMode.UserRead);
        using var disk = RawImageBackend.Open(path, RawImageMode.Snapshot);
        disk.Write(0, new byte[] { 9 });
        byte[] b = new byte[1];
        disk.Read(0, b);
        Assert.Equal(9, b[0]);
    }

    [Fact]
    public void ASizeThatIsNotWholeSectorsIsRefusedWithOneLine()
    {
        string path = _dir.Write("odd.img", new byte[1000]);
        var e = Assert.Throws<StorageException>(() => RawImageBackend.Open(path, RawImageMode.ReadWrite));
        Assert.Contains("1000 bytes, not a whole number of 512-byte sectors", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(1000, new FileInfo(path).Length);
    }

    [Fact]
    public void MissingEmptyDirectoryAndFifoAreRefusedByName()
    {
        Assert.Contains("does not exist", Assert.Throws<StorageException>(() => RawImageBackend.Open(_dir["nope.img"], RawImageMode.ReadOnly)).Message);
        Assert.Contains("is empty", Assert.Throws<StorageException>(() => RawImageBackend.Open(_dir.Write("empty.img", []), RawImageMode.ReadOnly)).Message);
        Assert.Contains("a directory", Assert.Throws<StorageException>(() => RawImageBackend.Open(_dir.Path, RawImageMode.ReadOnly)).Message);
        string fifo = _dir["fifo"];
        Process.Start("mkfifo", [fifo])!.WaitForExit();
        Assert.Contains("a FIFO", Assert.Throws<StorageException>(() => RawImageBackend.Open(fifo, RawImageMode.ReadOnly)).Message);
    }

    [Fact]
    public void AWritableImageIsLockedAgainstASecondWriter()
    {
        string path = Image(1);
        using var first = RawImageBackend.Open(path, RawImageMode.ReadWrite);
        var e = Assert.Throws<StorageException>(() => RawImageBackend.Open(path, RawImageMode.ReadWrite));
        Assert.Contains("cannot be opened", e.Message);
    }
}
