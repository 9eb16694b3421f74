using System.Security.Cryptography;
using System.Text;
using Emulator.Core.Cpu;
using Emulator.Core.Devices.Ide;
using Emulator.Core.Machine;
using Emulator.Core.Storage;

namespace Emulator.Boot.Tests;

/// <summary>
/// OVMF on the q35 machine with drives on the ICH9 AHCI ports: Debian bookworm's 4 MB build
/// boots with an ATA disk at index 0 (AHCI port 0) holding a FAT file system with
/// <c>startup.nsh</c>, and an ISO 9660 CD-ROM at index 2 (port 2, QEMU's <c>-cdrom</c>). The
/// Shell runs the script (echo, <c>map</c>, <c>type</c> of a file on the CD-ROM's El Torito
/// image, <c>reset -s</c>), and the serial console is byte for byte what QEMU 7.2 printed for
/// <c>-machine q35 -m 256 -nodefaults … -drive file=disk.img,format=raw,if=ide,index=0 -cdrom cd.iso</c>
/// with the same images (Data/qemu72-console/ahci-disk-cdrom.txt). The images are
/// <see cref="IdeBootImages"/>' with this test's script. The Secure Boot 4 MB build with the
/// Microsoft-enrolled VARS, with the same drives, still ends at QEMU's "Security Violation" and
/// Boot Manager prompt with QEMU's console (Data/qemu72-console/ahci-secboot-ms.txt).
/// </summary>
[Trait("Category", "Boot")]
public class AhciDriveBootTests
{
    public const string StartupScript = "echo hello-from-ahci\r\nmap\r\ntype fs1:\\cd.txt\r\nreset -s\r\n";

    [Fact]
    public void ShellRunsStartupNshFromTheAhciDiskAndReadsTheCdRom()
    {
        var (disk, cd) = IdeBootImages.Build(StartupScript);
        var info = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console", "ahci-disk-cdrom.info"));
        Assert.Equal(Field(info, "disk-sha256"), Convert.ToHexStringLower(SHA256.HashData(disk)));
        Assert.Equal(Field(info, "cd-sha256"), Convert.ToHexStringLower(SHA256.HashData(cd)));
        var serial = new List<byte>();
        using var machine = Machine(Fixtures.Code4M, Fixtures.Vars4M, disk, cd, serial, smm: true);

        var reason = machine.Run(4_000_000_000);

        string console = Encoding.Latin1.GetString(serial.ToArray());
        Assert.True(reason == StopReason.PowerOff, $"stopped: {reason} ({machine.StopDetail}); console tail: {console[Math.Max(0, console.Length - 600)..]}");
        Assert.Contains("hello-from-ahci\r\n", console, StringComparison.Ordinal);
        Assert.Contains("hello-from-cd\r\n", console, StringComparison.Ordinal);
        Assert.Contains("PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x2,0xFFFF,0x0)/CDROM(0x0)", console, StringComparison.Ordinal);
        string qemu = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console", "ahci-disk-cdrom.txt"), Encoding.Latin1);
        Assert.Equal(qemu, console);
        Assert.All(machine.Ahci.Hba.Devices, d => Assert.Equal(0, d?.IoErrors ?? 0));
    }

    [Fact]
    public void SecureBootBuildWithDrivesEndsAtQemusBootManagerPrompt()
    {
        var (disk, cd) = IdeBootImages.Build(StartupScript);
        var serial = new List<byte>();
        using var machine = Machine(Fixtures.Code4MSecboot, "OVMF_VARS_4M.ms.fd", disk, cd, serial, smm: true, secureFlash: true);
        const string prompt = "Press any key to enter the Boot Manager Menu.";
        var reason = StopReason.InstructionLimit;
        while (!Encoding.Latin1.GetString(serial.ToArray()).Contains(prompt, StringComparison.Ordinal) && reason == StopReason.InstructionLimit && machine.Cpu.InstructionCount < 4_000_000_000)
        {
            reason = machine.Run(machine.Cpu.InstructionCount + 50_000_000);
        }

        machine.Run(machine.Cpu.InstructionCount + 200_000_000);         // nothing more after the prompt
        string console = Encoding.Latin1.GetString(serial.ToArray());
        Assert.Contains("Security Violation", console, StringComparison.Ordinal);
        Assert.Contains(prompt, console, StringComparison.Ordinal);
        Assert.DoesNotContain("hello-from-ahci", console, StringComparison.Ordinal);
        string qemu = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console", "ahci-secboot-ms.txt"), Encoding.Latin1);
        Assert.Equal(qemu, console);
        Assert.True(machine.Cpu.SmmEntries > 0);
    }

    private static PcMachine Machine(string code, string vars, byte[] disk, byte[] cd, List<byte> serial, bool smm, bool secureFlash = false) => new(new MachineOptions
    {
        Chipset = PcChipset.Q35,
        Smm = smm,
        SecureFlash = secureFlash,
        RamSize = 256UL << 20,
        Flash =
        [
            new FlashImage("code", File.ReadAllBytes(Fixtures.Path(code)), true),
            new FlashImage("vars", File.ReadAllBytes(Fixtures.Path(vars)), false),
        ],
        SerialPorts = [new IsaSerialPort(0, serial.Add)],
        IdeDrives = [IdeDrive.Disk(0, new MemoryBlockBackend(disk)), IdeDrive.CdRom(new MemoryBlockBackend(cd, readOnly: true))],
    });

    private static string Field(string[] info, string name) => info.Single(l => l.StartsWith(name + ": ", StringComparison.Ordinal))[(name.Length + 2)..];
}
