using System.Security.Cryptography;
using System.Text;
using Emulator.Core.Cpu;
using Emulator.Core.Devices.Virtio;
using Emulator.Core.Machine;
using Emulator.Core.Storage;

namespace Emulator.Boot.Tests;

/// <summary>
/// OVMF with two virtio-blk-pci disks, as QEMU 7.2 builds <c>-drive …,if=virtio</c> twice under
/// <c>-nodefaults</c>: the FAT disk of <see cref="IdeBootImages"/> (with this test's
/// <c>startup.nsh</c>) read-write in the first free slot and its ISO read-only
/// (VIRTIO_BLK_F_RO) in the next — 00:02.0 and 00:03.0 on pc (bookworm's 2 MB build), 00:01.0 and
/// 00:02.0 on q35 (the 4 MB build). OVMF's VirtioPciDeviceDxe and VirtioBlkDxe drive the legacy
/// interface; the Shell runs the script from FS0 (echo, <c>map</c>, <c>type</c> of the ISO's El
/// Torito file, <c>pci</c>, <c>pci … -i</c> dumping the first disk's whole configuration space as
/// OVMF left it, <c>reset -s</c>), and the serial console is byte for byte QEMU's
/// (Data/qemu72-console/virtio-pc.txt and virtio-q35.txt; the .info files say how they were
/// recorded). The disk's image is unchanged, as on QEMU (OVMF reads only).
/// </summary>
[Trait("Category", "Boot")]
public class VirtioDriveBootTests
{
    public const string PcScript = "echo hello-from-virtio\r\nmap\r\ntype fs1:\\cd.txt\r\npci\r\npci 00 02 00 -i\r\nreset -s\r\n";
    public const string Q35Script = "echo hello-from-virtio\r\nmap\r\ntype fs1:\\cd.txt\r\npci\r\npci 00 01 00 -i\r\nreset -s\r\n";

    [Theory]
    [InlineData(PcChipset.I440fx, "virtio-pc", PcScript, 2)]
    [InlineData(PcChipset.Q35, "virtio-q35", Q35Script, 1)]
    public void ShellRunsStartupNshFromAVirtioDiskWithQemusConsole(PcChipset chipset, string recording, string script, int slot)
    {
        var (disk, cd) = IdeBootImages.Build(script);
        var info = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console", recording + ".info"));
        Assert.Equal(Field(info, "disk-sha256"), Convert.ToHexStringLower(SHA256.HashData(disk)));
        Assert.Equal(Field(info, "cd-sha256"), Convert.ToHexStringLower(SHA256.HashData(cd)));
        var before = disk.ToArray();
        var serial = new List<byte>();
        using var machine = new PcMachine(new MachineOptions
        {
            Chipset = chipset,
            Flash =
            [
                new FlashImage("code", File.ReadAllBytes(Fixtures.Path(Field(info, "code"))), true),
                new FlashImage("vars", File.ReadAllBytes(Fixtures.Path(Field(info, "vars"))), false),
            ],
            SerialPorts = [new IsaSerialPort(0, serial.Add)],
            VirtioDrives = [new VirtioDrive(new MemoryBlockBackend(disk)), new VirtioDrive(new MemoryBlockBackend(cd, readOnly: true))],
        });

        var reason = machine.Run(4_000_000_000);

        string console = Encoding.Latin1.GetString(serial.ToArray());
        Assert.True(reason == StopReason.PowerOff, $"stopped: {reason} ({machine.StopDetail}); console tail: {console[Math.Max(0, console.Length - 600)..]}");
        Assert.Contains("hello-from-virtio\r\n", console, StringComparison.Ordinal);
        Assert.Contains("hello-from-cd\r\n", console, StringComparison.Ordinal);
        Assert.Contains($"PciRoot(0x0)/Pci(0x{slot + 1:X},0x0)/CDROM(0x0)", console, StringComparison.Ordinal);
        string qemu = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console", recording + ".txt"), Encoding.Latin1);
        Assert.Equal(qemu, console);
        Assert.Equal(before, disk);
        Assert.All(machine.VirtioDisks, d => Assert.Null(d.Block.Error));
    }

    /// <summary>Reads of the modern interface (BAR4 at 0xE0_0000_0000, where OVMF puts it on pc) with the Shell's <c>mm</c>.</summary>
    public const string ModernScript =
        "echo modern\r\nmm E000000004 -w 4 -MMIO -n\r\nmm E000000000 1 -w 4 -MMIO -n\r\nmm E000000004 -w 4 -MMIO -n\r\n"
        + "mm E000000000 2 -w 4 -MMIO -n\r\nmm E000000004 -w 4 -MMIO -n\r\nmm E00000000C -w 4 -MMIO -n\r\nmm E000000010 -w 4 -MMIO -n\r\n"
        + "mm E000000014 -w 4 -MMIO -n\r\nmm E000000018 -w 4 -MMIO -n\r\nmm E00000001C -w 4 -MMIO -n\r\nmm E000000020 -w 4 -MMIO -n\r\n"
        + "mm E000000034 -w 4 -MMIO -n\r\nmm E000000038 -w 4 -MMIO -n\r\nmm E00000003C -w 4 -MMIO -n\r\nmm E000001000 -w 1 -MMIO -n\r\n"
        + "mm E000002000 -w 8 -MMIO -n\r\nmm E000002014 -w 4 -MMIO -n\r\nmm E000002038 -w 4 -MMIO -n\r\nmm E000003000 -w 4 -MMIO -n\r\nreset -s\r\n";

    /// <summary>
    /// The modern interface QEMU builds beside the legacy one, read from the Shell while OVMF drives
    /// the disk through the legacy one: feature words 0x30006E54 and 0x101 (VERSION_1, RING_RESET),
    /// the common configuration, ISR, device configuration and notify region — QEMU's console byte
    /// for byte (Data/qemu72-console/virtio-modern-pc.*).
    /// </summary>
    [Fact]
    public void TheModernInterfaceReadsAsOnQemu()
    {
        var (disk, _) = IdeBootImages.Build(ModernScript);
        var info = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console", "virtio-modern-pc.info"));
        Assert.Equal(Field(info, "disk-sha256"), Convert.ToHexStringLower(SHA256.HashData(disk)));
        var serial = new List<byte>();
        using var machine = new PcMachine(new MachineOptions
        {
            Flash =
            [
                new FlashImage("code", File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M)), true),
                new FlashImage("vars", File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M)), false),
            ],
            SerialPorts = [new IsaSerialPort(0, serial.Add)],
            VirtioDrives = [new VirtioDrive(new MemoryBlockBackend(disk))],
        });

        var reason = machine.Run(4_000_000_000);

        string console = Encoding.Latin1.GetString(serial.ToArray());
        Assert.True(reason == StopReason.PowerOff, $"stopped: {reason} ({machine.StopDetail}); console tail: {console[Math.Max(0, console.Length - 600)..]}");
        Assert.Contains("0x00000101", console, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console", "virtio-modern-pc.txt"), Encoding.Latin1), console);
    }

    private static string Field(string[] info, string name) => info.Single(l => l.StartsWith(name + ": ", StringComparison.Ordinal))[(name.Length + 2)..];
}
