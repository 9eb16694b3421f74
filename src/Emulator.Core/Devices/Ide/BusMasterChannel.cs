// The bus-master IDE registers of one channel of the PIIX3 IDE function and the DMA engine behind
// them (Intel 82371SB §2.7; QEMU hw/ide/piix.c bmdma_read/bmdma_write and hw/ide/pci.c
// bmdma_cmd_writeb, bmdma_start_dma, bmdma_prepare_buf, bmdma_rw_buf, bmdma_set_inactive,
// bmdma_reset): 8 ports at BMIBA + 8 × channel.
// Offset 0: command (bit 0 start/stop, bit 3 read/write; other bits read 0). Offset 2: status
// (bit 0 active, bit 1 error and bit 2 interrupt write-1-to-clear, bits 5–6 "drive DMA capable"
// read/write). Offsets 1 and 3 read 0xFF. Offsets 4–7: the physical-region-descriptor table
// address (bits 1–0 read 0), accessible at any width. Offsets 0–3 answer byte accesses only:
// wider reads return all ones and wider writes are dropped, as on QEMU.
// Emulated: the registers; the descriptor-table walk — 8-byte entries {address, byte count
// (bits 15–1; 0 means 64 KiB), bit 31 end of table}, read from guest memory as the transfer
// needs them, a region free to cross 64 KiB lines, the walk stopped after 4 KiB of table (QEMU's
// fail-safe); starting the engine sets "active" and runs a DMA command the selected device has
// pending (or one issued later runs at once); the end of a transfer clears "active" (or keeps it
// when the table described more than the command moved), and the device's interrupt sets the
// interrupt bit on its way to the ISA IRQ (QEMU bmdma_irq). Guest memory is reached only while
// the function's PCI command register enables bus mastering (else reads see zeros and writes
// are dropped, as QEMU's disabled bus-master address space does).
// Not emulated: the error bit is never set (QEMU never sets it either: a failed transfer is
// reported through the device's status); transfers take no virtual time.
// Firmware relies on: OVMF's AtaAtapiPassThruDxe (AtaUdmaInOut) programs the table address,
// clears the status bits, issues READ/WRITE DMA, starts the engine and polls the interrupt
// and error bits every 100 µs.
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.Ide;

/// <summary>Bus-master command, status and descriptor-table registers of one IDE channel.</summary>
public sealed class BusMasterChannel : IPortDevice, IDevice
{
    public const int PortCount = 8;
    public const int CommandOffset = 0;
    public const int StatusOffset = 2;
    public const int TableAddressOffset = 4;

    public const byte CommandStart = 0x01;
    public const byte CommandWritableBits = 0x09;
    public const byte StatusActive = 0x01;
    public const byte StatusError = 0x02;
    public const byte StatusInterrupt = 0x04;
    public const byte StatusDmaCapable = 0x60;

    private const uint TableAddressAlignmentMask = 3;
    private const uint TableFailSafe = 4096;
    private const int DescriptorSize = 8;
    private const uint DescriptorEnd = 0x8000_0000;
    private const uint DescriptorCountMask = 0xFFFE;
    private const int RegionMax = 0x10000;

    private readonly PhysicalBus? _memory;
    private readonly Func<bool> _busMasterEnabled;
    private uint _descriptorAddress;
    private bool _lastRegion;
    private uint _regionAddress;
    private int _regionLength;

    /// <param name="name">The block's device name.</param>
    /// <param name="channel">The channel whose devices transfer through this block.</param>
    /// <param name="memory">Guest memory, or null for a block that never reaches it (tests of the registers alone).</param>
    /// <param name="busMasterEnabled">Whether the PCI command register lets the function master the bus.</param>
    public BusMasterChannel(string name, IdeChannel channel, PhysicalBus? memory = null, Func<bool>? busMasterEnabled = null)
    {
        Name = name;
        Irq = new OutputLine(name + ".irq");
        Channel = channel;
        channel.BusMaster = this;
        _memory = memory;
        _busMasterEnabled = busMasterEnabled ?? (() => true);
    }

    /// <summary>The channel this block serves.</summary>
    public IdeChannel Channel { get; }

    /// <summary>A device's DMA command waits for (or is in) a transfer (QEMU: dma_cb set).</summary>
    public bool DmaPending { get; private set; }

    /// <summary>The device position the pending DMA belongs to (QEMU's retry_unit), -1 for none.</summary>
    public int ActiveUnit { get; private set; } = -1;

    public string Name { get; }

    /// <summary>The channel's interrupt on its way to the ISA IRQ (QEMU BMDMAState irq).</summary>
    public OutputLine Irq { get; }

    public byte Command { get; private set; }

    public byte Status { get; private set; }

    /// <summary>The physical-region-descriptor table address.</summary>
    public uint TableAddress { get; private set; }

    public uint Read(ushort offset, int size)
    {
        if (offset >= TableAddressOffset)
        {
            int shift = (offset - TableAddressOffset) * 8;
            return (uint)((TableAddress >> shift) & WidthMask(size));
        }

        if (size != 1)
        {
            return (uint)WidthMask(size);
        }

        return offset switch
        {
            CommandOffset => Command,
            StatusOffset => Status,
            _ => 0xFF,
        };
    }

    public void Write(ushort offset, int size, uint value)
    {
        if (offset >= TableAddressOffset)
        {
            int shift = (offset - TableAddressOffset) * 8;
            uint mask = (uint)(WidthMask(size) << shift);
            TableAddress = ((TableAddress & ~mask) | ((value << shift) & mask)) & ~TableAddressAlignmentMask;
            return;
        }

        if (size != 1)
        {
            return;
        }

        byte b = (byte)value;
        if (offset == CommandOffset)
        {
            WriteCommand(b);
        }
        else if (offset == StatusOffset)
        {
            byte clearable = StatusError | StatusInterrupt;
            Status = (byte)((b & StatusDmaCapable) | (Status & StatusActive) | (Status & ~b & clearable));
        }
    }

    /// <summary>The channel's interrupt input (QEMU bmdma_irq): a raise latches the status interrupt bit; the level goes on to <see cref="Irq"/>.</summary>
    public void InterruptIn(bool level)
    {
        if (level)
        {
            Status |= StatusInterrupt;
        }

        Irq.Set(level);
    }

    /// <summary>
    /// Machine reset (QEMU bmdma_reset): an active transfer is cancelled, every register and the
    /// walk position 0. A DMA command a device issued while the engine was stopped stays pending,
    /// as QEMU keeps its dma_cb.
    /// </summary>
    public void Reset()
    {
        if ((Status & StatusActive) != 0)
        {
            SetInactive(false);
        }

        Command = 0;
        Status = 0;
        TableAddress = 0;
        _descriptorAddress = 0;
        _lastRegion = false;
        _regionAddress = 0;
        _regionLength = 0;
    }

    public DeviceState SaveState() => new BusMasterState(
        Command, Status, TableAddress, Irq.Level, _descriptorAddress, _lastRegion, _regionAddress, _regionLength, DmaPending, ActiveUnit);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<BusMasterState>(state, this);
        Command = s.Command;
        Status = s.Status;
        TableAddress = s.TableAddress;
        (_descriptorAddress, _lastRegion, _regionAddress, _regionLength) = (s.DescriptorAddress, s.LastRegion, s.RegionAddress, s.RegionLength);
        (DmaPending, ActiveUnit) = (s.DmaPending, s.ActiveUnit);
        Irq.Restore(s.Interrupt);
    }

    /// <summary>QEMU bmdma_start_dma: <paramref name="device"/> has a DMA command; it runs now if the engine is active.</summary>
    internal void StartDma(IdeDevice device)
    {
        ActiveUnit = device.Unit;
        DmaPending = true;
        _lastRegion = false;
        _regionAddress = 0;
        _regionLength = 0;
        if ((Status & StatusActive) != 0)
        {
            device.ContinueDma();
        }
    }

    /// <summary>QEMU ide_set_inactive + bmdma_set_inactive: the transfer is over; the engine stays active when <paramref name="more"/>.</summary>
    internal void SetInactive(bool more)
    {
        DmaPending = false;
        ActiveUnit = -1;
        Status = more ? (byte)(Status | StatusActive) : (byte)(Status & ~StatusActive);
    }

    /// <summary>
    /// QEMU bmdma_prepare_buf: walks the table to its end, adding regions to
    /// <paramref name="scatter"/> up to <paramref name="limit"/> bytes (the rest is consumed but
    /// not used); returns the bytes added, <paramref name="described"/> all the table described.
    /// </summary>
    internal int PrepareBuffer(int limit, List<(ulong Address, int Length)> scatter, out int described)
    {
        described = 0;
        int added = 0;
        while (true)
        {
            if (_regionLength == 0 && !NextRegion())
            {
                return added;
            }

            int take = Math.Min(limit - added, _regionLength);
            if (take > 0)
            {
                scatter.Add((_regionAddress, take));
                added += take;
            }

            _regionAddress += (uint)_regionLength;
            described += _regionLength;
            _regionLength = 0;
        }
    }

    /// <summary>QEMU bmdma_rw_buf: moves <paramref name="buffer"/> from <paramref name="index"/> up to <paramref name="size"/> through the table; false when the table ends first.</summary>
    internal bool CopyBuffer(byte[] buffer, ref int index, int size, bool toMemory)
    {
        while (size - index > 0)
        {
            if (_regionLength == 0 && !NextRegion())
            {
                return false;
            }

            int length = Math.Min(size - index, _regionLength);
            var part = buffer.AsSpan(index, length);
            if (toMemory)
            {
                WriteMemory(_regionAddress, part);
            }
            else
            {
                ReadMemory(_regionAddress, part);
            }

            _regionAddress += (uint)length;
            _regionLength -= length;
            index += length;
        }

        return true;
    }

    /// <summary>A bus-master read of guest memory: zeros while bus mastering is disabled.</summary>
    internal void ReadMemory(uint address, Span<byte> destination)
    {
        if (_memory != null && _busMasterEnabled())
        {
            _memory.ReadBlock(address, destination);
        }
        else
        {
            destination.Clear();
        }
    }

    /// <summary>A bus-master write of guest memory: dropped while bus mastering is disabled.</summary>
    internal void WriteMemory(uint address, ReadOnlySpan<byte> source)
    {
        if (_memory != null && _busMasterEnabled())
        {
            _memory.WriteBlock(address, source);
        }
    }

    /// <summary>Loads the next descriptor; false at the end of the table or past QEMU's 4 KiB fail-safe.</summary>
    private bool NextRegion()
    {
        if (_lastRegion || _descriptorAddress - TableAddress >= TableFailSafe)
        {
            return false;
        }

        Span<byte> descriptor = stackalloc byte[DescriptorSize];
        ReadMemory(_descriptorAddress, descriptor);
        _descriptorAddress += DescriptorSize;
        uint count = BitConverter.ToUInt32(descriptor[4..]);
        int length = (int)(count & DescriptorCountMask);
        _regionLength = length == 0 ? RegionMax : length;
        _regionAddress = BitConverter.ToUInt32(descriptor);
        _lastRegion = (count & DescriptorEnd) != 0;
        return true;
    }

    private static ulong WidthMask(int size) => (1UL << (size * 8)) - 1;

    /// <summary>QEMU bmdma_cmd_writeb: stopping clears "active"; starting walks the table from its start and runs a pending DMA command.</summary>
    private void WriteCommand(byte value)
    {
        if (((value ^ Command) & CommandStart) != 0)
        {
            if ((value & CommandStart) == 0)
            {
                Status &= unchecked((byte)~StatusActive);
            }
            else
            {
                _descriptorAddress = TableAddress;
                if ((Status & StatusActive) == 0)
                {
                    Status |= StatusActive;
                    if (DmaPending)
                    {
                        Channel.Devices[ActiveUnit].ContinueDma();
                    }
                }
            }
        }

        Command = (byte)(value & CommandWritableBits);
    }
}

/// <summary>
/// A bus-master block: command, status and descriptor-table address (QEMU vmstate "ide bmdma"),
/// the interrupt level it passes on, the walk position (QEMU "ide bmdma_current": next
/// descriptor, end seen, region address and bytes left) and the pending DMA's device position.
/// </summary>
public sealed record BusMasterState(
    byte Command,
    byte Status,
    uint TableAddress,
    bool Interrupt,
    uint DescriptorAddress,
    bool LastRegion,
    uint RegionAddress,
    int RegionLength,
    bool DmaPending,
    int ActiveUnit) : DeviceState;
