namespace Emulator.Boot.Tests;

/// <summary>
/// Issue 18: OVMF boots from a qcow2 disk. The FAT disk of <see cref="IdeDriveBootTests"/> with
/// its own <c>startup.nsh</c> is converted by qemu-img (compressed, so the Shell's reads go
/// through inflated clusters), given to <c>emu boot --disk FILE,snapshot</c>, and the CD-ROM image
/// as qcow2 to <c>--cdrom</c>: the Shell runs the script from FS0 — writing a file and reading it
/// back, which lands in the snapshot overlay, then typing the CD's file — and powers off; the
/// qcow2 files keep their bytes. A writable qcow2 drive is refused in one line.
/// </summary>
[Trait("Category", "Boot")]
public class Qcow2DriveBootTests
{
    public const string Marker = "hello-from-qcow2";

    public const string Script = $"echo {Marker}\r\necho written > fs0:\\w.txt\r\ntype fs0:\\w.txt\r\ntype fs1:\\cd.txt\r\nreset -s\r\n";

    [Fact]
    public void TheShellRunsStartupNshFromACompressedQcow2DiskInSnapshotMode()
    {
        using var images = new Qcow2Images();
        string report = CliRunner.TempFile(".json");
        byte[] before = File.ReadAllBytes(images.Qcow2);
        try
        {
            var r = CliRunner.Run(
                "boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", images.Vars, "--no-status",
                "--disk", images.Qcow2 + ",snapshot", "--cdrom", images.CdQcow2, "--report", report);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains($"{Marker}\r\n", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("written\r\n", r.Stdout, StringComparison.Ordinal);
            Assert.Contains(IdeBootImages.CdText, r.Stdout, StringComparison.Ordinal);
            var disks = r.Report!.RootElement.GetProperty("disks").EnumerateArray()
                .Select(d => (d.GetProperty("kind").GetString(), d.GetProperty("format").GetString(), d.GetProperty("mode").GetString()));
            Assert.Equal([("disk", "qcow2", "snapshot"), ("cdrom", "qcow2", "readonly")], disks);
            Assert.Equal(before, File.ReadAllBytes(images.Qcow2));
        }
        finally
        {
            File.Delete(report);
        }
    }

    [Fact]
    public void AWritableQcow2DiskIsRefusedInOneLineWithExitTwo()
    {
        using var images = new Qcow2Images();
        string listing = ScratchFolder.Listing(images.Directory);
        var r = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", images.Vars, "--no-status", "--disk", images.Qcow2);
        Assert.True(r.ExitCode == 2, r.Stderr);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("is qcow2, which emu reads but does not write", r.Stderr, StringComparison.Ordinal);
        Assert.Empty(r.Stdout);
        Assert.Equal(listing, ScratchFolder.Listing(images.Directory));
    }
}

/// <summary>A folder holding the FAT disk with <see cref="Qcow2DriveBootTests.Script"/> as raw and as compressed qcow2 (qemu-img, package qemu-utils), the CD-ROM as qcow2, and a copy of the 2 MB VARS.</summary>
public sealed class Qcow2Images : IDisposable
{
    public Qcow2Images()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("emu-qcow2-").FullName;
        var (disk, cd) = IdeBootImages.Build(Qcow2DriveBootTests.Script);
        Raw = Path.Combine(Directory, "disk.img");
        File.WriteAllBytes(Raw, disk);
        File.WriteAllBytes(Path.Combine(Directory, "cd.iso"), cd);
        Qcow2 = Path.Combine(Directory, "disk.qcow2");
        CdQcow2 = Path.Combine(Directory, "cd.qcow2");
        IdeBootImages.Run(Directory, "qemu-img", "qemu-utils", "convert", "-c", "-f", "raw", "-O", "qcow2", Raw, Qcow2);
        IdeBootImages.Run(Directory, "qemu-img", "qemu-utils", "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=2M", "cd.iso", CdQcow2);
        Vars = Path.Combine(Directory, "vars.fd");
        File.Copy(Fixtures.Path(Fixtures.Vars2M), Vars);
    }

    public string Directory { get; }

    public string Raw { get; }

    public string Qcow2 { get; }

    /// <summary>The ISO of <see cref="IdeBootImages"/> as qcow2 with 2 MiB clusters.</summary>
    public string CdQcow2 { get; }

    public string Vars { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
