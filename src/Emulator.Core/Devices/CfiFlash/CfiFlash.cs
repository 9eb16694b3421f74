using Emulator.Core.Memory;

namespace Emulator.Core.Devices.CfiFlash;

/// <summary>
/// A CFI parallel NOR flash chip with the Intel/Sharp command set, modelled on QEMU 7.2's
/// hw/block/pflash_cfi01.c as the PC machine configures it (docs/qemu-pflash.md):
/// 4096-byte sectors, bank width 1, legacy device width, ID bytes 0, little-endian.
///
/// Mapped as a ROM device: in read-array mode the bus reads the array straight from host memory
/// (the fast path), and the first write switches reads to <see cref="Read"/> until a read-array
/// command. Every operation completes inside the write, as on QEMU. Firmware relies on QEMU's
/// quirks, reproduced here: clear-status leaves status 0x00 (OVMF's flash detection needs it),
/// block erase takes effect on the 0x20 write, a finished program keeps returning status.
///
/// QEMU's <c>secure=on</c> (pflash_mem_read_with_attrs / pflash_mem_write_with_attrs): an access
/// from outside SMM that is a write returns MEMTX_ERROR, which x86 TCG drops without a trace (no
/// state change, the chip stays in whatever mode it was), and one that is a read returns array
/// bytes (pflash_data_read), never status or CFI data. SMM accesses are ordinary cfi01 accesses.
/// Reads in read-array mode never reach the device (QEMU's romd mode does not look at attrs either).
/// </summary>
public sealed unsafe class CfiFlash : IMmioDevice, IDevice
{
    public const int SectorSize = 4096;

    /// <summary>The write buffer: 2^8 bytes, as the CFI table's byte 0x2A says for bank width 1.</summary>
    private const int WriteBufferBytes = 256;

    /// <summary>The widest access the handlers take (QEMU's default impl.max_access_size; the bus splits 8-byte ones).</summary>
    private const int MaxAccessSize = 4;

    /// <summary>Query and identifier offsets are taken modulo 256 (bank width 1, legacy device width).</summary>
    private const ulong QueryOffsetMask = 0xFF;

    private const byte ErasedByte = 0xFF;

    private readonly byte* _array;
    private readonly byte[] _cfiTable;
    private readonly ulong _size;
    private PhysicalBus? _bus;
    private MemoryRegion? _region;
    private int _cycle;
    private byte _command = FlashCommand.ReadArray;
    private byte _status = FlashStatus.Ready;
    private int _counter;
    private ulong _bufferBase;
    private readonly byte[] _buffer = new byte[WriteBufferBytes];
    private readonly bool[] _bufferWritten = new bool[WriteBufferBytes];
    private int _bufferLow;
    private int _bufferHigh;
    private bool _arrayMode = true;

    /// <summary>
    /// The CPU is in SMM, so accesses come from SMM (QEMU's attrs.secure is the CPU's HF_SMM_MASK).
    /// Pushed by the machine at each SMM entry and exit (<see cref="SetSmm"/>) rather than asked
    /// per write: asking the CPU on every write cost the byte-program path a quarter of its
    /// throughput (docs/performance.md, flash byte program).
    /// </summary>
    private bool _fromSmm;

    /// <summary>Writes must look at their origin: the chip is secure or the CPU is in SMM.</summary>
    private bool _checkOrigin;

    public CfiFlash(string name, byte* array, ulong size, bool readOnly, bool secure = false)
    {
        Name = name;
        _array = array;
        _size = size;
        ReadOnly = readOnly;
        Secure = secure;
        _checkOrigin = secure;
        _cfiTable = CfiQueryTable.Build(size, SectorSize);
    }

    public string Name { get; }

    /// <summary>pflash_cfi01's MemoryRegionOps declare no sizes: QEMU's defaults, so an 8-byte access arrives as two 4-byte cycles, low half first.</summary>
    public AccessSizes Sizes => AccessSizes.QemuDefault;

    public bool ReadOnly { get; }

    /// <summary>QEMU's <c>cfi.pflash01.secure=on</c>: only SMM may write, and only SMM reads status or CFI data.</summary>
    public bool Secure { get; }

    public ulong Size => _size;

    /// <summary>True while reads come from the array (read-array mode).</summary>
    public bool ArrayMode => _arrayMode;

    /// <summary>Told after every completed program or erase (persistence, write logs); see <see cref="AddListener"/>.</summary>
    public IFlashWriteListener? Listener { get; private set; }

    public long BytesProgrammed { get; private set; }

    public long BlocksErased { get; private set; }

    /// <summary>Write accesses (commands and data) made from SMM, as <see cref="SetSmm"/> tells it.</summary>
    public long SmmWrites { get; private set; }

    /// <summary>Write accesses from outside SMM that a <see cref="Secure"/> chip dropped.</summary>
    public long RejectedWrites { get; private set; }

    /// <summary>Called by the machine builder once the chip is mapped.</summary>
    public void Attach(PhysicalBus bus, MemoryRegion region)
    {
        _bus = bus;
        _region = region;
    }

    /// <summary>
    /// The CPU entered (true) or left SMM: accesses from now on come from there. Never told, every
    /// access is non-SMM, which for a <see cref="Secure"/> chip means every write is dropped, as
    /// on QEMU with <c>secure=on</c> and SMM off.
    /// </summary>
    public void SetSmm(bool inSmm)
    {
        _fromSmm = inSmm;
        _checkOrigin = Secure || inSmm;
    }

    /// <summary>
    /// The array (host memory). Not part of <see cref="SaveState"/>: a machine snapshot saves it
    /// with RAM and puts it back through <see cref="RestoreContents"/>.
    /// </summary>
    public ReadOnlySpan<byte> Contents => new(_array, (int)_size);

    /// <summary>The array's bytes, whatever mode the chip is in (a debugger's view: no command state changes).</summary>
    public bool TryReadForDebugger(ulong offset, Span<byte> destination)
    {
        if (offset > _size || (ulong)destination.Length > _size - offset)
        {
            return false;
        }

        new ReadOnlySpan<byte>(_array + offset, destination.Length).CopyTo(destination);
        return true;
    }

    /// <summary>
    /// Overwrites the array with a snapshot's copy (same size) and tells the bus, so code decoded
    /// from the old bytes is dropped; write listeners (the varstore file, the write log) are not told.
    /// </summary>
    public void RestoreContents(ReadOnlySpan<byte> contents)
    {
        if ((ulong)contents.Length != _size)
        {
            throw new ArgumentException($"{Name} holds {_size} bytes, the snapshot {contents.Length}", nameof(contents));
        }

        contents.CopyTo(new Span<byte>(_array, (int)_size));
        if (_region?.CodePages > 0)
        {
            _bus?.NotifyWritten(_region.Start, _size);
        }
    }

    /// <summary>
    /// Listeners are not told while set: a debugger re-executing history (reverse execution)
    /// replays writes the varstore file and the write log already hold.
    /// </summary>
    public bool ListenersMuted { get; set; }

    /// <summary>Adds a listener; several are told in the order they were added.</summary>
    public void AddListener(IFlashWriteListener listener) => Listener = FlashWriteListeners.Combine(Listener, listener);

    /// <summary>
    /// Machine reset (QEMU pflash_reset): read-array mode, cycle 0, status ready. The array (the
    /// varstore), a half-filled write buffer and the program/erase counters are kept.
    /// </summary>
    public void Reset()
    {
        _cycle = 0;
        _command = FlashCommand.ReadArray;
        _status = FlashStatus.Ready;
        SetArrayMode(true);
    }

    /// <summary>The command state machine (QEMU vmstate "pflash_cfi01" and the write buffer), not the array.</summary>
    public DeviceState SaveState() => new CfiFlashState(
        _cycle, _command, _status, _counter, _bufferBase, [.. _buffer], [.. _bufferWritten], _bufferLow, _bufferHigh, _arrayMode, BytesProgrammed, BlocksErased,
        SmmWrites, RejectedWrites);

    /// <summary>Restores the state machine and switches the bus's direct reads to the recorded mode.</summary>
    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<CfiFlashState>(state, this);
        _cycle = s.Cycle;
        _command = s.Command;
        _status = s.Status;
        _counter = s.Counter;
        _bufferBase = s.BufferBase;
        s.Buffer.CopyTo(_buffer, 0);
        s.BufferWritten.CopyTo(_bufferWritten, 0);
        _bufferLow = s.BufferLow;
        _bufferHigh = s.BufferHigh;
        BytesProgrammed = s.BytesProgrammed;
        BlocksErased = s.BlocksErased;
        SmmWrites = s.SmmWrites;
        RejectedWrites = s.RejectedWrites;
        SetArrayMode(s.ArrayMode);
    }

    public ulong Read(ulong offset, int size)
    {
        if (Secure && !_fromSmm)
        {
            // pflash_mem_read_with_attrs: a non-SMM read of a secure chip is pflash_data_read.
            return ReadArray(offset, size);
        }

        switch (_command)
        {
            case FlashCommand.ReadArray:
                // Only reached when the bus is not switching reads to host memory.
                return ReadArray(offset, size);
            case FlashCommand.ReadIdentifier:
                // Offsets (addr & 0xFF) 0 and 1 return the ID pairs, every other offset 0; all ID
                // bytes are 0 on the PC machine (manufacturer/device properties unset).
                return 0;
            case FlashCommand.CfiQuery:
                {
                    // Bank width 1: the table byte at (addr & 0xFF), zero-extended to any width.
                    ulong index = offset & QueryOffsetMask;
                    return index < (ulong)_cfiTable.Length ? _cfiTable[index] : 0UL;
                }

            default:
                // Every other command reads status. With the device width unset (QEMU's legacy
                // behaviour) a 32-bit read sees it twice, 0x00SS00SS; narrower reads 0x00SS.
                return size == MaxAccessSize ? _status | ((ulong)_status << 16) : _status;
        }
    }

    public void Write(ulong offset, int size, ulong value)
    {
        // A write whose origin matters (secure chip, CPU in SMM) is counted or dropped first: one
        // predictable test of a field the machine keeps up to date (SetSmm), not a question to
        // the CPU per write.
        if (_checkOrigin && !AdmitWrite())
        {
            return;
        }

        // The hot path: OVMF's byte program (OvmfPkg/QemuFlashFvbServicesRuntimeDxe/QemuFlash.c,
        // QemuFlashWrite: 0x10 then the data byte, per byte, with no read array in between, so
        // the chip stays in command mode). Both cycles of it are settled here with the same
        // effects WriteCycle0/WriteCycle1 would have; anything else takes the state machine below.
        if (size == 1 && !_arrayMode)
        {
            if (_cycle == 0)
            {
                if ((byte)value == FlashCommand.SingleProgram)
                {
                    _command = FlashCommand.SingleProgram;
                    _cycle = 1;
                    return;
                }
            }
            else if (_cycle == 1 && _command == FlashCommand.SingleProgram && !ReadOnly)
            {
                _array[offset] = (byte)value;
                _status |= FlashStatus.Ready;
                _cycle = 0;
                BytesProgrammed++;
                Changed(FlashWriteKind.Program, offset, 1);
                return;
            }
        }

        WriteOne(offset, size, value);
    }

    /// <summary>
    /// Counts an SMM write, or drops a non-SMM one to a secure chip (pflash_mem_write_with_attrs's
    /// MEMTX_ERROR, which x86 TCG ignores).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private bool AdmitWrite()
    {
        if (_fromSmm)
        {
            SmmWrites++;
            return true;
        }

        RejectedWrites++;
        return false;
    }

    private void WriteOne(ulong offset, int size, ulong value)
    {
        if (_cycle == 0 && _arrayMode)
        {
            // The first write leaves read-array mode; from now on reads come through Read().
            SetArrayMode(false);
        }

        byte cmd = (byte)value;
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
            case FlashCommand.LockSetup:
            case FlashCommand.CfiQuery:
                _command = cmd;
                _cycle = 1;
                return;
            case FlashCommand.BlockErase:
                // QEMU erases on the setup write; 0xD0 only confirms, and an abort cannot undo it.
                EraseSector(offset);
                _command = cmd;
                _cycle = 1;
                return;
            case FlashCommand.ClearStatus:
                // Not 0x80: QEMU clears every bit, which is how OVMF tells flash from ROM and RAM.
                _status = FlashStatus.Cleared;
                ToReadArray();
                return;
            case FlashCommand.ReadStatus:
            case FlashCommand.ReadIdentifier:
                // Both stay in cycle 0: the next write is a new command.
                _command = cmd;
                return;
            case FlashCommand.WriteToBuffer:
                _status |= FlashStatus.Ready;
                _command = cmd;
                _cycle = 1;
                return;
            default:
                // Invalid sequence (0x28 included): QEMU's error path returns to read array.
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
                // The value of the access width is stored as is: QEMU does not enforce NOR's
                // 1 -> 0 rule. The command stays, so reads return status until read array.
                Program(offset, size, value);
                _cycle = 0;
                return;
            case FlashCommand.BlockErase:
                if (cmd == FlashCommand.Confirm)
                {
                    _status |= FlashStatus.Ready;
                    _cycle = 0;
                }
                else
                {
                    // 0xFF is read array and anything else invalid; both end in read array.
                    ToReadArray();
                }

                return;
            case FlashCommand.WriteToBuffer:
                // The count is masked to the 8-bit bank width and means N + 1 data writes; the
                // window is the 256-byte write buffer that holds this address.
                _counter = (int)(value & byte.MaxValue) + 1;
                _bufferBase = offset & ~(ulong)(WriteBufferBytes - 1);
                _bufferLow = WriteBufferBytes;
                _bufferHigh = 0;
                Array.Clear(_bufferWritten);
                _cycle = 2;
                return;
            case FlashCommand.LockSetup:
                if (cmd is FlashCommand.Confirm or FlashCommand.LockBlock)
                {
                    _status |= FlashStatus.Ready;
                    _cycle = 0;
                }
                else
                {
                    ToReadArray();
                }

                return;
            default:
                // CFI query: only read array leaves it; QEMU ignores every other write.
                if (cmd == FlashCommand.ReadArray)
                {
                    ToReadArray();
                }

                return;
        }
    }

    private void WriteBufferCycle(ulong offset, int size, ulong value, byte cmd)
    {
        if (_counter > 0)
        {
            if (offset >= _bufferBase && offset + (ulong)size <= _bufferBase + WriteBufferBytes)
            {
                int at = (int)(offset - _bufferBase);
                for (int i = 0; i < size; i++)
                {
                    _buffer[at + i] = (byte)(value >> (8 * i));
                    _bufferWritten[at + i] = true;
                }

                _bufferLow = Math.Min(_bufferLow, at);
                _bufferHigh = Math.Max(_bufferHigh, at + size);
            }
            else
            {
                _status |= FlashStatus.ProgramError;
            }

            _counter--;
            return;
        }

        // The confirm cycle: a program error anywhere (sticky, so an earlier one counts too)
        // drops the buffer, as does any byte other than 0xD0.
        if (cmd == FlashCommand.Confirm && (_status & FlashStatus.ProgramError) == 0)
        {
            CommitBuffer();
            _cycle = 0;
            return;
        }

        ToReadArray();
    }

    private void CommitBuffer()
    {
        int length = _bufferHigh - _bufferLow;
        if (ReadOnly)
        {
            _status |= FlashStatus.ProgramError | FlashStatus.Ready;
        }
        else if (length > 0)
        {
            byte* target = _array + _bufferBase;
            for (int i = _bufferLow; i < _bufferHigh; i++)
            {
                if (_bufferWritten[i])
                {
                    target[i] = _buffer[i];
                    BytesProgrammed++;
                }
            }

            Changed(FlashWriteKind.Program, _bufferBase + (ulong)_bufferLow, length);
        }

        _status |= FlashStatus.Ready;
    }

    private void Program(ulong offset, int size, ulong value)
    {
        if (ReadOnly)
        {
            _status |= FlashStatus.ProgramError | FlashStatus.Ready;
            return;
        }

        for (int i = 0; i < size; i++)
        {
            _array[offset + (ulong)i] = (byte)(value >> (8 * i));
        }

        _status |= FlashStatus.Ready;
        BytesProgrammed += size;
        Changed(FlashWriteKind.Program, offset, size);
    }

    private void EraseSector(ulong offset)
    {
        if (ReadOnly)
        {
            _status |= FlashStatus.EraseError | FlashStatus.Ready;
            return;
        }

        ulong start = offset & ~(ulong)(SectorSize - 1);
        new Span<byte>(_array + start, SectorSize).Fill(ErasedByte);
        _status |= FlashStatus.Ready;
        BlocksErased++;
        Changed(FlashWriteKind.Erase, start, SectorSize);
    }

    private void Changed(FlashWriteKind kind, ulong offset, int length)
    {
        // The bus counts the region's pages that hold decoded code: with none, no page walk.
        if (_region?.CodePages > 0)
        {
            _bus?.NotifyWritten(_region.Start + offset, (ulong)length);
        }

        if (!ListenersMuted)
        {
            Listener?.Written(this, kind, offset, length);
        }
    }

    private void ToReadArray()
    {
        _cycle = 0;
        _command = FlashCommand.ReadArray;
        SetArrayMode(true);
    }

    private void SetArrayMode(bool array)
    {
        _arrayMode = array;
        if (_bus != null && _region != null)
        {
            _bus.SetReadsDirect(_region, array);
        }
    }

    private ulong ReadArray(ulong offset, int size)
    {
        ulong v = 0;
        for (int i = 0; i < size; i++)
        {
            v |= (ulong)_array[offset + (ulong)i] << (8 * i);
        }

        return v;
    }
}

/// <summary>
/// A flash chip's command state: write cycle, current command, status, the write-to-buffer count,
/// window, bytes and the span written, read-array mode, the program/erase counters and the
/// SMM/rejected write counters (absent in older state files: 0).
/// </summary>
public sealed record CfiFlashState(
    int Cycle, byte Command, byte Status, int Counter, ulong BufferBase, byte[] Buffer, bool[] BufferWritten,
    int BufferLow, int BufferHigh, bool ArrayMode, long BytesProgrammed, long BlocksErased,
    long SmmWrites = 0, long RejectedWrites = 0) : DeviceState;
