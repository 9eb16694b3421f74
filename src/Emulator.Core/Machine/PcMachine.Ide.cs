using Emulator.Core.Devices.Ide;
using Emulator.Core.Devices.Pci;

namespace Emulator.Core.Machine;

/// <summary>
/// The PIIX3 IDE function 00:01.1 that QEMU's pc board always has (hw/i386/pc_piix.c creates it
/// even under -nodefaults): both channels at their legacy ports with their ISA IRQs, the
/// bus-master block wherever the guest programs BAR4, the drives of
/// <see cref="MachineOptions.IdeDrives"/> at their positions, and the CMOS bytes QEMU's
/// pc_cmos_init_late writes for IDE disks.
/// </summary>
public sealed partial class PcMachine
{
    private ushort _busMasterBase;
    private bool _busMasterMapped;

    public Piix3Ide Ide { get; private set; } = null!;

    /// <summary>
    /// Whether the board takes <see cref="MachineOptions.IdeDrives"/>: pc on its PIIX3 channels;
    /// q35 once its AHCI ports take drives (until then the machine refuses them, and the QEMU
    /// drop-in leaves them out with a warning so harness lines that pass a disk still run).
    /// </summary>
    public static bool TakesIdeDrives(PcChipset chipset) => chipset == PcChipset.I440fx;

    private void WireIde()
    {
        Ide = AddDevice(new Piix3Ide(Bus, Options.IdeDrives));
        Pci.Attach(1, Piix3Ide.FunctionNumber, Ide);
        for (int i = 0; i < Piix3Ide.ChannelCount; i++)
        {
            var channel = Ide.Channels[i];
            Ports.Register(Piix3Ide.CommandBlockBase(i), IdeChannel.CommandBlockPorts, channel);
            Ports.Register(Piix3Ide.ControlBlockBase(i), IdeControlBlock.PortCount, new IdeControlBlock(channel));
            ConnectToGsi(Ide.BusMaster[i].Irq, Piix3Ide.Irq(i));
        }

        Ide.BusMasterIoChanged += MoveBusMasterBlock;
        SetIdeDiskCmosBytes();
    }

    /// <summary>
    /// QEMU pc_cmos_init_late: for each primary-channel disk its geometry as drive type 47 (0x19
    /// and 0x1B… for the master, 0x1A and 0x24… for the slave) and its presence nibble in 0x12;
    /// for every disk the BIOS translation (minus one) in 0x39, two bits a position. CD-ROMs have
    /// no geometry and leave their bytes 0.
    /// </summary>
    private void SetIdeDiskCmosBytes()
    {
        const int driveTypeUserDefined = 47;
        byte present = 0;
        byte translation = 0;
        for (int index = 0; index <= IdeDrive.MaxIndex; index++)
        {
            var device = Ide.Channels[index / 2].Devices[index % 2];
            if (device.Kind != IdeDriveKind.Disk)
            {
                continue;
            }

            var g = device.Geometry;
            translation |= (byte)(((int)g.Translation - 1) << (index * 2));
            if (index >= 2)
            {
                continue;
            }

            present |= index == 0 ? (byte)0xF0 : (byte)0x0F;
            Cmos.SetByte(0x19 + index, driveTypeUserDefined);
            int info = index == 0 ? 0x1B : 0x24;
            byte[] bytes =
            [
                (byte)g.Cylinders, (byte)(g.Cylinders >> 8), (byte)g.Heads, 0xFF, 0xFF,
                (byte)(0xC0 | ((g.Heads > 8 ? 1 : 0) << 3)), (byte)g.Cylinders, (byte)(g.Cylinders >> 8), (byte)g.SectorsPerTrack,
            ];
            for (int i = 0; i < bytes.Length; i++)
            {
                Cmos.SetByte(info + i, bytes[i]);
            }
        }

        Cmos.SetByte(0x12, present);
        Cmos.SetByte(0x39, translation);
    }

    /// <summary>BAR4 moved or its decoding was switched: the two bus-master blocks follow (channel i at base + 8 × i).</summary>
    private void MoveBusMasterBlock(bool enabled, ushort busMasterBase)
    {
        for (int i = 0; i < Piix3Ide.ChannelCount && _busMasterMapped; i++)
        {
            Ports.Unregister((ushort)(_busMasterBase + (i * BusMasterChannel.PortCount)), BusMasterChannel.PortCount, Ide.BusMaster[i]);
        }

        _busMasterMapped = enabled;
        _busMasterBase = busMasterBase;
        for (int i = 0; i < Piix3Ide.ChannelCount && enabled; i++)
        {
            Ports.Register((ushort)(busMasterBase + (i * BusMasterChannel.PortCount)), BusMasterChannel.PortCount, Ide.BusMaster[i]);
        }
    }
}
