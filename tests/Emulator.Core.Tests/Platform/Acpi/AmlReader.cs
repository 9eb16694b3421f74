using System.Text;

namespace Emulator.Core.Tests.Platform.Acpi;

/// <summary>
/// Reads back the AML the generator writes, just far enough to check its structure: every
/// PkgLength must end inside its parent and the terms must fill their parent exactly. It knows
/// the named objects (Scope, Device, Processor, Method, Name, OperationRegion, Field) and the
/// data objects a Name holds; method bodies are skipped by their length. It records the absolute
/// path of every object (segments padded to four, "\_SB_.PCI0._HID") with its data bytes.
/// </summary>
public sealed class AmlReader
{
    private readonly byte[] _aml;

    private AmlReader(byte[] aml)
    {
        _aml = aml;
    }

    /// <summary>Named data objects by absolute path: the encoded data object.</summary>
    public Dictionary<string, byte[]> Names { get; } = [];

    /// <summary>Devices, processors, methods, regions and fields by absolute path.</summary>
    public HashSet<string> Objects { get; } = [];

    public static AmlReader Read(byte[] aml)
    {
        var reader = new AmlReader(aml);
        reader.TermList(0, aml.Length, "\\");
        return reader;
    }

    /// <summary>PkgLength at <paramref name="at"/>: (value, bytes it takes).</summary>
    public static (int Value, int Size) PkgLength(byte[] aml, int at)
    {
        byte lead = aml[at];
        int follow = lead >> 6;
        if (follow == 0)
        {
            return (lead & 0x3F, 1);
        }

        Assert.True((lead & 0x30) == 0, "bits 4-5 of a multi-byte PkgLength lead byte must be 0");
        int value = lead & 0x0F;
        for (int i = 0; i < follow; i++)
        {
            value |= aml[at + 1 + i] << (4 + (8 * i));
        }

        return (value, 1 + follow);
    }

    /// <summary>Decodes an integer data object (Zero, One, Ones, Byte/Word/DWord/QWord).</summary>
    public static ulong Integer(byte[] data, ref int at)
    {
        byte op = data[at++];
        int size = op switch { 0x00 or 0x01 or 0xFF => 0, 0x0A => 1, 0x0B => 2, 0x0C => 4, 0x0E => 8, _ => -1 };
        Assert.True(size >= 0, $"0x{op:X2} is not an integer");
        if (size == 0)
        {
            return op == 0xFF ? ulong.MaxValue : op;
        }

        ulong value = 0;
        for (int i = 0; i < size; i++)
        {
            value |= (ulong)data[at++] << (8 * i);
        }

        return value;
    }

    /// <summary>A Package's elements (integers only).</summary>
    public static List<ulong> IntegerPackage(byte[] data)
    {
        Assert.Equal(0x12, data[0]);
        var (_, size) = PkgLength(data, 1);
        int at = 1 + size;
        int count = data[at++];
        var values = new List<ulong>();
        for (int i = 0; i < count; i++)
        {
            values.Add(Integer(data, ref at));
        }

        return values;
    }

    /// <summary>A Buffer's contents.</summary>
    public static byte[] BufferContents(byte[] data)
    {
        Assert.Equal(0x11, data[0]);
        var (length, size) = PkgLength(data, 1);
        int at = 1 + size;
        int count = (int)Integer(data, ref at);
        Assert.Equal(1 + length, at + count);
        return data[at..(at + count)];
    }

    private void TermList(int start, int end, string scope)
    {
        int at = start;
        while (at < end)
        {
            at = Term(at, end, scope);
        }

        Assert.Equal(end, at);
    }

    private int Term(int at, int end, string scope)
    {
        byte op = _aml[at];
        if (op == 0x5B)
        {
            byte ext = _aml[at + 1];
            switch (ext)
            {
                case 0x82:
                case 0x83:
                {
                    int bodyEnd = Package(at + 2, end, out int next);
                    string path = Resolve(scope, NameString(ref next));
                    Objects.Add(path);
                    next += ext == 0x83 ? 6 : 0;
                    TermList(next, bodyEnd, path);
                    return bodyEnd;
                }

                case 0x80:
                {
                    int next = at + 2;
                    Objects.Add(Resolve(scope, NameString(ref next)));
                    next++;
                    Integer(_aml, ref next);
                    Integer(_aml, ref next);
                    return next;
                }

                case 0x81:
                {
                    int bodyEnd = Package(at + 2, end, out int next);
                    NameString(ref next);
                    next++;
                    while (next < bodyEnd)
                    {
                        Objects.Add(Resolve(scope, Encoding.ASCII.GetString(_aml, next, 4)));
                        next += 4;
                        next += PkgLength(_aml, next).Size;
                    }

                    Assert.Equal(bodyEnd, next);
                    return bodyEnd;
                }
            }
        }

        switch (op)
        {
            case 0x10:
            {
                int bodyEnd = Package(at + 1, end, out int next);
                string path = Resolve(scope, NameString(ref next));
                TermList(next, bodyEnd, path);
                return bodyEnd;
            }

            case 0x14:
            {
                int bodyEnd = Package(at + 1, end, out int next);
                Objects.Add(Resolve(scope, NameString(ref next)));
                return bodyEnd;
            }

            case 0x08:
            {
                int next = at + 1;
                string path = Resolve(scope, NameString(ref next));
                int dataStart = next;
                next = DataObject(next, end);
                Names[path] = _aml[dataStart..next];
                return next;
            }
        }

        throw new Xunit.Sdk.XunitException($"unexpected AML opcode 0x{op:X2} at {at}");
    }

    private int DataObject(int at, int end)
    {
        byte op = _aml[at];
        switch (op)
        {
            case 0x0D:
                return Array.IndexOf(_aml, (byte)0, at + 1) + 1;
            case 0x11:
            case 0x12:
                return Package(at + 1, end, out _);
            default:
                Integer(_aml, ref at);
                return at;
        }
    }

    /// <summary>Reads a PkgLength at <paramref name="at"/>; returns where the package ends (checked against <paramref name="end"/>).</summary>
    private int Package(int at, int end, out int next)
    {
        var (length, size) = PkgLength(_aml, at);
        int bodyEnd = at + length;
        Assert.True(bodyEnd <= end && length >= size, $"PkgLength at {at} runs past its parent ({bodyEnd} > {end})");
        next = at + size;
        return bodyEnd;
    }

    private string NameString(ref int at)
    {
        var prefix = new StringBuilder();
        while (_aml[at] is 0x5C or 0x5E)
        {
            prefix.Append(_aml[at++] == 0x5C ? '\\' : '^');
        }

        int count = _aml[at] switch { 0x00 => 0, 0x2E => 2, 0x2F => _aml[at + 1], _ => 1 };
        at += _aml[at] switch { 0x00 or 0x2E => 1, 0x2F => 2, _ => 0 };
        var segments = new List<string>();
        for (int i = 0; i < count; i++)
        {
            segments.Add(Encoding.ASCII.GetString(_aml, at, 4));
            at += 4;
        }

        return prefix + string.Join('.', segments);
    }

    private static string Resolve(string scope, string name)
    {
        if (name.StartsWith('\\'))
        {
            return name;
        }

        return scope == "\\" ? "\\" + name : scope + "." + name;
    }
}
