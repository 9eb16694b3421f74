// BAR0 of virtio-pci: the legacy (virtio 0.9.5) register block, QEMU 7.2 hw/virtio/virtio-pci.c
// virtio_pci_config_read/write, virtio_ioport_read/write, virtio_pci_config_ops (accesses of
// 1–4 bytes, impl 1–4); Virtio 1.0 spec §4.1.4.8. Offsets: 0x00 host features (32 bits), 0x04
// guest features, 0x08 queue PFN, 0x0C queue size (16), 0x0E queue select (16), 0x10 queue notify
// (16), 0x12 device status (8), 0x13 ISR (8, read clears it and lowers INTA); with MSI-X enabled
// 0x14 the config vector and 0x16 the selected queue's vector, and the device configuration
// starts at 0x18 instead of 0x14 (VIRTIO_PCI_CONFIG_OFF).
// Registers answer whatever the access size (QEMU's switch on the offset; the memory core masks
// the value to the size); other offsets below the configuration read all-ones and ignore writes.
// Configuration reads past the device's config_len read all-ones (virtio_config_readb/w/l);
// a write inside it reaches only the write-cache byte (virtio_blk_set_config: wce).
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

    /// <summary>virtio_blk_config.wce.</summary>
    private const int WriteCacheOffset = 32;

    private VirtioBlk Block => function.Block;

    public string Name => function.Name + "-legacy";

    /// <summary>Where the device configuration starts: after the MSI-X vector registers once MSI-X is on.</summary>
    public ushort ConfigOffset => function.MsixEnabled ? ConfigWithMsix : ConfigWithoutMsix;

    public uint Read(ushort offset, int size)
    {
        if (offset >= ConfigOffset)
        {
            return ReadConfig(offset - ConfigOffset, size);
        }

        bool msix = function.MsixEnabled;
        return offset switch
        {
            HostFeatures => Block.HostFeatures,
            GuestFeatures => Block.GuestFeatures,
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
            int at = offset - ConfigOffset;
            if (at + size <= Block.Config.Length && at <= WriteCacheOffset && WriteCacheOffset < at + size)
            {
                Block.SetWriteCache(((value >> (8 * (WriteCacheOffset - at))) & 0xFF) != 0);
            }

            return;
        }

        switch (offset)
        {
            case GuestFeatures:
                Block.SetGuestFeatures(value);
                break;
            case QueuePfn:
                Block.SetQueuePfn(value);
                if (value == 0)
                {
                    ResetVectors();
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
                    ResetVectors();
                }

                if ((value & VirtioBlk.StatusDriverOk) != 0)
                {
                    function.EnableBusMasterForDriver();
                }

                break;
            case MsiConfigVector when function.MsixEnabled:
                function.ConfigVector = Vector(value);
                break;
            case MsiQueueVector when function.MsixEnabled && Block.QueueSelect == 0:
                function.QueueVector = Vector(value);
                break;
        }
    }

    /// <summary>msix_vector_use fails for a vector beyond the table: the register then holds VIRTIO_NO_VECTOR.</summary>
    private static ushort Vector(uint value) => (ushort)value < VirtioBlkPci.MsixVectors ? (ushort)value : VirtioBlkPci.NoVector;

    /// <summary>virtio_pci_reset's part: the vectors go back to none.</summary>
    private void ResetVectors()
    {
        function.ConfigVector = VirtioBlkPci.NoVector;
        function.QueueVector = VirtioBlkPci.NoVector;
    }

    /// <summary>virtio_config_readb/w/l: little-endian fields; an access reaching past config_len reads all-ones.</summary>
    private uint ReadConfig(int offset, int size)
    {
        var config = Block.Config;
        if (offset + size > config.Length)
        {
            return SizeMask(size);
        }

        uint value = 0;
        for (int i = 0; i < size; i++)
        {
            value |= (uint)config[offset + i] << (8 * i);
        }

        return value;
    }

    private static uint SizeMask(int size) => size >= 4 ? uint.MaxValue : (1u << (8 * size)) - 1;
}
