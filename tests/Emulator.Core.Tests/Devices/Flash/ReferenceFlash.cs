namespace Emulator.Core.Tests.Devices.Flash;

/// <summary>
/// An independent model of QEMU 7.2's cfi01 chip as docs/qemu-pflash.md states its
/// rules, for the property test: a byte array, a mode and a status byte, with no code shared with
/// the device. Accesses are 1, 2 or 4 bytes wide and inside the chip.
/// </summary>
public sealed class ReferenceFlash
{
    private const int Sector = 4096;
    private const int Window = 256;

    private readonly byte[] _table = new byte[0x52];
    private readonly byte?[] _pending = new byte?[Window];
    private Mode _mode = Mode.Array;
    private ulong _windowStart;
    private int _writesLeft;

    public ReferenceFlash(byte[] contents, bool readOnly)
    {
        Array = contents;
        ReadOnly = readOnly;
        BuildTable((ulong)contents.Length);
    }

    private enum Mode
    {
        Array,
        Status,
        Identifier,
        Query,
        ProgramData,
        EraseConfirm,
        LockConfirm,
        BufferCount,
        BufferData,
        BufferConfirm,
    }

    public byte[] Array { get; }

    public bool ReadOnly { get; }

    public byte Status { get; private set; } = 0x80;

    public bool InArrayMode => _mode == Mode.Array;

    /// <summary>Transitions taken, so a stream can show it reached every interesting one.</summary>
    public int Programs { get; private set; }

    public int Erases { get; private set; }

    public int BufferCommits { get; private set; }

    public int BufferDrops { get; private set; }

    public void Reset()
    {
        _mode = Mode.Array;
        Status = 0x80;
    }

    public ulong Read(int offset, int width) => _mode switch
    {
        Mode.Array => Little(offset, width),
        Mode.Identifier => 0,
        Mode.Query => (offset & 0xFF) < _table.Length ? _table[offset & 0xFF] : 0UL,
        _ => width == 4 ? (ulong)Status * 0x10001 : Status,
    };

    public void Write(int offset, int width, ulong value)
    {
        byte b = (byte)value;
        switch (_mode)
        {
            case Mode.ProgramData:
                Programs++;
                if (ReadOnly)
                {
                    Status |= 0x10;
                }
                else
                {
                    for (int i = 0; i < width; i++)
                    {
                        Array[offset + i] = (byte)(value >> (8 * i));
                    }
                }

                Status |= 0x80;
                _mode = Mode.Status;
                break;
            case Mode.EraseConfirm:
                _mode = b == 0xD0 ? Mode.Status : Mode.Array;
                break;
            case Mode.LockConfirm:
                if (b is 0xD0 or 0x01)
                {
                    Status |= 0x80;
                    _mode = Mode.Status;
                }
                else
                {
                    _mode = Mode.Array;
                }

                break;
            case Mode.Query:
                if (b == 0xFF)
                {
                    _mode = Mode.Array;
                }

                break;
            case Mode.BufferCount:
                _writesLeft = b + 1;
                _windowStart = (ulong)offset / Window * Window;
                System.Array.Fill(_pending, null);
                _mode = Mode.BufferData;
                break;
            case Mode.BufferData:
                BufferData(offset, width, value);
                break;
            case Mode.BufferConfirm:
                BufferConfirm(b);
                break;
            default:
                Command(offset, b);
                break;
        }
    }

    private void Command(int offset, byte b)
    {
        switch (b)
        {
            case 0x10 or 0x40:
                _mode = Mode.ProgramData;
                break;
            case 0x20:
                Erases++;
                if (ReadOnly)
                {
                    Status |= 0x20;
                }
                else
                {
                    System.Array.Fill(Array, (byte)0xFF, offset / Sector * Sector, Sector);
                }

                Status |= 0x80;
                _mode = Mode.EraseConfirm;
                break;
            case 0x50:
                Status = 0;
                _mode = Mode.Array;
                break;
            case 0x60:
                _mode = Mode.LockConfirm;
                break;
            case 0x70:
                _mode = Mode.Status;
                break;
            case 0x90:
                _mode = Mode.Identifier;
                break;
            case 0x98:
                _mode = Mode.Query;
                break;
            case 0xE8:
                Status |= 0x80;
                _mode = Mode.BufferCount;
                break;
            default:
                // 0x00, 0xF0, 0xFF are read array; everything else is invalid, which ends there too.
                _mode = Mode.Array;
                break;
        }
    }

    private void BufferData(int offset, int width, ulong value)
    {
        ulong start = (ulong)offset;
        if (start < _windowStart || start + (ulong)width > _windowStart + Window)
        {
            Status |= 0x10;
        }
        else
        {
            for (int i = 0; i < width; i++)
            {
                _pending[(int)(start - _windowStart) + i] = (byte)(value >> (8 * i));
            }
        }

        if (--_writesLeft == 0)
        {
            _mode = Mode.BufferConfirm;
        }
    }

    private void BufferConfirm(byte b)
    {
        if (b != 0xD0 || (Status & 0x10) != 0)
        {
            BufferDrops++;
            _mode = Mode.Array;
            return;
        }

        BufferCommits++;
        if (ReadOnly)
        {
            Status |= 0x10;
        }
        else
        {
            for (int i = 0; i < Window; i++)
            {
                if (_pending[i] is byte v)
                {
                    Array[(int)_windowStart + i] = v;
                }
            }
        }

        Status |= 0x80;
        _mode = Mode.Status;
    }

    private ulong Little(int offset, int width)
    {
        ulong v = 0;
        for (int i = width - 1; i >= 0; i--)
        {
            v = (v << 8) | Array[offset + i];
        }

        return v;
    }

    private void BuildTable(ulong size)
    {
        byte[] head = "QRY"u8.ToArray();
        head.CopyTo(_table, 0x10);
        _table[0x13] = 1;
        _table[0x15] = 0x31;
        _table[0x1B] = 0x45;
        _table[0x1C] = 0x55;
        _table[0x1F] = 7;
        _table[0x20] = 7;
        _table[0x21] = 10;
        _table[0x23] = 4;
        _table[0x24] = 4;
        _table[0x25] = 4;
        int zeros = 0;
        while (((size >> zeros) & 1) == 0)
        {
            zeros++;
        }

        _table[0x27] = (byte)zeros;
        _table[0x28] = 2;
        _table[0x2A] = 8;
        _table[0x2C] = 1;
        ulong blocksMinusOne = (size / Sector) - 1;
        _table[0x2D] = (byte)(blocksMinusOne & 0xFF);
        _table[0x2E] = (byte)(blocksMinusOne >> 8);
        _table[0x2F] = Sector >> 8 & 0xFF;
        _table[0x30] = Sector >> 16 & 0xFF;
        "PRI10"u8.ToArray().CopyTo(_table, 0x31);
        _table[0x3F] = 1;
    }
}
