// BAR0 of virtio-pci: the legacy (virtio 0.9.5) register block, QEMU 7.2 hw/virtio/virtio-pci.c
// virtio_pci_config_read/write, virtio_ioport_read/write, virtio_pci_config_ops (accesses of
// 1–4 bytes, impl 1–4); Virtio 1.0 spec §4.1.4.8. Offsets: 0x00 host features (32 bits), 0x04
// guest features, 0x08 queue PFN, 0x0C queue size (16), 0x0E queue select (16), 0x10 queue notify
// (16), 0x12 device status (8), 0x13 ISR (8, read clears it and lowers INTA); with MSI-X enabled
// 0x14 the config vector and 0x16 the selected queue's vector, and the device configuration
// starts at 0x18 instead of 0x14 (VIRTIO_PCI_CONFIG_OFF).
// Registers answer whatever the access size (QEMU's switch on the offset; the memory core masks
// the value to the size); other offsets below the configuration read all-ones and ignore writes.
// The device configuration: VirtioBlk.ReadConfig/WriteConfig.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Virtio;

/// <summary>The 128-port legacy interface of a <see cref="VirtioBlkPci"/>.</summary>
public sealed class VirtioLegacyPort(VirtioBlkPci function) : IPortDevice
{
    public const ushort HostFeatures = 0x00;
    public const ushort GuestFeatures = 0x04;
    public const ushort QueuePfn = 0x08;
    public const ushort QueueNum = 0x0C;
    public const ushort QueueSelect = 0x0E;
    public const ushort QueueNotify = 0x10;
    public const ushort Status = 0x12;
    public const ushort Isr = 0x13;
    public const ushort MsiConfigVector = 0x14;
    public const ushort MsiQueueVector = 0x16;
    public const ushort ConfigWithoutMsix = 0x14;
    public const ushort ConfigWithMsix = 0x18;

    private VirtioBlk Block => function.Block;

    public string Name => function.Name + "-legacy";

    /// <summary>Where the device configuration starts: after the MSI-X vector registers once MSI-X is on.</summary>
    public ushort ConfigOffset => function.MsixEnabled ? ConfigWithMsix : ConfigWithoutMsix;

    public uint Read(ushort offset, int size)
    {
        if (offset >= ConfigOffset)
        {
            return Block.ReadConfig(offset - ConfigOffset, size);
        }

        bool msix = function.MsixEnabled;
        return offset switch
        {
            HostFeatures => (uint)Block.HostFeatures,
            GuestFeatures => (uint)Block.GuestFeatures,
            QueuePfn => Block.QueuePfn,
            QueueNum => Block.QueueNum,
            QueueSelect => Block.QueueSelect,
            Status => Block.Status,
            Isr => Block.ReadAndClearIsr(),
            MsiConfigVector when msix => function.ConfigVector,
            MsiQueueVector when msix => Block.QueueSelect == 0 ? function.QueueVector : VirtioBlkPci.NoVector,
            _ => uint.MaxValue,
        } & SizeMask(size);
    }

    public void Write(ushort offset, int size, uint value)
    {
        if (offset >= ConfigOffset)
        {
            Block.WriteConfig(offset - ConfigOffset, size, value);
            return;
        }

        switch (offset)
        {
            case GuestFeatures:
                // A driver that acks BAD_FEATURE does not negotiate: assume nothing (virtio-blk has no bad_features).
                Block.SetGuestFeatures((value & VirtioBlk.FeatureBad) != 0 ? 0 : value);
                break;
            case QueuePfn:
                Block.SetQueuePfn(value);
                if (value == 0)
                {
                    function.ResetTransport();
                }

                break;
            case QueueSelect:
                Block.SelectQueue(value);
                break;
            case QueueNotify:
                Block.Notify(value);
                break;
            case Status:
                Block.SetStatus((byte)value);
                if (Block.Status == 0)
                {
                    function.ResetTransport();
                }

                if ((value & VirtioBlk.StatusDriverOk) != 0)
                {
                    function.EnableBusMasterForDriver();
                }

                break;
            case MsiConfigVector when function.MsixEnabled:
                function.ConfigVector = VirtioBlkPci.VectorFor(value);
                break;
            case MsiQueueVector when function.MsixEnabled && Block.QueueSelect == 0:
                function.QueueVector = VirtioBlkPci.VectorFor(value);
                break;
        }
    }

    private static uint SizeMask(int size) => size >= 4 ? uint.MaxValue : (1u << (8 * size)) - 1;
}
