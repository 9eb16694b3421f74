using System.Text;
using Emulator.Storage.Fat;

namespace Emulator.Storage.Tests;

/// <summary>fat:rw: — guest writes reach the folder only through a whole commit; crashes at each stage; refusals leave the folder as it was.</summary>
[Trait("Category", "Unit")]
public sealed class FolderCommitTests : IDisposable
{
    private sealed class Crash(string at) : Exception(at);

    private readonly TempFolder _dir = new();

    public FolderCommitTests()
    {
        _dir.Write("keep.txt", "unchanged");
        _dir.Write("change.txt", "old content");
        _dir.Write("remove.txt", "to be deleted");
        _dir.Write("olddir/inner.txt", "inner");
        _dir.Write("sub/deep.txt", "deep");
    }

    public void Dispose() => _dir.Dispose();

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>The guest's session: a new file, a changed one, a deleted one, a new folder with a file, a removed folder.</summary>
    private static void GuestSession(HostFolderDisk disk)
    {
        var guest = new GuestFatWriter(disk);
        guest.WriteFile("startup.nsh", Bytes("echo hi\r\n"));
        guest.WriteFile("change.txt", Bytes(new string('n', 20000)));
        guest.Delete("remove.txt");
        guest.MakeDirectory("newdir");
        guest.WriteFile("newdir/Mixed Case Name.TXT", Bytes("mixed"));
        guest.Delete("olddir/inner.txt");
        guest.Delete("olddir");
        guest.WriteFile("sub/added.bin", new byte[9000]);
    }

    private SortedDictionary<string, string> Expected()
    {
        var all = _dir.Snapshot();
        all.Remove("remove.txt");
        all.Remove("olddir/");
        all.Remove("olddir/inner.txt");
        all["startup.nsh"] = Convert.ToHexString(Bytes("echo hi\r\n"));
        all["change.txt"] = Convert.ToHexString(Bytes(new string('n', 20000)));
        all["newdir/"] = "";
        all["newdir/Mixed Case Name.TXT"] = Convert.ToHexString(Bytes("mixed"));
        all["sub/added.bin"] = Convert.ToHexString(new byte[9000]);
        return all;
    }

    [Fact]
    public void GuestChangesReachTheFolderAtCommit()
    {
        var expected = Expected();
        long keepInode = Inode(_dir["keep.txt"]);
        var keepTime = File.GetLastWriteTimeUtc(_dir["keep.txt"]);
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        GuestSession(disk);

        var result = disk.Commit();

        Assert.Equal(expected, _dir.Snapshot());
        Assert.Equal((4, 2, 1, 1), (result.FilesWritten, result.FilesDeleted, result.DirectoriesCreated, result.DirectoriesRemoved));
        Assert.Empty(result.Notes);
        Assert.Equal(keepInode, Inode(_dir["keep.txt"])); // an unchanged file is not rewritten
        Assert.Equal(keepTime, File.GetLastWriteTimeUtc(_dir["keep.txt"]));
        Assert.Equal(expected, FatImageTests.Tree(FatVolume.Read(disk)));
    }

    [Fact]
    public void NothingReachesTheFolderBeforeCommit()
    {
        var before = _dir.Snapshot();
        using (var disk = HostFolderDisk.Open(_dir.Path, writable: true))
        {
            GuestSession(disk);
            Assert.Equal(before, _dir.Snapshot()); // as after a SIGKILL: the run ends without a commit
        }

        Assert.Equal(before, _dir.Snapshot());
    }

    [Fact]
    public void AGuestThatOnlyReadsChangesNothing()
    {
        var before = _dir.Snapshot();
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        byte[] all = new byte[1 << 20];
        disk.Read(0, all);
        Assert.False(disk.Commit().Changed);
        Assert.Equal(before, _dir.Snapshot());
    }

    [Fact]
    public void RewritingAFileWithTheSameBytesIsNoChange()
    {
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        var guest = new GuestFatWriter(disk);
        uint first = guest.FirstCluster("keep.txt");
        byte[] cluster = new byte[VvfatGeometry.ClusterSize];
        disk.Read(VvfatGeometry.ClusterOffset(first), cluster);
        disk.Write(VvfatGeometry.ClusterOffset(first), cluster); // as edk2's cache writes a page back
        Assert.False(disk.Commit().Changed);
    }

    [Fact]
    public void ACrashAfterStagingLeavesTheFolderAsItWas()
    {
        var before = _dir.Snapshot();
        using (var disk = HostFolderDisk.Open(_dir.Path, writable: true))
        {
            GuestSession(disk);
            Assert.Throws<Crash>(() => disk.Commit(at => { if (at == "staged") throw new Crash(at); }));
        }

        Assert.True(Directory.Exists(_dir[FolderCommit.StagingName]));
        using var reopened = HostFolderDisk.Open(_dir.Path, writable: true);
        Assert.Contains(reopened.Warnings, w => w.Contains("discarded a commit interrupted before it started"));
        Assert.Equal(before, _dir.Snapshot());
    }

    [Theory]
    [InlineData("committed")]
    [InlineData("applied 1")]
    [InlineData("applied 3")]
    [InlineData("applied 8")]
    public void ACrashAfterTheCommitPointIsCompletedAtTheNextOpen(string crashAt)
    {
        var expected = Expected();
        using (var disk = HostFolderDisk.Open(_dir.Path, writable: true))
        {
            GuestSession(disk);
            Assert.Throws<Crash>(() => disk.Commit(at => { if (at == crashAt) throw new Crash(at); }));
        }

        Assert.True(Directory.Exists(_dir[FolderCommit.JournalDirectoryName]));
        using var reopened = HostFolderDisk.Open(_dir.Path, writable: true);
        Assert.Contains(reopened.Warnings, w => w.Contains("completed a commit interrupted by a crash"));
        Assert.Equal(expected, _dir.Snapshot());
        Assert.Equal(expected, FatImageTests.Tree(FatVolume.Read(reopened)));
    }

    [Fact]
    public void ADamagedJournalIsNotAppliedAndSaysWhatToDo()
    {
        Directory.CreateDirectory(_dir[FolderCommit.JournalDirectoryName]);
        File.WriteAllText(Path.Combine(_dir[FolderCommit.JournalDirectoryName], CommitJournal.FileName), "{\"format\":\"x\"");
        var before = _dir.Snapshot();
        var e = Assert.Throws<StorageException>(() => HostFolderDisk.Open(_dir.Path, writable: true));
        Assert.Contains("move it away", e.Message);
        Assert.Equal(before, _dir.Snapshot());
    }

    [Fact]
    public void CrossLinkedClustersAreRefusedAndTheFolderIsUntouched()
    {
        var before = _dir.Snapshot();
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        var guest = new GuestFatWriter(disk);
        guest.WriteFile("a.bin", new byte[9000]);
        guest.WriteFile("b.bin", new byte[100]);
        guest.SetFat(guest.FirstCluster("b.bin"), (ushort)guest.FirstCluster("a.bin"));
        var e = Assert.Throws<StorageException>(() => disk.Commit());
        Assert.Contains("cross-linked", e.Message);
        Assert.Contains("the folder was not changed", e.Message);
        Assert.Equal(before, _dir.Snapshot());
    }

    [Fact]
    public void AChainRunningIntoAFreeClusterIsRefused()
    {
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        var guest = new GuestFatWriter(disk);
        guest.WriteFile("a.bin", new byte[9000]);
        guest.SetFat(guest.GetFat(guest.FirstCluster("a.bin")), 0);
        guest.SetFat(guest.FirstCluster("a.bin"), 60000);
        Assert.Contains("runs into a free cluster", Assert.Throws<StorageException>(() => disk.Commit()).Message);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../escaped.txt")]
    [InlineData("sub/../../escaped.txt")]
    [InlineData(".emu-fat-commit")]
    public void NamesThatWouldLeaveTheFolderAreRefused(string name)
    {
        var before = _dir.Snapshot();
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        var guest = new GuestFatWriter(disk);
        guest.WriteFile("legit.txt", Bytes("x"));
        guest.AddEntry("", name, FatEntry.Archive, guest.FirstCluster("legit.txt"), 1);
        var e = Assert.Throws<StorageException>(() => disk.Commit());
        Assert.Contains("cannot be a host name", e.Message);
        Assert.Equal(before, _dir.Snapshot());
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_dir.Path)!, "escaped.txt")));
    }

    [Fact]
    public void AFolderOverASymbolicLinkIsNeverWrittenThrough()
    {
        using var outside = new TempFolder();
        Directory.CreateSymbolicLink(_dir["elsewhere"], outside.Path);
        var before = _dir.Snapshot();
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        var guest = new GuestFatWriter(disk);
        guest.MakeDirectory("elsewhere");
        guest.WriteFile("elsewhere/planted.txt", Bytes("x"));
        var e = Assert.Throws<StorageException>(() => disk.Commit());
        Assert.Contains("'elsewhere' appeared on the host", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside.Path));
        Assert.Equal(before, _dir.Snapshot());
    }

    [Fact]
    public void RemovingADirectoryThatHoldsAnUnpresentedLinkIsRefused()
    {
        File.CreateSymbolicLink(_dir["olddir/link"], "/etc/hostname");
        var before = _dir.Snapshot();
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        var guest = new GuestFatWriter(disk);
        guest.Delete("olddir/inner.txt");
        guest.Delete("olddir");
        Assert.Contains("holds 'link' the guest never saw", Assert.Throws<StorageException>(() => disk.Commit()).Message);
        Assert.Equal(before, _dir.Snapshot());
    }

    [Fact]
    public void AFileChangedOnTheHostDuringTheRunIsNotOverwritten()
    {
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        new GuestFatWriter(disk).WriteFile("change.txt", Bytes("guest version"));
        File.WriteAllText(_dir["change.txt"], "host version, written during the run");
        var e = Assert.Throws<StorageException>(() => disk.Commit());
        Assert.Contains("'change.txt' changed on the host during the run", e.Message);
        Assert.Equal("host version, written during the run", File.ReadAllText(_dir["change.txt"]));
    }

    [Fact]
    public void ARewrittenBootSectorIsRefused()
    {
        using var disk = HostFolderDisk.Open(_dir.Path, writable: true);
        disk.Write(63 * 512 + 13, [4]); // sectors per cluster
        Assert.Contains("rewrote the partition table or the boot sector", Assert.Throws<StorageException>(() => disk.Commit()).Message);
    }

    [Fact]
    public void JournalPathsCannotLeaveTheFolder()
    {
        foreach (string bad in new[] { "..", "a/../..", "", "a//b", ".emu-fat-commit/x" })
        {
            Assert.Throws<StorageException>(() => FolderCommit.HostPath(_dir.Path, bad));
        }

        Assert.Equal(_dir["sub/deep.txt"], FolderCommit.HostPath(_dir.Path, "sub/deep.txt"));
    }

    private static long Inode(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        return long.Parse(p.StandardOutput.ReadToEnd().Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
