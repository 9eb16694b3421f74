// The bus-master IDE registers of one channel of the PIIX3 IDE function (Intel 82371SB §2.7;
// QEMU hw/ide/piix.c bmdma_read/bmdma_write and hw/ide/pci.c): 8 ports at BMIBA + 8 × channel.
// Offset 0: command (bit 0 start/stop, bit 3 read/write; other bits read 0). Offset 2: status
// (bit 0 active, bit 1 error and bit 2 interrupt write-1-to-clear, bits 5–6 "drive DMA capable"
// read/write). Offsets 1 and 3 read 0xFF. Offsets 4–7: the physical-region-descriptor table
// address (bits 1–0 read 0), accessible at any width. Offsets 0–3 answer byte accesses only:
// wider reads return all ones and wider writes are dropped, as on QEMU.
// Emulated: the registers; starting the engine sets "active" (QEMU sets BM_STATUS_DMAING even
// when no transfer is pending) and stopping it clears "active"; the channel's interrupt passes
// through here to the ISA IRQ, a raise setting the status interrupt bit (QEMU bmdma_irq).
// Not emulated: the DMA transfer itself (walking the descriptor table) — there is no drive to
// transfer from; it comes with the drives.
// Firmware relies on: OVMF's AtaAtapiPassThruDxe finds the registers through BAR4 and uses
// them only for DMA commands to a detected drive.
using Emulator.Core.Io;

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

    public BusMasterChannel(string name)
    {
        Name = name;
        Irq = new OutputLine(name + ".irq");
    }

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

    /// <summary>Machine reset (QEMU bmdma_reset): every register 0.</summary>
    public void Reset()
    {
        Command = 0;
        Status = 0;
        TableAddress = 0;
    }

    public DeviceState SaveState() => new BusMasterState(Command, Status, TableAddress, Irq.Level);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<BusMasterState>(state, this);
        Command = s.Command;
        Status = s.Status;
        TableAddress = s.TableAddress;
        Irq.Restore(s.Interrupt);
    }

    private static ulong WidthMask(int size) => (1UL << (size * 8)) - 1;

    private void WriteCommand(byte value)
    {
        if (((value ^ Command) & CommandStart) != 0)
        {
            Status = (value & CommandStart) != 0 ? (byte)(Status | StatusActive) : (byte)(Status & ~StatusActive);
        }

        Command = (byte)(value & CommandWritableBits);
    }
}

/// <summary>A bus-master block's command, status and descriptor-table address (QEMU vmstate "ide bmdma") and the interrupt level it passes on.</summary>
public sealed record BusMasterState(byte Command, byte Status, uint TableAddress, bool Interrupt) : DeviceState;
