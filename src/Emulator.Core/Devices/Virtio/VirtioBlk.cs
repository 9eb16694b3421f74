// The virtio block device behind virtio-blk-pci, as QEMU 7.2 builds it for -drive if=virtio
// (hw/block/virtio-blk.c virtio_blk_get_features, virtio_blk_update_config,
// virtio_blk_handle_request, virtio_blk_sect_range_ok, virtio_blk_req_complete; hw/virtio/virtio.c
// virtio_set_features, virtio_set_status, virtio_reset, virtio_notify, virtio_error).
// Emulated: the feature bits QEMU offers (measured 0x79006E54 with OVMF, plus RO for a read-only
// medium); the configuration space (capacity, seg_max 254, geometry as hd_geometry_guess,
// blk_size 512, topology 0, wce 1, num_queues 1, QEMU's discard and write-zeroes limits); one
// request queue of 256 descriptors; requests IN (0), OUT (1), FLUSH (4) and GET_ID (8) with
// QEMU's type masking (the OUT and BARRIER bits), range rule (whole 512-byte sectors inside the
// medium, else IOERR) and used lengths (every device-writable byte of the chain); a write to a
// read-only medium or a backend error completes with IOERR; DISCARD and WRITE_ZEROES as QEMU
// does them for a drive with its default discard=ignore; anything else UNSUPP
// (VirtioBlk.Requests.cs). Requests
// complete synchronously when the guest notifies. The ISR's queue bit and an interrupt whenever
// QEMU's virtio_should_notify says so. A guest error (a bad ring, chain or header) makes the
// device "broken" as QEMU's virtio_error does: no queue is processed until a reset, and the
// message is kept and reported (GuestError).
// Not emulated: SCSI passthrough (QEMU's scsi=off answers UNSUPP too); request merging and
// asynchronous completion; config-change interrupts for a resized medium (it never changes size).
// Firmware relies on: OVMF's VirtioBlkDxe (VirtioBlkInit, SynchronousRequest) negotiating
// BLK_SIZE|TOPOLOGY|RO|FLUSH, reading capacity/blk_size/topology, one 256-entry queue, polling
// the used index with NO_INTERRUPT set, FLUSH from FlushBlocks.
using System.Buffers.Binary;
using Emulator.Core.Devices.Ide;
using Emulator.Core.Memory;
using Emulator.Core.Storage;

namespace Emulator.Core.Devices.Virtio;

/// <summary>The virtio-blk device: features, status, configuration, its one request queue.</summary>
public sealed partial class VirtioBlk
{
    public const int SectorSize = 512;
    public const ushort QueueSize = 256;

    /// <summary>QEMU's VIRTIO_QUEUE_MAX: QUEUE_SEL and QUEUE_NOTIFY ignore values from here on.</summary>
    public const int QueueMax = 1024;

    public const uint FeatureSegMax = 1u << 2;
    public const uint FeatureGeometry = 1u << 4;
    public const uint FeatureReadOnly = 1u << 5;
    public const uint FeatureBlockSize = 1u << 6;
    public const uint FeatureFlush = 1u << 9;
    public const uint FeatureTopology = 1u << 10;
    public const uint FeatureConfigWce = 1u << 11;
    public const uint FeatureDiscard = 1u << 13;
    public const uint FeatureWriteZeroes = 1u << 14;
    public const uint FeatureNotifyOnEmpty = 1u << 24;
    public const uint FeatureAnyLayout = 1u << 27;
    public const uint FeatureIndirectDescriptors = 1u << 28;
    public const uint FeatureEventIndex = 1u << 29;

    /// <summary>VIRTIO_F_BAD_FEATURE: QEMU offers it on the legacy interface so a guest that acks it is known not to negotiate.</summary>
    public const uint FeatureBad = 1u << 30;

    /// <summary>VIRTIO_F_VERSION_1: offered because the modern interface exists (virtio_pci_device_plugged).</summary>
    public const ulong FeatureVersion1 = 1UL << 32;

    /// <summary>VIRTIO_F_RING_RESET: QEMU 7.2's queue_reset property, on for its 7.2 machines (measured: modern features word 1 = 0x101).</summary>
    public const ulong FeatureRingReset = 1UL << 40;

    /// <summary>QEMU's VIRTIO_LEGACY_FEATURES: what the modern interface hides from the driver (BAD_FEATURE, NOTIFY_ON_EMPTY, ANY_LAYOUT).</summary>
    public const ulong LegacyOnlyFeatures = FeatureBad | FeatureNotifyOnEmpty | FeatureAnyLayout;

    public const byte StatusFeaturesOk = 8;
    public const byte StatusNeedsReset = 0x40;

    /// <summary>What QEMU 7.2 offers a writable drive on the legacy interface (measured with OVMF: 0x79006E54).</summary>
    public const uint HostFeaturesWritable = FeatureSegMax | FeatureGeometry | FeatureBlockSize | FeatureFlush | FeatureTopology | FeatureConfigWce
        | FeatureDiscard | FeatureWriteZeroes | FeatureNotifyOnEmpty | FeatureAnyLayout | FeatureIndirectDescriptors | FeatureEventIndex | FeatureBad;

    public const byte StatusDriverOk = 4;

    public const uint RequestIn = 0;
    public const uint RequestOut = 1;
    public const uint RequestFlush = 4;
    public const uint RequestGetId = 8;
    private const uint RequestBarrier = 0x8000_0000;

    public const byte StatusOk = 0;
    public const byte StatusIoError = 1;
    public const byte StatusUnsupported = 2;

    /// <summary>QEMU's config_size for these features: up to write_zeroes_may_unmap (virtio_blk_cfg_size_params).</summary>
    public const int ConfigSize = 57;

    private const int RequestHeaderSize = 16;
    private const int WriteCacheOffset = 32;

    /// <summary>QEMU's BDRV_REQUEST_MAX_SECTORS (INT_MAX >> 9): the most sectors one request may move, and the discard/write-zeroes limits.</summary>
    private const uint MaxRequestSectors = int.MaxValue >> 9;

    private const int IdBytes = 20;

    private readonly PhysicalBus _memory;
    private readonly IBlockBackend _backend;
    private readonly Action<VirtioInterrupt> _interrupt;
    private readonly byte[] _config = new byte[ConfigSize];

    /// <param name="memory">Guest memory the queue and the requests' buffers live in.</param>
    /// <param name="backend">The medium (not disposed here).</param>
    /// <param name="interrupt">Called after the ISR changed, saying whether the queue or the configuration was signalled (virtio_notify_vector): the transport sends that vector or updates its line.</param>
    public VirtioBlk(PhysicalBus memory, IBlockBackend backend, Action<VirtioInterrupt> interrupt)
    {
        _memory = memory;
        _backend = backend;
        _interrupt = interrupt;
        HostFeatures = HostFeaturesWritable | (backend.ReadOnly ? FeatureReadOnly : 0) | FeatureVersion1 | FeatureRingReset;
        Queue = new VirtQueue(memory, QueueSize);
        BuildConfig();
    }

    /// <summary>All 64 offered bits; the legacy interface shows the low 32.</summary>
    public ulong HostFeatures { get; }

    public ulong GuestFeatures { get; private set; }

    /// <summary>The configuration generation (QEMU vdev->generation): counts configuration-change notifications.</summary>
    public byte ConfigGeneration { get; private set; }

    public byte Status { get; private set; }

    public ushort QueueSelect { get; private set; }

    /// <summary>ISR status: bit 0 a queue interrupt (read-to-clear through the transport).</summary>
    public byte Isr { get; private set; }

    /// <summary>The request queue (queue 0).</summary>
    public VirtQueue Queue { get; }

    /// <summary>
    /// QEMU's vdev->disabled (use_disabled_flag, on for 7.2 machines): the transport turned bus
    /// mastering off, so the queue looks empty and nothing is processed (virtio_queue_split_empty);
    /// a reset leaves it as it is, as QEMU's does.
    /// </summary>
    public bool Disabled { get; set; }

    /// <summary>QEMU's vdev->broken: a guest error stopped the device until reset.</summary>
    public bool Broken { get; private set; }

    /// <summary>The guest error that broke the device (QEMU's error_report of virtio_error), or null.</summary>
    public string? Error { get; private set; }

    /// <summary>Raised once per guest error with QEMU's message.</summary>
    public event Action<string>? GuestError;

    /// <summary>The configuration space as the guest reads it.</summary>
    public ReadOnlySpan<byte> Config => _config;

    /// <summary>virtio_blk_set_config: the guest switches the write cache (wce); the medium is written through either way, so only the byte changes.</summary>
    public void SetWriteCache(bool enabled) => _config[WriteCacheOffset] = enabled ? (byte)1 : (byte)0;

    /// <summary>virtio_config_(modern_)readb/w/l: little-endian fields; an access reaching past config_len reads all-ones.</summary>
    public uint ReadConfig(int offset, int size)
    {
        if (offset + size > _config.Length)
        {
            return size >= 4 ? uint.MaxValue : (1u << (8 * size)) - 1;
        }

        uint value = 0;
        for (int i = 0; i < size; i++)
        {
            value |= (uint)_config[offset + i] << (8 * i);
        }

        return value;
    }

    /// <summary>virtio_config_(modern_)write*: inside config_len, then virtio_blk_set_config, which takes only wce.</summary>
    public void WriteConfig(int offset, int size, uint value)
    {
        if (offset + size <= _config.Length && offset <= WriteCacheOffset && WriteCacheOffset < offset + size)
        {
            SetWriteCache(((value >> (8 * (WriteCacheOffset - offset))) & 0xFF) != 0);
        }
    }

    /// <summary>virtio_set_features: ignored once FEATURES_OK is set; only offered bits stick.</summary>
    public void SetGuestFeatures(ulong value)
    {
        if ((Status & StatusFeaturesOk) == 0)
        {
            GuestFeatures = value & HostFeatures;
        }
    }

    /// <summary>The modern QUEUE_SIZE write (virtio_queue_set_num) for the selected queue.</summary>
    public void SetQueueSize(ushort num)
    {
        if (QueueSelect == 0)
        {
            Queue.SetSize(num);
        }
    }

    /// <summary>The modern QUEUE_ENABLE: the selected queue's rings where the driver put them (virtio_queue_set_rings).</summary>
    public void EnableQueue(ulong descriptors, ulong avail, ulong used)
    {
        if (QueueSelect == 0)
        {
            Guarded(() => Queue.SetRings(descriptors, avail, used));
        }
    }

    /// <summary>The modern QUEUE_RESET (VIRTIO_F_RING_RESET, virtio_queue_reset): the selected queue back to unset.</summary>
    public void ResetQueue()
    {
        if (QueueSelect == 0)
        {
            Queue.Reset();
        }
    }

    /// <summary>A guest mistake outside the queue (QEMU virtio_error from the transport, e.g. "wrong value for queue_enable").</summary>
    public void ReportGuestError(string message) => Guarded(() => throw new VirtioGuestError(message));

    /// <summary>virtio_set_status, then virtio_pci's reset when the guest writes 0.</summary>
    public void SetStatus(byte value)
    {
        Status = value;
        if (value == 0)
        {
            Reset();
        }
    }

    public void SelectQueue(uint value)
    {
        if (value < QueueMax)
        {
            QueueSelect = (ushort)value;
        }
    }

    /// <summary>QUEUE_PFN write: 0 resets the device (virtio_ioport_write), else the selected queue's rings are at PFN × 4 KiB.</summary>
    public void SetQueuePfn(uint pfn)
    {
        if (pfn == 0)
        {
            Reset();
            return;
        }

        if (QueueSelect != 0)
        {
            return;
        }

        Guarded(() => Queue.SetAddress((ulong)pfn * VirtQueue.LegacyAlign));
    }

    /// <summary>QUEUE_PFN read: the selected queue's address in pages.</summary>
    public uint QueuePfn => QueueSelect == 0 ? (uint)(Queue.Descriptors / VirtQueue.LegacyAlign) : 0;

    /// <summary>QUEUE_NUM read: 256 for the request queue, 0 for queues that do not exist.</summary>
    public ushort QueueNum => QueueSelect == 0 ? QueueSize : (ushort)0;

    /// <summary>ISR read: the value, cleared (virtio_pci's qatomic_xchg), the line dropped.</summary>
    public byte ReadAndClearIsr()
    {
        byte isr = Isr;
        Isr = 0;
        _interrupt(VirtioInterrupt.None);
        return isr;
    }

    /// <summary>
    /// QUEUE_NOTIFY: virtio_queue_notify → virtio_blk_handle_vq: takes every offered request,
    /// completes each and interrupts as virtio_should_notify says; a set-up queue and a device
    /// that is not broken only.
    /// </summary>
    public void Notify(uint queue)
    {
        if (queue != 0 || !Queue.IsSetUp || Broken || Disabled)
        {
            return;
        }

        Guarded(() =>
        {
            do
            {
                while (Queue.Pop() is { } element)
                {
                    uint written = Execute(element);
                    Queue.Push(element, written);
                    if (Queue.ShouldNotify((GuestFeatures & FeatureEventIndex) != 0, (GuestFeatures & FeatureNotifyOnEmpty) != 0))
                    {
                        Isr |= 1;
                        _interrupt(VirtioInterrupt.Queue);
                    }
                }

                if ((GuestFeatures & FeatureEventIndex) != 0)
                {
                    Queue.PublishAvailEvent();
                }
            }
            while (Queue.HasPending);
        });
    }

    /// <summary>virtio_reset and virtio_blk_reset: status, features, queue selection, ISR, the queue, the write cache back on; the device is no longer broken.</summary>
    public void Reset()
    {
        SetWriteCache(true);
        Status = 0;
        GuestFeatures = 0;
        QueueSelect = 0;
        Isr = 0;
        ConfigGeneration = 0;
        Broken = false;
        Error = null;
        Queue.Reset();
        _interrupt(VirtioInterrupt.None);
    }

    public VirtioBlkState Save() => new(GuestFeatures, Status, QueueSelect, Isr, Queue.Descriptors, Queue.LastAvailIndex, Queue.UsedIndex,
        Queue.SignalledUsed, Queue.SignalledUsedValid, Broken, Error, _config[WriteCacheOffset] != 0, Queue.Size, Queue.Avail, Queue.Used, ConfigGeneration, Disabled);

    /// <summary>Puts a saved device back (the transport drives its line afterwards).</summary>
    public void Restore(VirtioBlkState s)
    {
        GuestFeatures = s.GuestFeatures;
        Status = s.Status;
        QueueSelect = s.QueueSelect;
        Isr = s.Isr;
        Broken = s.Broken;
        Error = s.Error;
        SetWriteCache(s.WriteCache);
        ConfigGeneration = s.ConfigGeneration;
        Disabled = s.Disabled;
        Queue.Reset();
        try
        {
            Queue.SetSize(s.QueueSize);
            Queue.SetRings(s.QueueAddress, s.QueueAvail, s.QueueUsed);
        }
        catch (VirtioGuestError)
        {
            // The record says where the guest put the rings; a broken device keeps them too.
        }

        Queue.LastAvailIndex = s.LastAvailIndex;
        Queue.UsedIndex = s.UsedIndex;
        Queue.SignalledUsed = s.SignalledUsed;
        Queue.SignalledUsedValid = s.SignalledUsedValid;
    }

    /// <summary>Runs a queue operation; a guest error breaks the device (virtio_error) instead of leaving the device.</summary>
    private void Guarded(Action action)
    {
        try
        {
            action();
        }
        catch (VirtioGuestError e)
        {
            // A virtio 1.0 driver also sees DEVICE_NEEDS_RESET and a configuration interrupt
            // (virtio_error → virtio_notify_config, which does nothing before DRIVER_OK).
            Broken = true;
            Error ??= e.Message;
            if ((GuestFeatures & FeatureVersion1) != 0)
            {
                Status |= StatusNeedsReset;
                if ((Status & StatusDriverOk) != 0)
                {
                    Isr |= 2;
                    ConfigGeneration++;
                    _interrupt(VirtioInterrupt.Config);
                }
            }

            GuestError?.Invoke(e.Message);
        }
    }

    /// <summary>virtio_blk_update_config for this medium (little-endian: a legacy device on x86).</summary>
    private void BuildConfig()
    {
        var c = _config.AsSpan();
        long sectors = _backend.Length / SectorSize;
        var geometry = DiskGeometry.Guess(_backend);
        BinaryPrimitives.WriteUInt64LittleEndian(c, (ulong)sectors);
        BinaryPrimitives.WriteUInt32LittleEndian(c[12..], QueueSize - 2);
        BinaryPrimitives.WriteUInt16LittleEndian(c[16..], (ushort)geometry.Cylinders);
        c[18] = (byte)geometry.Heads;
        c[19] = (byte)geometry.SectorsPerTrack;
        BinaryPrimitives.WriteUInt32LittleEndian(c[20..], SectorSize);
        c[WriteCacheOffset] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(c[34..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(c[36..], MaxRequestSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(c[40..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(c[44..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(c[48..], MaxRequestSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(c[52..], 1);
        c[56] = 1;
    }
}

/// <summary>The virtio-blk device's state: negotiation, status, ISR, the queue's size, rings and positions, the broken flag, the configuration generation.</summary>
public sealed record VirtioBlkState(
    ulong GuestFeatures, byte Status, ushort QueueSelect, byte Isr, ulong QueueAddress, ushort LastAvailIndex, ushort UsedIndex,
    ushort SignalledUsed, bool SignalledUsedValid, bool Broken, string? Error, bool WriteCache, ushort QueueSize, ulong QueueAvail, ulong QueueUsed,
    byte ConfigGeneration, bool Disabled);

/// <summary>What the device signalled when its ISR changed (virtio_notify_vector's vector: none, the queue's, the configuration's).</summary>
public enum VirtioInterrupt
{
    None,
    Queue,
    Config,
}
