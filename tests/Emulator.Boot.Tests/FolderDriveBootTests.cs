using System.Text;
using Emulator.Boot.Tests.Varstore;

namespace Emulator.Boot.Tests;

/// <summary>
/// Issue 18, edk2's CI flow with <c>emu boot</c>: OvmfPkg/PlatformCI puts <c>startup.nsh</c> in a
/// folder given as <c>-drive file=fat:rw:VirtualDrive,format=raw,media=disk</c>; here the folder is
/// <c>--fat DIR:rw</c>. The Shell runs the script from FS0, writes a file into the folder with
/// <c>echo hello &gt; fs0:\out.txt</c> and powers off (<c>reset -s</c>): the file is committed into
/// the folder with the bytes the Shell writes on QEMU 7.2. (On QEMU itself the file never reaches a
/// vvfat folder — docs/storage.md — so the bytes were taken from the same script on a raw FAT
/// image under QEMU 7.2 with Debian's OVMF, read back with mtools: UCS-2 with a byte-order mark.)
/// A run killed with SIGKILL leaves the folder as it was; <c>--disk</c> and <c>--cdrom</c> images
/// are seen by the Shell.
/// </summary>
[Trait("Category", "Boot")]
public class FolderDriveBootTests
{
    /// <summary>What the UEFI Shell's <c>echo hello &gt; fs0:\out.txt</c> writes: FF FE, then "hello\r\n" in UCS-2 (QEMU 7.2, OVMF 2 MB Debian build).</summary>
    public static readonly byte[] ShellEchoBytes = [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("hello\r\n")];

    public const string CiScript = "echo BOOT SUCCESS !!!\r\necho hello > fs0:\\out.txt\r\nreset -s\r\n";

    [Fact]
    public void FatRwFolderRunsStartupNshAndReceivesTheShellsFile()
    {
        using var folder = new ScratchFolder(CiScript);
        string report = CliRunner.TempFile(".json");
        try
        {
            var r = CliRunner.Run(Boot(folder, "--report", report));
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("BOOT SUCCESS !!!\r\n", r.Stdout, StringComparison.Ordinal);
            Assert.Equal(ShellEchoBytes, File.ReadAllBytes(System.IO.Path.Combine(folder.Path, "out.txt")));
            Assert.Equal(CiScript, File.ReadAllText(System.IO.Path.Combine(folder.Path, "startup.nsh")));
            Assert.Equal(["out.txt", "startup.nsh"], folder.Names());
            Assert.Contains("committed the guest's changes: 1 file(s) written", r.Stderr, StringComparison.Ordinal);
            var disk = r.Report!.RootElement.GetProperty("disks").EnumerateArray().Single();
            Assert.Equal(0, disk.GetProperty("index").GetInt32());
            Assert.Equal("disk", disk.GetProperty("kind").GetString());
            Assert.Equal(folder.Path, disk.GetProperty("folder").GetString());
            Assert.Equal("readwrite", disk.GetProperty("mode").GetString());
            Assert.True(disk.GetProperty("commit").GetProperty("committed").GetBoolean());
            Assert.Equal(1, disk.GetProperty("commit").GetProperty("filesWritten").GetInt32());
        }
        finally
        {
            File.Delete(report);
        }
    }

    /// <summary>
    /// The same flow on q35 (Project Mu and edk2 boot their full builds there): the folder is a
    /// disk on AHCI port 0, the Shell runs its script and the file reaches the folder.
    /// </summary>
    [Fact]
    public void FatRwFolderOnQ35SitsOnTheAhciPortAndReceivesTheShellsFile()
    {
        using var folder = new ScratchFolder(CiScript);
        var r = CliRunner.Run(Boot(folder, "--machine", "q35"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("BOOT SUCCESS !!!\r\n", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(ShellEchoBytes, File.ReadAllBytes(System.IO.Path.Combine(folder.Path, "out.txt")));
        Assert.Equal(["out.txt", "startup.nsh"], folder.Names());
    }

    /// <summary>
    /// The folder on a virtio-blk disk (<c>--fat DIR:rw,if=virtio</c>) on q35: OVMF writes through
    /// VirtioBlkDxe and the file reaches the folder; the report names the interface.
    /// </summary>
    [Fact]
    public void FatRwFolderOnVirtioReceivesTheShellsFile()
    {
        using var folder = new ScratchFolder(CiScript);
        string report = CliRunner.TempFile(".json");
        try
        {
            var r = CliRunner.Run(
            [
                "boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", folder.Vars, "--no-status", "--machine", "q35",
                "--fat", folder.Path + ":rw,if=virtio", "--report", report,
            ]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("PciRoot(0x0)/Pci(0x1,0x0)", r.Stdout, StringComparison.Ordinal);
            Assert.Equal(ShellEchoBytes, File.ReadAllBytes(System.IO.Path.Combine(folder.Path, "out.txt")));
            Assert.Equal(["out.txt", "startup.nsh"], folder.Names());
            var disk = r.Report!.RootElement.GetProperty("disks").EnumerateArray().Single();
            Assert.Equal("virtio", disk.GetProperty("interface").GetString());
            Assert.True(disk.GetProperty("commit").GetProperty("committed").GetBoolean());
        }
        finally
        {
            File.Delete(report);
        }
    }

    /// <summary>edk2's CI adds <c>-device isa-debug-exit,iobase=0xf4,iosize=0x04</c>; the script's write of 1 there exits with 3, and the file written before it is committed.</summary>
    [Fact]
    public void DebugExitFromTheScriptGivesStatusThreeAfterTheCommit()
    {
        using var folder = new ScratchFolder("echo hello > fs0:\\out.txt\r\nmm F4 1 -w 1 -IO\r\n");
        var r = CliRunner.Run(Boot(folder, "--debug-exit", "0xf4,4"));
        Assert.True(r.ExitCode == 3, r.Stderr);
        Assert.Equal(ShellEchoBytes, File.ReadAllBytes(System.IO.Path.Combine(folder.Path, "out.txt")));
    }

    /// <summary>
    /// emu is stopped by a signal after the guest wrote its file and while it waits at the script's
    /// <c>pause</c>. SIGKILL: nothing was committed, so the folder is byte for byte, name for name
    /// and time for time what it was — the documented crash behaviour. SIGTERM is an orderly end:
    /// the machine stops, the folder receives the file, emu exits 1 (the run was interrupted).
    /// </summary>
    [Theory]
    [InlineData(9)]
    [InlineData(15)]
    public void SignalledRunCommitsOnlyWhenItEndsInOrder(int signal)
    {
        using var folder = new ScratchFolder("echo hello > fs0:\\out.txt\r\necho WRITTEN-OUT\r\npause\r\n");
        File.WriteAllBytes(System.IO.Path.Combine(folder.Path, "keep.bin"), [1, 2, 3]);
        var before = folder.Snapshot();
        using var emu = new EmuProcess("WRITTEN-OUT", Boot(folder, "--no-hang-detect", "--max-instructions", "100000000000"));
        Assert.True(emu.WaitForMarker(TimeSpan.FromMinutes(3)), "the script did not get past its write: " + emu.Stderr);
        Thread.Sleep(500);
        Assert.False(emu.HasExited, emu.Stderr);
        emu.Signal(signal);
        int status = emu.WaitForExit(TimeSpan.FromMinutes(1));

        if (signal == 9)
        {
            Assert.Equal(before, folder.Snapshot());
            return;
        }

        Assert.Equal(1, status);
        Assert.Equal(ShellEchoBytes, File.ReadAllBytes(System.IO.Path.Combine(folder.Path, "out.txt")));
        Assert.Equal(["keep.bin", "out.txt", "startup.nsh"], folder.Names());
    }

    /// <summary>
    /// A file the guest overwrites changed on the host during the run: the commit is refused in one
    /// error line, the folder keeps the host's version and nothing of the guest's, emu exits 1.
    /// </summary>
    [Fact]
    public void CommitRefusedWhenTheHostChangedTheFileLeavesTheFolderAndExitsOne()
    {
        using var folder = new ScratchFolder("echo guest > fs0:\\target.txt\r\necho hello > fs0:\\out.txt\r\necho WRITTEN-OUT\r\npause\r\nreset -s\r\n");
        string target = System.IO.Path.Combine(folder.Path, "target.txt");
        File.WriteAllText(target, "host\n");
        using var emu = new EmuProcess("WRITTEN-OUT", Boot(folder, "--no-hang-detect", "--serial-input", "-"));
        Assert.True(emu.WaitForMarker(TimeSpan.FromMinutes(3)), "the script did not get past its writes: " + emu.Stderr);
        File.WriteAllText(target, "changed on the host\n");
        string after = folder.Snapshot();
        emu.Type("x");
        Assert.Equal(1, emu.WaitForExit(TimeSpan.FromMinutes(3)));
        Assert.Equal(after, folder.Snapshot());
        Assert.Single(emu.Stderr.Split('\n'), l => l.Contains("commit refused", StringComparison.Ordinal));
        Assert.Contains("'target.txt' changed on the host during the run", emu.Stderr, StringComparison.Ordinal);
    }

    /// <summary>A FAT image as <c>--disk</c> and the ISO as <c>--cdrom</c> (the images of <see cref="IdeDriveBootTests"/>): the Shell maps both, runs the disk's script and reads the CD.</summary>
    [Fact]
    public void DiskAndCdRomImagesAreSeenByTheShell()
    {
        var (disk, cd) = IdeBootImages.Build();
        string diskFile = CliRunner.TempFile(".img"), cdFile = CliRunner.TempFile(".iso"), report = CliRunner.TempFile(".json");
        File.WriteAllBytes(diskFile, disk);
        File.WriteAllBytes(cdFile, cd);
        try
        {
            var r = CliRunner.Run(
                "boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", Fixtures.Path(Fixtures.Vars2M), "--snapshot", "--no-status",
                "--disk", diskFile, "--cdrom", cdFile, "--report", report);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("hello-from-disk\r\n", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("hello-from-cd\r\n", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("PciRoot(0x0)/Pci(0x1,0x1)/Ata(0x0)/CDROM(0x0)", r.Stdout, StringComparison.Ordinal);
            var disks = r.Report!.RootElement.GetProperty("disks").EnumerateArray().Select(d => (d.GetProperty("index").GetInt32(), d.GetProperty("kind").GetString(), d.GetProperty("file").GetString(), d.GetProperty("mode").GetString()));
            Assert.Equal([(0, "disk", diskFile, "snapshot"), (2, "cdrom", cdFile, "readonly")], disks);
            Assert.Equal(disk, File.ReadAllBytes(diskFile));
        }
        finally
        {
            File.Delete(diskFile);
            File.Delete(cdFile);
            File.Delete(report);
        }
    }

    /// <summary>An ISO given as <c>--disk</c> is a disk like any other, as QEMU allows; in snapshot mode its bytes stay.</summary>
    [Fact]
    public void AnIsoIsAcceptedAsADisk()
    {
        var (_, cd) = IdeBootImages.Build();
        string iso = CliRunner.TempFile(".iso");
        File.WriteAllBytes(iso, cd);
        try
        {
            var r = CliRunner.Run(
                "boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", Fixtures.Path(Fixtures.Vars2M), "--snapshot", "--no-status", "--until", "pei", "--disk", iso);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(cd, File.ReadAllBytes(iso));
        }
        finally
        {
            File.Delete(iso);
        }
    }

    /// <summary>emu boot with the folder as <c>--fat DIR:rw</c>; a varstore copy, since --snapshot would make the folder read-only (QEMU refuses fat:rw under snapshot).</summary>
    private static string[] Boot(ScratchFolder folder, params string[] more) =>
    [
        "boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", folder.Vars, "--no-status", "--fat", folder.Path + ":rw", .. more,
    ];
}

/// <summary>A temporary folder holding <c>startup.nsh</c>, the VirtualDrive of edk2's CI, and beside it a copy of the 2 MB VARS; deleted at the end.</summary>
public sealed class ScratchFolder : IDisposable
{
    private readonly string _parent;

    public ScratchFolder(string startupScript)
    {
        _parent = Directory.CreateTempSubdirectory("emu-fat-").FullName;
        Path = Directory.CreateDirectory(System.IO.Path.Combine(_parent, "VirtualDrive")).FullName;
        Vars = System.IO.Path.Combine(_parent, "vars.fd");
        File.Copy(Fixtures.Path(Fixtures.Vars2M), Vars);
        File.WriteAllText(System.IO.Path.Combine(Path, "startup.nsh"), startupScript, Encoding.ASCII);
    }

    public string Path { get; }

    public string Vars { get; }

    public string[] Names() => [.. Directory.EnumerateFileSystemEntries(Path).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal)!];

    /// <summary>Every entry under the folder with its bytes and modification time, as one comparable text.</summary>
    public string Snapshot() => Listing(Path);

    /// <summary>Every entry under <paramref name="dir"/>: path, modification time and a hash of the bytes (tests check that nothing was written).</summary>
    public static string Listing(string dir) => string.Join("\n", Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal)
        .Select(e => $"{e} {File.GetLastWriteTimeUtc(e):O} {(File.Exists(e) ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(e))) : "dir")}"));

    public void Dispose() => Directory.Delete(_parent, recursive: true);
}
