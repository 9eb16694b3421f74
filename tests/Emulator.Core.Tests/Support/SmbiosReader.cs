using System.Buffers.Binary;
using System.Text;

namespace Emulator.Core.Tests.Support;

/// <summary>One structure read back from a table: its header, formatted area, strings and full size.</summary>
public sealed record ParsedSmbiosStructure(byte Type, ushort Handle, byte[] Formatted, IReadOnlyList<string> Strings, int Size)
{
    public byte Byte(int offset) => Formatted[offset];

    public ushort Word(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(Formatted.AsSpan(offset));

    public uint DWord(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(Formatted.AsSpan(offset));

    public ulong QWord(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(Formatted.AsSpan(offset));

    /// <summary>The string a string field names, "" for 0.</summary>
    public string String(int offset) => Formatted[offset] == 0 ? string.Empty : Strings[Formatted[offset] - 1];
}

/// <summary>
/// Walks an SMBIOS structure table as a consumer does (OVMF SmbiosPlatformDxe
/// SmbiosTableLength: the formatted area, then strings up to the double NUL), checking each
/// structure's framing on the way, up to and including type 127, which must end the table.
/// </summary>
public static class SmbiosReader
{
    public static List<ParsedSmbiosStructure> Read(ReadOnlySpan<byte> table)
    {
        var result = new List<ParsedSmbiosStructure>();
        int at = 0;
        while (true)
        {
            Assert.True(at + 4 <= table.Length, $"structure header at {at} past the table's end");
            byte type = table[at];
            byte length = table[at + 1];
            Assert.True(length >= 4 && at + length <= table.Length, $"type {type} at {at}: bad formatted length {length}");
            var formatted = table.Slice(at, length).ToArray();

            // Strings: NUL-terminated, non-empty; the set ends with one extra NUL, or is two NULs when empty.
            int p = at + length;
            var strings = new List<string>();
            if (table[p] == 0)
            {
                Assert.Equal(0, table[p + 1]);
                p += 2;
            }
            else
            {
                while (table[p] != 0)
                {
                    int end = table[p..].IndexOf((byte)0);
                    Assert.True(end > 0, $"type {type}: unterminated string");
                    strings.Add(Encoding.ASCII.GetString(table.Slice(p, end)));
                    p += end + 1;
                }

                p++;
            }

            result.Add(new ParsedSmbiosStructure(type, BinaryPrimitives.ReadUInt16LittleEndian(formatted.AsSpan(2)), formatted, strings, p - at));
            at = p;
            if (type == 127)
            {
                Assert.Equal(table.Length, at);
                return result;
            }
        }
    }
}
