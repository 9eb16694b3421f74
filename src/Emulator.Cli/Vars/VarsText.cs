using System.Globalization;
using System.Text;
using Emulator.Cli.CommandLine;
using Emulator.Firmware.Varstore;

namespace Emulator.Cli.Vars;

/// <summary>Parsing and printing helpers shared by the vars commands.</summary>
public static class VarsText
{
    /// <summary>A vendor GUID: the registry form (braces optional) or "global" for EFI_GLOBAL_VARIABLE.</summary>
    public static Guid ParseGuid(string text)
    {
        if (text.Equals("global", StringComparison.OrdinalIgnoreCase))
        {
            return VariableGuids.EfiGlobalVariable;
        }

        return Guid.TryParse(text.Trim('{', '}'), out Guid guid)
            ? guid
            : throw new UsageException($"--guid '{text}' is not a GUID (8-4-4-4-12 hex digits, or 'global')");
    }

    public static byte[] ParseHex(string text)
    {
        string digits = text.Replace(" ", string.Empty, StringComparison.Ordinal).Replace(":", string.Empty, StringComparison.Ordinal);
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            digits = digits[2..];
        }

        try
        {
            return Convert.FromHexString(digits);
        }
        catch (FormatException)
        {
            throw new UsageException($"--data-hex needs an even number of hex digits, not '{text}'");
        }
    }

    public static VariableAttributes ParseAttributes(string text) =>
        VariableAttributeNames.TryParse(text, out var attributes, out string? unknown)
            ? attributes
            : throw new UsageException($"--attributes: unknown attribute '{unknown}' (use a comma list of nv, bs, rt)");

    /// <summary>xxd-style dump: offset, 16 bytes in hex, printable ASCII.</summary>
    public static void HexDump(TextWriter output, ReadOnlySpan<byte> data)
    {
        var line = new StringBuilder();
        for (int at = 0; at < data.Length; at += 16)
        {
            ReadOnlySpan<byte> row = data.Slice(at, Math.Min(16, data.Length - at));
            line.Clear().Append(CultureInfo.InvariantCulture, $"{at:x8}: ");
            for (int i = 0; i < 16; i++)
            {
                line.Append(i < row.Length ? row[i].ToString("x2", CultureInfo.InvariantCulture) : "  ").Append(i % 2 == 1 ? " " : string.Empty);
            }

            line.Append(' ');
            foreach (byte b in row)
            {
                line.Append(b is >= 0x20 and < 0x7F ? (char)b : '.');
            }

            output.WriteLine(line.ToString());
        }
    }

    public static string KiB(long bytes) => bytes % 1024 == 0 ? $"{bytes / 1024} KiB" : $"{bytes} bytes";
}
