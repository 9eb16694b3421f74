using Emulator.Storage.Fat;

namespace Emulator.Storage.Tests;

/// <summary>
/// The folder disk checked by independent FAT implementations: mtools reads it (mdir, mtype) and
/// plays the guest (mcopy, mmd, mdel, mrd), dosfstools' fsck.fat checks the file system before
/// and after. Needs <c>mtools</c> and <c>dosfstools</c> (.ci/run installs them); without them these
/// tests fail naming the package, they do not skip.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MtoolsTests : IDisposable
{
    private const long PartitionOffset = 63 * 512;
    private readonly TempFolder _dir = new();
    private readonly TempFolder _work = new();

    public MtoolsTests()
    {
        _dir.Write("startup.nsh", "echo BOOT SUCCESS\r\nreset -s\r\n");
        _dir.Write("EFI/BOOT/BOOTX64.EFI", Enumerable.Range(0, 50000).Select(i => (byte)(i % 251)).ToArray());
        _dir.Write("Mixed Case Long Name.txt", "mixed");
        _dir.Write("old.txt", "old");
        _dir.Write("empty", "");
    }

    public void Dispose()
    {
        _dir.Dispose();
        _work.Dispose();
    }

    [Fact]
    public void MtoolsListsAndReadsWhatTheFolderHolds()
    {
        using var disk = HostFolderDisk.Open(_dir.Path, writable: false);
        string image = Dump(disk);
        var listed = Run("mdir", "-/", "-b", "-i", $"{image}@@{PartitionOffset}", "::")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().TrimStart(':', '/')).Where(l => !l.EndsWith('/')).Order(StringComparer.Ordinal);
        Assert.Equal(["EFI/BOOT/BOOTX64.EFI", "Mixed Case Long Name.txt", "empty", "old.txt", "startup.nsh"], listed);
        Assert.Equal("echo BOOT SUCCESS\r\nreset -s\r\n", Run("mtype", "-i", $"{image}@@{PartitionOffset}", "::/startup.nsh"));
        Assert.Equal("mixed", Run("mtype", "-i", $"{image}@@{PartitionOffset}", "::/Mixed Case Long Name.txt"));
    }

    [Fact]
    public void FsckFindsNothingToRepair()
    {
        using var disk = HostFolderDisk.Open(_dir.Path, writable: false);
        Run("fsck.fat", "-n", Partition(disk));
    }

    [Fact]
    public void WritesMadeByMtoolsAsTheGuestReachTheFolder()
    {
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        string image = Dump(disk);
        string at = $"{image}@@{PartitionOffset}";
        string local = _work.Write("from-guest.txt", "written by mtools");
        Run("mcopy", "-i", at, local, "::/New File From Guest.txt");
        Run("mmd", "-i", at, "::/newdir");
        Run("mcopy", "-i", at, local, "::/newdir/inner.txt");
        Run("mdel", "-i", at, "::/old.txt");
        Run("mcopy", "-o", "-i", at, _work.Write("s.nsh", "echo changed\r\n"), "::/startup.nsh");
        Load(image, disk);

        var result = disk.Commit();

        Assert.Equal((3, 1, 1), (result.FilesWritten, result.FilesDeleted, result.DirectoriesCreated));
        Assert.Equal("written by mtools", File.ReadAllText(_dir["New File From Guest.txt"]));
        Assert.Equal("written by mtools", File.ReadAllText(_dir["newdir/inner.txt"]));
        Assert.Equal("echo changed\r\n", File.ReadAllText(_dir["startup.nsh"]));
        Assert.False(File.Exists(_dir["old.txt"]));
        Assert.Equal(50000, new FileInfo(_dir["EFI/BOOT/BOOTX64.EFI"]).Length);
        Run("fsck.fat", "-n", Partition(disk));
    }

    /// <summary>The whole disk as a sparse file (only non-zero 64 KiB runs are written).</summary>
    private string Dump(HostFolderDisk disk)
    {
        string path = _work["disk.img"];
        using var file = new FileStream(path, FileMode.Create);
        file.SetLength(disk.Length);
        byte[] chunk = new byte[1 << 16];
        for (long at = 0; at < disk.Length; at += chunk.Length)
        {
            disk.Read(at, chunk);
            if (chunk.AsSpan().ContainsAnyExcept((byte)0))
            {
                file.Position = at;
                file.Write(chunk);
            }
        }

        return path;
    }

    /// <summary>Writes back into the disk every 4 KiB the tool changed in the dump: the tool's writes, as a guest's.</summary>
    private static void Load(string image, HostFolderDisk disk)
    {
        using var file = File.OpenRead(image);
        byte[] theirs = new byte[4096], mine = new byte[4096];
        for (long at = 0; at < disk.Length; at += theirs.Length)
        {
            file.ReadExactly(theirs);
            disk.Read(at, mine);
            if (!theirs.AsSpan().SequenceEqual(mine))
            {
                disk.Write(at, theirs);
            }
        }
    }

    /// <summary>The FAT partition alone, for fsck.fat (which takes no offset).</summary>
    private string Partition(HostFolderDisk disk)
    {
        string path = _work["partition.img"];
        using var file = new FileStream(path, FileMode.Create);
        file.SetLength(disk.Length - PartitionOffset);
        byte[] chunk = new byte[1 << 16];
        for (long at = PartitionOffset; at < disk.Length; at += chunk.Length)
        {
            int n = (int)Math.Min(chunk.Length, disk.Length - at);
            disk.Read(at, chunk.AsSpan(0, n));
            if (chunk.AsSpan(0, n).ContainsAnyExcept((byte)0))
            {
                file.Position = at - PartitionOffset;
                file.Write(chunk, 0, n);
            }
        }

        return path;
    }

    private static readonly Dictionary<string, string> MtoolsEnvironment = new() { ["MTOOLS_SKIP_CHECK"] = "1", ["MTOOLS_NO_VFAT"] = "0" };

    private static string Run(string tool, params string[] args) => HostTool.Run(tool, "mtools dosfstools", args, MtoolsEnvironment);
}
