using System.Text;

namespace Emulator.Core.Platform.Smbios;

/// <summary>
/// One SMBIOS structure as DSP0134 lays it out: a formatted area that starts with the 4-byte
/// header (type, formatted length, handle) and continues with the fields in spec order, then the
/// string set — each string NUL-terminated, numbered from 1 in order of appearance, the set
/// ended by one more NUL, or two NULs when there are no strings (DSP0134 6.1.2, 6.1.3). A string field
/// holds its string's number, or 0 when the string is empty or absent, as QEMU writes it
/// (hw/smbios/smbios_build.h SMBIOS_TABLE_SET_STR).
/// </summary>
public sealed class SmbiosStructure
{
    public const int HeaderSize = 4;

    private readonly List<byte> _formatted = [];
    private readonly List<byte[]> _strings = [];

    public SmbiosStructure(byte type, ushort handle)
    {
        _formatted.Add(type);
        _formatted.Add(0);
        Word(handle);
    }

    public SmbiosStructure Byte(byte value)
    {
        _formatted.Add(value);
        return this;
    }

    /// <summary>Multi-byte fields are little-endian, as in edk2's SmBios.h structures.</summary>
    public SmbiosStructure Word(ushort value) => Byte((byte)value).Byte((byte)(value >> 8));

    public SmbiosStructure DWord(uint value) => Word((ushort)value).Word((ushort)(value >> 16));

    public SmbiosStructure QWord(ulong value) => DWord((uint)value).DWord((uint)(value >> 32));

    public SmbiosStructure Bytes(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            _formatted.Add(b);
        }

        return this;
    }

    /// <summary>A string field: the next string number, or 0 for an empty or absent string.</summary>
    public SmbiosStructure String(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return Byte(0);
        }

        if (value.Any(c => c is '\0' or > '\x7F'))
        {
            throw new ArgumentException($"SMBIOS string '{value}' must be ASCII without NUL", nameof(value));
        }

        _strings.Add(Encoding.ASCII.GetBytes(value));
        return Byte((byte)_strings.Count);
    }

    /// <summary>
    /// A string of a list that no field numbers (type 11's OEM strings, type 12's options):
    /// appended to the set unless empty, as QEMU's SMBIOS_TABLE_SET_STR_LIST copies the bytes it
    /// was given (up to the first NUL, by strlen) and skips empty ones.
    /// </summary>
    public SmbiosStructure ListString(ReadOnlySpan<byte> value)
    {
        int nul = value.IndexOf((byte)0);
        var text = nul >= 0 ? value[..nul] : value;
        if (!text.IsEmpty)
        {
            _strings.Add(text.ToArray());
        }

        return this;
    }

    /// <summary>The structure's bytes: the formatted area with its length filled in, then the string set.</summary>
    public byte[] ToArray()
    {
        if (_formatted.Count > byte.MaxValue)
        {
            throw new InvalidOperationException($"SMBIOS type {_formatted[0]} formatted area of {_formatted.Count} bytes exceeds 255");
        }

        var bytes = new List<byte>(_formatted) { [1] = (byte)_formatted.Count };
        foreach (byte[] s in _strings)
        {
            bytes.AddRange(s);
            bytes.Add(0);
        }

        bytes.Add(0);
        if (_strings.Count == 0)
        {
            bytes.Add(0);
        }

        return [.. bytes];
    }
}
