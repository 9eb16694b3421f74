using Emulator.Core.Memory;

namespace Emulator.Core.Devices.CfiFlash;

/// <summary>
/// A CFI parallel NOR flash chip with the Intel/Sharp command set, modelled on QEMU 7.2's
/// hw/block/pflash_cfi01.c as the PC machine configures it (../shared/docs/qemu-pflash.md):
/// 4096-byte sectors, bank width 1, legacy device width, ID bytes 0, little-endian.
///
/// Mapped as a ROM device: in read-array mode the bus reads the array straight from host memory
/// (the fast path), and the first write switches reads to <see cref="Read"/> until a read-array
/// command. Every operation completes inside the write, as on QEMU. Firmware relies on QEMU's
/// quirks, reproduced here: clear-status leaves status 0x00 (OVMF's flash detection needs it),
/// block erase takes effect on the 0x20 write, a finished program keeps returning status.
/// </summary>
public sealed unsafe class CfiFlash : IMmioDevice
{
    public const int SectorSize = 4096;
    private const int WriteBufferBytes = 256;

    private readonly byte* _array;
    private readonly byte[] _cfiTable;
    private readonly ulong _size;
    private PhysicalBus? _bus;
    private MemoryRegion? _region;
    private int _cycle;
    private byte _command;
    private byte _status = FlashStatus.Ready;
    private int _counter;
    private ulong _bufferBase;
    private readonly byte[] _buffer = new byte[WriteBufferBytes];
    private readonly bool[] _bufferWritten = new bool[WriteBufferBytes];

    public CfiFlash(string name, byte* array, ulong size, bool readOnly)
    {
        Name = name;
        _array = array;
        _size = size;
        ReadOnly = readOnly;
        _cfiTable = CfiQueryTable.Build(size, SectorSize);
    }

    public string Name { get; }

    public bool ReadOnly { get; }

    public ulong Size => _size;

    /// <summary>True while reads come from the array (read-array mode).</summary>
    public bool ArrayMode { get; private set; } = true;

    /// <summary>Raised after the array changed: (offset, length). Persistence and write logs hook here.</summary>
    public event Action<ulong, ulong>? ArrayWritten;

    public long BytesProgrammed { get; private set; }

    public long BlocksErased { get; private set; }

    /// <summary>Called by the machine builder once the chip is mapped.</summary>
    public void Attach(PhysicalBus bus, MemoryRegion region)
    {
        _bus = bus;
        _region = region;
    }

    public ReadOnlySpan<byte> Contents => new(_array, (int)_size);

    public void Reset()
    {
        _cycle = 0;
        _command = FlashCommand.ReadArray;
        _status = FlashStatus.Ready;
        SetArrayMode(true);
    }

    public ulong Read(ulong offset, int size)
    {
        switch (_command)
        {
            case FlashCommand.ReadIdentifier:
                // All ID bytes are 0 on the PC machine (manufacturer/device properties unset).
                return 0;
            case FlashCommand.CfiQuery:
                {
                    ulong index = offset & 0xFF;
                    return index < (ulong)_cfiTable.Length ? _cfiTable[index] : 0UL;
                }

            case FlashCommand.ReadArray:
            case FlashCommand.ReadArrayZero:
            case FlashCommand.ReadArrayAmd:
                return ReadArray(offset, size);
            default:
                // Status, replicated across the access width as QEMU does for bank width 1.
                return size switch
                {
                    1 => (ulong)_status,
                    2 => _status,
                    _ => (ulong)_status | ((ulong)_status << 16),
                };
        }
    }

    public void Write(ulong offset, int size, ulong value)
    {
        byte cmd = (byte)value;
        if (_cycle == 0 && ArrayMode)
        {
            // The first write leaves read-array mode; from now on reads come through Read().
            SetArrayMode(false);
        }

        switch (_cycle)
        {
            case 0:
                WriteCycle0(offset, cmd);
                break;
            case 1:
                WriteCycle1(offset, size, value, cmd);
                break;
            default:
                WriteBufferCycle(offset, size, value, cmd);
                break;
        }
    }

    private void WriteCycle0(ulong offset, byte cmd)
    {
        switch (cmd)
        {
            case FlashCommand.ReadArrayZero:
            case FlashCommand.ReadArrayAmd:
            case FlashCommand.ReadArray:
                ToReadArray();
                return;
            case FlashCommand.SingleProgram:
            case FlashCommand.SingleProgramAlt:
                _command = cmd;
                _cycle = 1;
                return;
            case FlashCommand.BlockErase:
                // QEMU erases immediately on the setup write; 0xD0 only confirms (pflash_write).
                EraseSector(offset);
                _command = cmd;
                _cycle = 1;
                return;
            case FlashCommand.ClearStatus:
                _status = 0x00;
                ToReadArray();
                return;
            case FlashCommand.LockSetup:
                _command = cmd;
                _cycle = 1;
                return;
            case FlashCommand.ReadStatus:
            case FlashCommand.ReadIdentifier:
                _command = cmd;
                return;
            case FlashCommand.CfiQuery:
                _command = cmd;
                _cycle = 1;
                return;
            case FlashCommand.WriteToBuffer:
                _status |= FlashStatus.Ready;
                _command = cmd;
                _cycle = 1;
                return;
            default:
                ToReadArray();
                return;
        }
    }

    private void WriteCycle1(ulong offset, int size, ulong value, byte cmd)
    {
        switch (_command)
        {
            case FlashCommand.SingleProgram:
            case FlashCommand.SingleProgramAlt:
                Program(offset, size, value);
                _status |= FlashStatus.Ready;
                _cycle = 0;
                return;
            case FlashCommand.BlockErase:
                if (cmd == FlashCommand.Confirm)
                {
                    _cycle = 0;
                }
                else
                {
                    ToReadArray();
                }

                return;
            case FlashCommand.WriteToBuffer:
                _counter = (int)(value & 0xFF) + 1;
                _bufferBase = offset & ~(ulong)(WriteBufferBytes - 1);
                Array.Clear(_bufferWritten);
                _cycle = 2;
                return;
            case FlashCommand.LockSetup:
                if (cmd is FlashCommand.Confirm or FlashCommand.LockBlock)
                {
                    _status |= FlashStatus.Ready;
                    _cycle = 0;
                    _command = FlashCommand.ReadStatus;
                }
                else
                {
                    ToReadArray();
                }

                return;
            case FlashCommand.CfiQuery:
                if (cmd == FlashCommand.ReadArray)
                {
                    ToReadArray();
                }

                return;
            default:
                ToReadArray();
                return;
        }
    }

    private void WriteBufferCycle(ulong offset, int size, ulong value, byte cmd)
    {
        if (_counter > 0)
        {
            if (offset >= _bufferBase && offset + (ulong)size <= _bufferBase + WriteBufferBytes)
            {
                for (int i = 0; i < size; i++)
                {
                    int at = (int)(offset - _bufferBase) + i;
                    _buffer[at] = (byte)(value >> (8 * i));
                    _bufferWritten[at] = true;
                }
            }
            else
            {
                _status |= FlashStatus.ProgramError;
            }

            _counter--;
            return;
        }

        if (cmd == FlashCommand.Confirm && (_status & FlashStatus.ProgramError) == 0)
        {
            for (int i = 0; i < WriteBufferBytes; i++)
            {
                if (_bufferWritten[i])
                {
                    Program(_bufferBase + (ulong)i, 1, _buffer[i]);
                }
            }

            _status |= FlashStatus.Ready;
            _cycle = 0;
            _command = FlashCommand.ReadStatus;
            return;
        }

        ToReadArray();
    }

    private void Program(ulong offset, int size, ulong value)
    {
        if (ReadOnly)
        {
            _status |= FlashStatus.ProgramError | FlashStatus.Ready;
            return;
        }

        if (offset + (ulong)size > _size)
        {
            return;
        }

        for (int i = 0; i < size; i++)
        {
            _array[offset + (ulong)i] = (byte)(value >> (8 * i));
        }

        BytesProgrammed += size;
        Changed(offset, (ulong)size);
    }

    private void EraseSector(ulong offset)
    {
        if (ReadOnly)
        {
            _status |= FlashStatus.EraseError | FlashStatus.Ready;
            return;
        }

        ulong start = offset & ~(ulong)(SectorSize - 1);
        if (start >= _size)
        {
            return;
        }

        new Span<byte>(_array + start, SectorSize).Fill(0xFF);
        _status |= FlashStatus.Ready;
        BlocksErased++;
        Changed(start, SectorSize);
    }

    private void Changed(ulong offset, ulong length)
    {
        if (_region != null)
        {
            _bus?.NotifyWritten(_region.Start + offset, length);
        }

        ArrayWritten?.Invoke(offset, length);
    }

    private void ToReadArray()
    {
        _cycle = 0;
        _command = FlashCommand.ReadArray;
        SetArrayMode(true);
    }

    private void SetArrayMode(bool array)
    {
        ArrayMode = array;
        if (_bus != null && _region != null)
        {
            _bus.SetReadsDirect(_region, array);
        }
    }

    private ulong ReadArray(ulong offset, int size)
    {
        ulong v = 0;
        for (int i = 0; i < size && offset + (ulong)i < _size; i++)
        {
            v |= (ulong)_array[offset + (ulong)i] << (8 * i);
        }

        return v;
    }
}
