using System.Text;

namespace Emulator.Storage.Fat;

/// <summary>
/// File names on FAT: the 8.3 short name QEMU 7.2's vvfat derives from a host name
/// (block/vvfat.c create_short_filename, to_valid_short_char), the VFAT long-name entries that carry
/// the real name (Microsoft FAT specification 1.03, section 7, "Long File Name Implementation"),
/// their checksum, and which names can become host names.
/// </summary>
internal static class FatNames
{
    /// <summary>LFN entries hold 13 UTF-16 units each; a name has at most 255.</summary>
    public const int MaxLongName = 255;
    public const int CharsPerLongEntry = 13;

    /// <summary>The UTF-16 positions inside a 32-byte LFN entry (FAT spec 7: LDIR_Name1, Name2, Name3).</summary>
    private static readonly int[] s_lfnOffsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

    /// <summary>
    /// The 11-byte short name vvfat gives <paramref name="name"/> in a directory whose earlier short
    /// names are <paramref name="taken"/>: upper-cased valid characters, 8 before the last dot and
    /// 3 after it; a "~N" tail when anything was dropped ("lossy") or the name is taken.
    /// </summary>
    public static byte[] ShortName(string name, IReadOnlySet<string> taken)
    {
        byte[] entry = "           "u8.ToArray();
        int j = 0;
        bool lossy = false;
        int lastDot = -1;
        var runes = name.EnumerateRunes().ToArray();
        for (int i = 0; i < runes.Length; i++)
        {
            if (runes[i].Value == '.')
            {
                if (j == 0)
                {
                    lossy = true; // a leading dot
                }
                else
                {
                    lossy |= lastDot >= 0;
                    lastDot = i;
                }
            }
            else if (lastDot < 0)
            {
                byte v = ValidShortChar(runes[i]);
                if (j < 8 && v != 0)
                {
                    entry[j++] = v;
                }
                else
                {
                    lossy = true;
                }
            }
        }

        if (lastDot >= 0)
        {
            int k = 0;
            for (int i = lastDot + 1; i < runes.Length; i++)
            {
                byte v = ValidShortChar(runes[i]);
                if (k < 3 && v != 0)
                {
                    entry[8 + k++] = v;
                }
                else
                {
                    lossy = true;
                }
            }
        }

        if (entry[0] == 0xE5)
        {
            entry[0] = 0x05; // DIR_KANJI: 0xE5 would mark the entry free
        }

        int baseLength = Array.IndexOf(entry, (byte)' ', 0, 8) is int s && s >= 0 ? s : 8;
        for (int n = lossy ? 1 : 0; n < 999999; n++)
        {
            if (n > 0)
            {
                byte[] tail = Encoding.ASCII.GetBytes($"~{n}");
                tail.CopyTo(entry, Math.Min(baseLength, 8 - tail.Length));
            }

            if (!taken.Contains(Encoding.Latin1.GetString(entry)))
            {
                return entry;
            }
        }

        throw new InvalidOperationException("no free short name"); // a directory holds at most 65,536 entries
    }

    /// <summary>to_valid_short_char: upper-cased, and only digits, A–Z and <c>$%'-_@~`!(){}^#&amp;</c>.</summary>
    private static byte ValidShortChar(Rune c)
    {
        var upper = Rune.ToUpperInvariant(c);
        int v = upper.Value;
        bool valid = (v >= '0' && v <= '9') || (v >= 'A' && v <= 'Z') || (v < 0x80 && "$%'-_@~`!(){}^#&".Contains((char)v));
        return valid ? (byte)v : (byte)0;
    }

    /// <summary>The checksum of an 11-byte short name every LFN entry of its chain carries (FAT spec 7.2, ChkSum).</summary>
    public static byte Checksum(ReadOnlySpan<byte> shortName)
    {
        byte sum = 0;
        for (int i = 0; i < 11; i++)
        {
            sum = (byte)((((sum & 1) << 7) | (sum >> 1)) + shortName[i]);
        }

        return sum;
    }

    /// <summary>
    /// The LFN entries for <paramref name="name"/>, in directory order (highest ordinal first, 0x40
    /// on it): the name NUL-terminated when it does not fill the last entry, then 0xFFFF padding,
    /// as vvfat's create_long_filename and short2long_name write them.
    /// </summary>
    public static byte[] LongNameEntries(string name, byte checksum)
    {
        int count = (name.Length + CharsPerLongEntry - 1) / CharsPerLongEntry;
        var units = new ushort[count * CharsPerLongEntry];
        Array.Fill(units, (ushort)0xFFFF);
        for (int i = 0; i < name.Length; i++)
        {
            units[i] = name[i];
        }

        if (name.Length < units.Length)
        {
            units[name.Length] = 0;
        }

        byte[] entries = new byte[count * 32];
        for (int e = 0; e < count; e++)
        {
            int ordinal = count - e; // directory order: the last part of the name first
            var entry = entries.AsSpan(e * 32, 32);
            entry[0] = (byte)(ordinal | (e == 0 ? 0x40 : 0));
            entry[11] = 0x0F;
            entry[13] = checksum;
            for (int k = 0; k < CharsPerLongEntry; k++)
            {
                ushort u = units[(ordinal - 1) * CharsPerLongEntry + k];
                entry[s_lfnOffsets[k]] = (byte)u;
                entry[s_lfnOffsets[k] + 1] = (byte)(u >> 8);
            }
        }

        return entries;
    }

    /// <summary>The 13 UTF-16 units of one LFN entry.</summary>
    public static void ReadLongNamePart(ReadOnlySpan<byte> entry, Span<char> destination)
    {
        for (int k = 0; k < CharsPerLongEntry; k++)
        {
            destination[k] = (char)(entry[s_lfnOffsets[k]] | entry[s_lfnOffsets[k] + 1] << 8);
        }
    }

    /// <summary>
    /// A short name as a host name: "BASE.EXT" without padding, 0x05 back to 0xE5, lower-cased where
    /// the Windows NT case bits say so (DIR_NTRes 0x08 base, 0x10 extension: what edk2's FatDxe
    /// writes for an all-lower-case 8.3 name). Bytes above 0x7F are taken as Latin-1.
    /// </summary>
    public static string FromShortName(ReadOnlySpan<byte> name11, byte caseBits)
    {
        byte[] n = name11[..11].ToArray();
        if (n[0] == 0x05)
        {
            n[0] = 0xE5;
        }

        string stem = Encoding.Latin1.GetString(n, 0, 8).TrimEnd(' ');
        string ext = Encoding.Latin1.GetString(n, 8, 3).TrimEnd(' ');
        if ((caseBits & 0x08) != 0)
        {
            stem = stem.ToLowerInvariant();
        }

        if ((caseBits & 0x10) != 0)
        {
            ext = ext.ToLowerInvariant();
        }

        return ext.Length == 0 ? stem : $"{stem}.{ext}";
    }

    /// <summary>
    /// Why a host name cannot be a FAT long name (null when it can): FAT forbids control characters and
    /// <c>"*/:&lt;&gt;?\|</c> (FAT spec 7, "Long Name Specification"), and the name must fit 255 UTF-16 units.
    /// A name the host could not decode (U+FFFD) would not round-trip either.
    /// </summary>
    public static string? WhyNotLongName(string name)
    {
        if (name.Length == 0 || name.Length > MaxLongName)
        {
            return $"longer than the {MaxLongName} characters a FAT name holds";
        }

        foreach (char c in name)
        {
            if (c < 0x20 || "\"*/:<>?\\|".Contains(c))
            {
                return $"has a character FAT names cannot hold (U+{(int)c:X4})";
            }

            if (c == '\uFFFD')
            {
                return "is not valid UTF-8";
            }
        }

        return name.Trim(' ', '.').Length == 0 ? "is only dots and spaces" : null;
    }
}
