// BAR4 of virtio-pci: the modern (virtio 1.0) interface, QEMU 7.2 hw/virtio/virtio-pci.c
// virtio_pci_modern_regions_init and its four 4 KiB regions, in the order the capabilities name
// them; Virtio 1.0 spec §4.1.4. Every region takes 1- to 4-byte accesses (impl 1–4; wider ones
// are split), and a register answers whatever the access size (QEMU switches on the offset).
// - common configuration (+0x0000, virtio_pci_common_read/write): device feature select and word
//   (the offered bits without QEMU's legacy-only ones: word 0 0x30006E54, word 1 0x101 =
//   VERSION_1 | RING_RESET, measured), driver feature select and word (kept per word, as QEMU's
//   proxy keeps them, applied through virtio_set_features), MSI-X config vector, number of queues
//   (1), device status (0 resets), configuration generation, queue select, and for the selected
//   queue its size, MSI-X vector, enable (1 applies size and ring addresses; anything else is a
//   guest error "wrong value for queue_enable"), notify offset (= the queue number), the ring
//   addresses (held until enable, as QEMU's proxy holds them: a legacy PFN does not show here)
//   and, with RING_RESET, queue reset at 0x3A;
// - ISR (+0x1000): any read returns and clears it, lowering INTA (virtio_pci_isr_read);
// - device configuration (+0x2000): VirtioBlk's configuration as the legacy interface shows it;
// - notify (+0x3000): a write at 4 × N notifies queue N (notify_off_multiplier 4).
// Not emulated: per-queue settings of queues that do not exist (QEMU keeps what the driver writes
// for any queue below 1024; here they read 0), notification data.
// Firmware relies on: nothing (OVMF drives the legacy interface of this revision-0 device);
// Linux's virtio_pci_modern uses it.
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.Virtio;

/// <summary>The 16 KiB modern register block of a <see cref="VirtioBlkPci"/>.</summary>
public sealed class VirtioModernRegisters(VirtioBlkPci function) : IMmioDevice
{
    public const ulong BarSize = 0x4000;
    public const ulong IsrRegion = 0x1000;
    public const ulong DeviceRegion = 0x2000;
    public const ulong NotifyRegion = 0x3000;
    public const int NotifyMultiplier = 4;

    private const ulong DeviceFeatureSelect = 0x00;
    private const ulong DeviceFeature = 0x04;
    private const ulong DriverFeatureSelect = 0x08;
    private const ulong DriverFeature = 0x0C;
    private const ulong ConfigMsixVector = 0x10;
    private const ulong NumQueues = 0x12;
    private const ulong DeviceStatus = 0x14;
    private const ulong ConfigGeneration = 0x15;
    private const ulong QueueSelect = 0x16;
    private const ulong QueueSize = 0x18;
    private const ulong QueueMsixVector = 0x1A;
    private const ulong QueueEnable = 0x1C;
    private const ulong QueueNotifyOff = 0x1E;
    private const ulong QueueDescLow = 0x20;
    private const ulong QueueUsedHigh = 0x34;
    private const ulong QueueReset = 0x3A;

    private VirtioModernState _state = VirtioModernState.PowerOn;

    private VirtioBlk Block => function.Block;

    public string Name => function.Name + "-modern";

    /// <summary>virtio_pci_common_ops and the other regions: 1–4 bytes implemented, wider accesses split.</summary>
    public AccessSizes Sizes => new(1, 8, 1, 4);

    /// <summary>The interface's own registers (QEMU's proxy fields).</summary>
    public VirtioModernState State
    {
        get => Copy(_state);
        set => _state = Copy(value);
    }

    public ulong Read(ulong offset, int size)
    {
        uint value = offset switch
        {
            < IsrRegion => ReadCommon(offset),
            < DeviceRegion => Block.ReadAndClearIsr(),
            < NotifyRegion => Block.ReadConfig((int)(offset - DeviceRegion), size),
            _ => 0,
        };
        return value & (size >= 4 ? uint.MaxValue : (1u << (8 * size)) - 1);
    }

    public void Write(ulong offset, int size, ulong value)
    {
        switch (offset)
        {
            case < IsrRegion:
                WriteCommon(offset, (uint)value);
                break;
            case >= DeviceRegion and < NotifyRegion:
                Block.WriteConfig((int)(offset - DeviceRegion), size, (uint)value);
                break;
            case >= NotifyRegion:
                Block.Notify((uint)((offset - NotifyRegion) / NotifyMultiplier));
                break;
        }
    }

    /// <summary>virtio_pci_reset: the queue settings the driver wrote are gone (the selects and driver feature words stay, as in QEMU).</summary>
    public void ResetQueues() => _state = _state with { QueueSize = 0, QueueEnabled = false, Rings = new ulong[3] };

    /// <summary>Machine reset: everything back at power-on.</summary>
    public void Reset() => _state = VirtioModernState.PowerOn;

    private bool QueueZero => Block.QueueSelect == 0;

    private uint ReadCommon(ulong offset) => offset switch
    {
        DeviceFeatureSelect => _state.DeviceFeatureSelect,
        DeviceFeature => _state.DeviceFeatureSelect <= 1 ? (uint)((Block.HostFeatures & ~VirtioBlk.LegacyOnlyFeatures) >> (32 * (int)_state.DeviceFeatureSelect)) : 0,
        DriverFeatureSelect => _state.DriverFeatureSelect,
        DriverFeature => _state.DriverFeatureSelect <= 1 ? _state.GuestFeatureWords[_state.DriverFeatureSelect] : 0,
        ConfigMsixVector => function.ConfigVector,
        NumQueues => 1,
        DeviceStatus => Block.Status,
        ConfigGeneration => Block.ConfigGeneration,
        QueueSelect => Block.QueueSelect,
        QueueSize => QueueZero ? Block.Queue.Size : 0u,
        QueueMsixVector => QueueZero ? function.QueueVector : VirtioBlkPci.NoVector,
        QueueEnable => QueueZero && _state.QueueEnabled ? 1u : 0,
        QueueNotifyOff => Block.QueueSelect,
        >= QueueDescLow and <= QueueUsedHigh when (offset & 3) == 0 && QueueZero => RingWord(offset),
        _ => 0,
    };

    private void WriteCommon(ulong offset, uint value)
    {
        switch (offset)
        {
            case DeviceFeatureSelect:
                _state = _state with { DeviceFeatureSelect = value };
                break;
            case DriverFeatureSelect:
                _state = _state with { DriverFeatureSelect = value };
                break;
            case DriverFeature when _state.DriverFeatureSelect <= 1:
                _state.GuestFeatureWords[_state.DriverFeatureSelect] = value;
                Block.SetGuestFeatures(((ulong)_state.GuestFeatureWords[1] << 32) | _state.GuestFeatureWords[0]);
                break;
            case ConfigMsixVector:
                function.ConfigVector = VirtioBlkPci.VectorFor(value);
                break;
            case DeviceStatus:
                Block.SetStatus((byte)value);
                if (Block.Status == 0)
                {
                    function.ResetTransport();
                }

                break;
            case QueueSelect:
                Block.SelectQueue(value);
                break;
            case QueueSize when QueueZero:
                _state = _state with { QueueSize = (ushort)value };
                Block.SetQueueSize((ushort)value);
                break;
            case QueueMsixVector when QueueZero:
                function.QueueVector = VirtioBlkPci.VectorFor(value);
                break;
            case QueueEnable:
                EnableQueue(value);
                break;
            case >= QueueDescLow and <= QueueUsedHigh when (offset & 3) == 0 && QueueZero:
                int ring = (int)((offset - QueueDescLow) / 8);
                int shift = (offset & 4) != 0 ? 32 : 0;
                _state.Rings[ring] = (_state.Rings[ring] & ~(0xFFFF_FFFFUL << shift)) | ((ulong)value << shift);
                break;
            case QueueReset when value == 1 && QueueZero:
                Block.ResetQueue();
                _state = _state with { QueueEnabled = false };
                break;
        }
    }

    /// <summary>QUEUE_ENABLE: 1 applies the size and the three ring addresses; any other value is QEMU's virtio_error.</summary>
    private void EnableQueue(uint value)
    {
        if (value != 1)
        {
            Block.ReportGuestError($"wrong value for queue_enable {value:x}");
            return;
        }

        if (QueueZero)
        {
            Block.SetQueueSize(_state.QueueSize);
            Block.EnableQueue(_state.Rings[0], _state.Rings[1], _state.Rings[2]);
            _state = _state with { QueueEnabled = true };
        }
    }

    private static VirtioModernState Copy(VirtioModernState s) => s with { GuestFeatureWords = [.. s.GuestFeatureWords], Rings = [.. s.Rings] };

    private uint RingWord(ulong offset)
    {
        ulong address = _state.Rings[(int)((offset - QueueDescLow) / 8)];
        return (offset & 4) != 0 ? (uint)(address >> 32) : (uint)address;
    }
}

/// <summary>
/// The modern interface's registers of its own: the feature selects, the driver's feature words,
/// queue 0's size, enable and ring addresses (descriptors, available, used) as written.
/// </summary>
public sealed record VirtioModernState(
    uint DeviceFeatureSelect, uint DriverFeatureSelect, uint[] GuestFeatureWords, ushort QueueSize, bool QueueEnabled, ulong[] Rings)
{
    public static VirtioModernState PowerOn => new(0, 0, new uint[2], 0, false, new ulong[3]);
}
