using Emulator.Core.Devices.Ide;
using Emulator.Core.Devices.Pci;

namespace Emulator.Core.Machine;

/// <summary>
/// The PIIX3 IDE function 00:01.1 that QEMU's pc board always has (hw/i386/pc_piix.c creates it
/// even under -nodefaults): both channels at their legacy ports with their ISA IRQs, and the
/// bus-master block wherever the guest programs BAR4. No drives are attached.
/// </summary>
public sealed partial class PcMachine
{
    private ushort _busMasterBase;
    private bool _busMasterMapped;

    public Piix3Ide Ide { get; private set; } = null!;

    private void WireIde()
    {
        Ide = AddDevice(new Piix3Ide());
        Pci.Attach(1, Piix3Ide.FunctionNumber, Ide);
        for (int i = 0; i < Piix3Ide.ChannelCount; i++)
        {
            var channel = Ide.Channels[i];
            Ports.Register(Piix3Ide.CommandBlockBase(i), IdeChannel.CommandBlockPorts, channel);
            Ports.Register(Piix3Ide.ControlBlockBase(i), IdeControlBlock.PortCount, new IdeControlBlock(channel));
            ConnectToGsi(Ide.BusMaster[i].Irq, Piix3Ide.Irq(i));
        }

        Ide.BusMasterIoChanged += MoveBusMasterBlock;
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
