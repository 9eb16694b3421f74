using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Emulator.Core.Cpu;
using Emulator.Core.Devices.Ide;
using Emulator.Core.Machine;
using Emulator.Core.Storage;

namespace Emulator.Boot.Tests;

/// <summary>
/// OVMF on the pc machine with drives on the PIIX3 IDE channels: Debian bookworm's 2 MB build
/// boots with an ATA disk at index 0 holding a FAT file system with <c>startup.nsh</c>, and an
/// ISO 9660 CD-ROM at index 2 (QEMU's <c>-cdrom</c>) whose El Torito image is a FAT file system.
/// The Shell finds the script on FS0, runs it (echo, <c>map</c>, <c>type</c> of a file on the
/// CD-ROM, <c>reset -s</c>), and the serial console is byte for byte what QEMU 7.2 printed for
/// <c>-machine pc -m 256 -nodefaults -drive if=pflash… -drive file=disk.img,format=raw,if=ide,index=0
/// -cdrom cd.iso</c> with the same images (Data/qemu72-console/ide-disk-cdrom.txt, recorded with
/// tools/record-qemu-console.py's conventions: COM1 to a file). The images are built here, the
/// same bytes every run, with dosfstools (mkfs.vfat), mtools (mcopy) and xorriso.
/// </summary>
[Trait("Category", "Boot")]
public class IdeDriveBootTests
{
    [Fact]
    public void ShellRunsStartupNshFromTheIdeDiskAndReadsTheCdRom()
    {
        var (disk, cd) = IdeBootImages.Build();
        var info = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console", "ide-disk-cdrom.info"));
        Assert.Equal(Field(info, "disk-sha256"), Convert.ToHexStringLower(SHA256.HashData(disk)));
        Assert.Equal(Field(info, "cd-sha256"), Convert.ToHexStringLower(SHA256.HashData(cd)));
        var serial = new List<byte>();
        var diskBackend = new MemoryBlockBackend(disk);
        using var machine = new PcMachine(new MachineOptions
        {
            Flash =
            [
                new FlashImage("code", File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M)), true),
                new FlashImage("vars", File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M)), false),
            ],
            SerialPorts = [new IsaSerialPort(0, serial.Add)],
            IdeDrives = [IdeDrive.Disk(0, diskBackend), IdeDrive.CdRom(new MemoryBlockBackend(cd, readOnly: true))],
        });

        var reason = machine.Run(4_000_000_000);

        string console = Encoding.Latin1.GetString(serial.ToArray());
        Assert.True(reason == StopReason.PowerOff, $"stopped: {reason} ({machine.StopDetail}); console tail: {console[Math.Max(0, console.Length - 600)..]}");
        Assert.Contains("hello-from-disk\r\n", console, StringComparison.Ordinal);
        Assert.Contains("hello-from-cd\r\n", console, StringComparison.Ordinal);
        Assert.Contains("PciRoot(0x0)/Pci(0x1,0x1)/Ata(0x0)/CDROM(0x0)", console, StringComparison.Ordinal);
        string qemu = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console", "ide-disk-cdrom.txt"), Encoding.Latin1);
        Assert.Equal(qemu, console);
        Assert.All(machine.Ide.Channels.SelectMany(c => c.Devices), d => Assert.Equal(0, d.IoErrors));
    }

    private static string Field(string[] info, string name) => info.Single(l => l.StartsWith(name + ": ", StringComparison.Ordinal))[(name.Length + 2)..];
}

/// <summary>
/// The images of <see cref="IdeDriveBootTests"/>, built with the tools QEMU users build them with,
/// with every time stamp and identifier fixed: an 8 MiB FAT disk (volume ID 12345678, label
/// EMUDISK) with startup.nsh, and an ISO (volume EMUCD) whose El Torito no-emulation image is a
/// 1.44 MB FAT image (volume ID 87654321) holding cd.txt. A missing tool fails with the package
/// that provides it.
/// </summary>
public static class IdeBootImages
{
    public const string StartupScript = "echo hello-from-disk\r\nmap\r\ntype fs1:\\cd.txt\r\nreset -s\r\n";
    public const string CdText = "hello-from-cd\r\n";

    private static readonly DateTime Stamp = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static (byte[] Disk, byte[] Cd) Build() => Build(StartupScript);

    /// <summary>The same images with another <c>startup.nsh</c>.</summary>
    public static (byte[] Disk, byte[] Cd) Build(string startupScript)
    {
        string dir = Directory.CreateTempSubdirectory("emu-ide-").FullName;
        try
        {
            string startup = Write(dir, "startup.nsh", startupScript);
            string cdText = Write(dir, "cd.txt", CdText);
            string iso = Path.Combine(dir, "iso");
            Directory.CreateDirectory(iso);
            Run(dir, "mkfs.vfat", "dosfstools", "--invariant", "-i", "12345678", "-n", "EMUDISK", "-C", "disk.img", "8192");
            Run(dir, "mcopy", "mtools", "-m", "-i", "disk.img", startup, "::/startup.nsh");
            Run(dir, "mkfs.vfat", "dosfstools", "--invariant", "-i", "87654321", "-C", "iso/efi.img", "1440");
            Run(dir, "mcopy", "mtools", "-m", "-i", "iso/efi.img", cdText, "::/cd.txt");
            File.SetLastWriteTimeUtc(Path.Combine(iso, "efi.img"), Stamp);
            Directory.SetLastWriteTimeUtc(iso, Stamp);
            Run(dir, "xorriso", "xorriso", "-as", "mkisofs", "-quiet", "-o", "cd.iso", "-V", "EMUCD", "--modification-date=2024010100000000", "--set_all_file_dates", "2024010100000000", "-e", "efi.img", "-no-emul-boot", "iso");
            return (File.ReadAllBytes(Path.Combine(dir, "disk.img")), File.ReadAllBytes(Path.Combine(dir, "cd.iso")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Write(string dir, string name, string text)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, text, Encoding.ASCII);
        File.SetLastWriteTimeUtc(path, Stamp);
        return path;
    }

    /// <summary>Runs <paramref name="tool"/> in <paramref name="dir"/>; a missing tool fails naming the Debian <paramref name="package"/> that provides it.</summary>
    internal static void Run(string dir, string tool, string package, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        args.ToList().ForEach(start.ArgumentList.Add);
        start.Environment["MTOOLS_SKIP_CHECK"] = "1";
        start.Environment["TZ"] = "UTC";
        Process p;
        try
        {
            p = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is needed to build the test's disk images (Debian package {package}): {e.Message}", e);
        }

        using (p)
        {
            string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({p.ExitCode}): {output}");
            }
        }
    }
}
