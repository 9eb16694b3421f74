using System.Diagnostics;

namespace Emulator.Boot.Tests.Qemu;

/// <summary>
/// Issue 18, edk2's CI flow through the drop-in under the pexpect harness: OvmfPkg/PlatformCI's
/// device line — <c>-drive file=fat:rw:VirtualDrive,format=raw,media=disk</c>, <c>-net none</c>,
/// <c>-device isa-debug-exit,iobase=0xf4,iosize=0x04</c>, no <c>-nodefaults</c> (so QEMU's empty
/// CD-ROM drive is there too) — with <c>-serial stdio</c> for the harness (edk2 reads
/// <c>-debugcon stdio</c>, which the drop-in keeps for the console) and pflash code and vars.
/// </summary>
[Trait("Category", "Qemu")]
public class FolderDriveHarnessTests
{
    [Fact]
    public void Edk2CiFlowPowersOffWithStatusZeroAndTheFileReachesTheFolder()
    {
        using var folder = new ScratchFolder(FolderDriveBootTests.CiScript);
        var run = QemuHarnessTests.Harness(["expect:BOOT SUCCESS !!!", "eof"], Edk2CiLine(folder));
        Assert.True(run.Ok, run.Describe());
        Assert.Equal(0, run.ExitStatus);
        Assert.Equal(FolderDriveBootTests.ShellEchoBytes, File.ReadAllBytes(Path.Combine(folder.Path, "out.txt")));
        Assert.Equal(["out.txt", "startup.nsh"], folder.Names());

        // QEMU's default CD-ROM (no -nodefaults): empty, so BDS fails to boot it, in QEMU 7.2's words.
        Assert.Contains("BdsDxe: failed to load Boot0001 \"UEFI QEMU DVD-ROM QM00003 \" from PciRoot(0x0)/Pci(0x1,0x1)/Ata(Secondary,Master,0x0): Not Found", run.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// The same flow with the folder on virtio-blk (<c>,if=virtio</c>, what newer harnesses use):
    /// the disk sits in 00:03.0, where QEMU 7.2 puts it behind its default VGA (no -nodefaults,
    /// -net none), OVMF writes through VirtioBlkDxe (with its FLUSH requests) and the file reaches
    /// the folder when the guest powers off.
    /// </summary>
    [Fact]
    public void Edk2CiFlowOnAVirtioFolderDiskWritesTheFile()
    {
        using var folder = new ScratchFolder(FolderDriveBootTests.CiScript);
        var run = QemuHarnessTests.Harness(["expect:BOOT SUCCESS !!!", "eof"], Edk2CiLine(folder, ",if=virtio"));
        Assert.True(run.Ok, run.Describe());
        Assert.Equal(0, run.ExitStatus);
        Assert.Equal(FolderDriveBootTests.ShellEchoBytes, File.ReadAllBytes(Path.Combine(folder.Path, "out.txt")));
        Assert.Equal(["out.txt", "startup.nsh"], folder.Names());
        Assert.Contains("PciRoot(0x0)/Pci(0x3,0x0)", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Edk2CiFlowWithDebugExitGivesStatusThree()
    {
        using var folder = new ScratchFolder("echo BOOT SUCCESS !!!\r\nmm F4 1 -w 1 -IO\r\n");
        var run = QemuHarnessTests.Harness(["expect:BOOT SUCCESS !!!", "eof"], Edk2CiLine(folder));
        Assert.True(run.Ok, run.Describe());
        Assert.Equal(3, run.ExitStatus);
    }

    /// <summary>
    /// Refusals before the machine starts: QEMU 7.2's words where QEMU refuses (measured with
    /// qemu-system-x86_64 7.2), emu's where emu is stricter; exit 1, one line, nothing written.
    /// </summary>
    [Fact]
    public void BadDrivesAreRefusedInQemusWordsWithNothingWritten()
    {
        string dir = Directory.CreateTempSubdirectory("emu-drives-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "odd.img"), new byte[1000]);
            File.WriteAllBytes(Path.Combine(dir, "d.img"), new byte[1 << 20]);
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            var cases = new (string[] Args, string Error)[]
            {
                (["-drive", "file=missing.img,format=raw"], "qemu-system-x86_64: -drive file=missing.img,format=raw: Could not open 'missing.img': No such file or directory"),
                (["-hdb", "missing.img"], "qemu-system-x86_64: -hdb missing.img: Could not open 'missing.img': No such file or directory"),
                (["missing.img"], "qemu-system-x86_64: missing.img: Could not open 'missing.img': No such file or directory"),
                (["-drive", "file=sub,format=raw"], "qemu-system-x86_64: -drive file=sub,format=raw: 'file' driver requires 'sub' to be a regular file"),
                (["-cdrom", "sub"], "qemu-system-x86_64: -cdrom sub: 'file' driver requires 'sub' to be a regular file"),
                (["-drive", "file=fat:rw:nonexistent,format=raw"], "qemu-system-x86_64: -drive file=fat:rw:nonexistent,format=raw: Could not read directory nonexistent"),
                (["-drive", "file=fat:rw:sub,format=raw,snapshot=on"], "qemu-system-x86_64: -drive file=fat:rw:sub,format=raw,snapshot=on: Unable to set VVFAT to 'rw' when drive is read-only"),
                (["-drive", "file=fat:sub,format=raw"], "qemu-system-x86_64: Block node is read-only"),
                (["-drive", "file=d.img,format=raw,readonly=on"], "qemu-system-x86_64: Block node is read-only"),
                (["-hda", "d.img", "-drive", "file=d.img,format=raw,index=0,snapshot=on"], "qemu-system-x86_64: -drive file=d.img,format=raw,index=0,snapshot=on: drive with bus=0, unit=0 (index=0) exists"),
                (["-drive", "file=d.img,format=raw,index=4"], "qemu-system-x86_64: -drive file=d.img,format=raw,index=4: machine type does not support if=ide,bus=2,unit=0"),
                (["-drive", "file=d.img,format=raw,unit=2"], "qemu-system-x86_64: -drive file=d.img,format=raw,unit=2: unit 2 too big (max is 1)"),
                (["-drive", "file=d.img,format=raw,media=floppy"], "qemu-system-x86_64: -drive file=d.img,format=raw,media=floppy: 'floppy' invalid media"),
                (["-drive", "file=missing.img,format=raw,if=virtio"], "qemu-system-x86_64: -drive file=missing.img,format=raw,if=virtio: Could not open 'missing.img': No such file or directory"),
                (["-drive", "file=fat:rw:sub,format=raw,if=virtio,readonly=on"], "qemu-system-x86_64: -drive file=fat:rw:sub,format=raw,if=virtio,readonly=on: Unable to set VVFAT to 'rw' when drive is read-only"),
                (["-drive", "file=d.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d1"], "qemu-system-x86_64: -device virtio-blk-pci,drive=d1: Property 'virtio-blk-device.drive' can't find value 'd1'"),
                (["-drive", "file=d.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0", "-device", "virtio-blk-pci,drive=d0"], "qemu-system-x86_64: -device virtio-blk-pci,drive=d0: Drive 'd0' is already in use by another device"),
                (["-device", "virtio-blk-pci"], "qemu-system-x86_64: -device virtio-blk-pci: drive property not set"),
                (["-drive", "file=d.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0,addr=zz"], "qemu-system-x86_64: -device virtio-blk-pci,drive=d0,addr=zz: Property 'virtio-blk-pci.addr' doesn't take value 'zz'"),
                (["-drive", "file=d.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0,addr=1"], "qemu-system-x86_64: virtio-blk: PCI slot 1 is already used by piix3-isa"),
                (["-drive", "file=d.img,format=raw,if=none,id=d0", "-drive", "file=d.img,format=raw,if=none,id=d0"], "qemu-system-x86_64: -drive file=d.img,format=raw,if=none,id=d0: Duplicate ID 'd0' for drive"),
                (["-boot", "order=cc"], "qemu-system-x86_64: Boot device 'c' was given twice"),
                (["-boot", "order=cdan"], "qemu-system-x86_64: Too many boot devices for PC"),
                (["-boot", "splash-time=70000"], "qemu-system-x86_64: splash-time is invalid,it should be a value between 0 and 65535"),
                (["-drive", "file=odd.img,format=raw"], "qemu-system-x86_64: disk image 'odd.img' is 1000 bytes, not a whole number of 512-byte sectors"),
            };
            var before = ScratchFolder.Listing(dir);
            foreach (var (args, error) in cases)
            {
                var psi = new ProcessStartInfo(QemuHarnessTests.Launcher) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = dir };
                foreach (string a in (string[])["-nodefaults", "-display", "none", "-drive", $"if=pflash,format=raw,readonly=on,file={Fixtures.Path(Fixtures.Code2M)}", .. args])
                {
                    psi.ArgumentList.Add(a);
                }

                psi.Environment["EMU_DLL"] = QemuHarnessTests.EmuDll;
                using var p = Process.Start(psi)!;
                string stderr = p.StandardError.ReadToEnd();
                p.StandardOutput.ReadToEnd();
                Assert.True(p.WaitForExit(60_000));
                Assert.True(p.ExitCode == 1, $"{string.Join(' ', args)}: exit {p.ExitCode}: {stderr}");
                Assert.Single(stderr.TrimEnd('\n').Split('\n'));
                Assert.StartsWith(error, stderr, StringComparison.Ordinal);
                Assert.Equal(before, ScratchFolder.Listing(dir));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string[] Edk2CiLine(ScratchFolder folder, string driveOptions = "") =>
    [
        "-display", "none", "-machine", "pc", "-m", "256", "-net", "none", "-serial", "stdio",
        "-drive", $"file=fat:rw:{folder.Path},format=raw,media=disk{driveOptions}",
        "-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={Fixtures.Path(Fixtures.Code2M)}",
        "-drive", $"if=pflash,format=raw,unit=1,file={folder.Vars}",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ];
}
