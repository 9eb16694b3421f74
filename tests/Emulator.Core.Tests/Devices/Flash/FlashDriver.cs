using Emulator.Core.Devices.CfiFlash;
using Emulator.Core.Machine;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Devices.Flash;

/// <summary>What OVMF's flash probe concluded about the memory at its varstore base.</summary>
public enum ProbeResult
{
    Flash,
    Rom,
    Ram,
}

/// <summary>
/// Issues CFI command sequences through the machine's physical bus, the way firmware does: every
/// access is a guest-physical read or write, so read-array mode exercises the bus's direct path.
/// </summary>
public sealed class FlashDriver
{
    private readonly PhysicalBus _bus;

    public FlashDriver(PcMachine machine, int unit)
    {
        _bus = machine.Bus;
        Chip = machine.FlashChips[unit];
        Base = machine.FlashPlacements[unit].Base;
    }

    public CfiFlash Chip { get; }

    public ulong Base { get; }

    public void Command(ulong offset, byte command) => _bus.Write(Base + offset, 1, command);

    public void Write(ulong offset, int width, ulong value) => _bus.Write(Base + offset, width, value);

    public ulong Read(ulong offset, int width) => _bus.Read(Base + offset, width);

    public byte ReadByte(ulong offset) => (byte)_bus.Read(Base + offset, 1);

    public byte ReadStatus(ulong offset = 0)
    {
        Command(offset, FlashCommand.ReadStatus);
        return ReadByte(offset);
    }

    public void ReadArrayMode(ulong offset = 0) => Command(offset, FlashCommand.ReadArray);

    public void ClearStatus(ulong offset = 0) => Command(offset, FlashCommand.ClearStatus);

    /// <summary>A single program of one access width: setup, then the data to the same address.</summary>
    public void Program(ulong offset, int width, ulong value, byte setup = FlashCommand.SingleProgram)
    {
        Command(offset, setup);
        Write(offset, width, value);
    }

    /// <summary>OVMF's QemuFlashWrite: 0x10 and the data byte per byte, 0xFF once at the last byte.</summary>
    public void ProgramAsOvmf(ulong offset, ReadOnlySpan<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
        {
            Program(offset + (ulong)i, 1, data[i]);
        }

        Command(offset + (ulong)data.Length - 1, FlashCommand.ReadArray);
    }

    /// <summary>OVMF's QemuFlashEraseBlock: 0x20 then 0xD0 at the block start, no polling, no 0xFF.</summary>
    public void EraseAsOvmf(ulong blockOffset)
    {
        Command(blockOffset, FlashCommand.BlockErase);
        Command(blockOffset, FlashCommand.Confirm);
    }

    /// <summary>Write to buffer: 0xE8, the count N (N + 1 writes), the data writes, then <paramref name="confirm"/>.</summary>
    public void BufferedWrite(ulong offset, ulong count, IEnumerable<(ulong Offset, int Width, ulong Value)> writes, byte confirm = FlashCommand.Confirm)
    {
        Command(offset, FlashCommand.WriteToBuffer);
        Write(offset, 1, count);
        foreach (var (at, width, value) in writes)
        {
            Write(at, width, value);
        }

        Command(offset, confirm);
    }

    /// <summary>
    /// OVMF's QemuFlashDetected: take the first byte of the first 4 KiB that is not 0x00, 0x50 or
    /// 0x70; write 0x50 and read (unchanged: not RAM); write 0x70 and read: 0x00 is flash (then
    /// 0xFF), the original value ROM, 0x70 RAM.
    /// </summary>
    public ProbeResult ProbeAsOvmf()
    {
        ulong offset = 0;
        byte original = 0;
        for (; offset < CfiFlash.SectorSize; offset++)
        {
            original = ReadByte(offset);
            if (original is not (0x00 or FlashCommand.ClearStatus or FlashCommand.ReadStatus))
            {
                break;
            }
        }

        ClearStatus(offset);
        if (ReadByte(offset) != original)
        {
            return ProbeResult.Ram;
        }

        Command(offset, FlashCommand.ReadStatus);
        byte status = ReadByte(offset);
        if (status == FlashStatus.Cleared)
        {
            ReadArrayMode(offset);
            return ProbeResult.Flash;
        }

        return status == original ? ProbeResult.Rom : ProbeResult.Ram;
    }
}
