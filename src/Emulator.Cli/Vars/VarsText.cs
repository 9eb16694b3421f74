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

    /// <summary>What <c>vars check</c> concludes: a word for JSON, the first line, the verdict line and the exit status.</summary>
    public sealed record CheckVerdict(string Kind, string Headline, string Line, int ExitCode);

    public static CheckVerdict Verdict(VarstoreImage image)
    {
        var rejects = image.Issues.Where(i => i.Class == VarstoreIssueClass.Reject).ToList();
        var repairs = image.Issues.Where(i => i.Class == VarstoreIssueClass.Repair).ToList();
        int notes = image.Issues.Count - rejects.Count - repairs.Count;
        if (rejects.Count > 0 || !image.IsUsable)
        {
            return new CheckVerdict("reject", "INVALID",
                $"the firmware would reject it ({Count(rejects.Count, "problem")} at {Offsets(rejects)}): OVMF erases a volume whose FV header it refuses "
                + "and stops at a CPU exception when its variable driver finds no usable store; every variable is lost", 1);
        }

        if (repairs.Count > 0)
        {
            int lost = image.UnreachableRecords.Count(r => r.State is VariableState.Added or VariableState.AddedInTransition);
            string loss = lost > 0 ? $"; {Count(lost, "live record")} after a broken header will be lost" : string.Empty;
            return new CheckVerdict("repair", "DAMAGED", $"the firmware would repair it at its next boot ({Count(repairs.Count, "problem")} at {Offsets(repairs)}){loss}", 1);
        }

        return new CheckVerdict("valid", "valid", notes == 0 ? "valid" : $"valid ({Count(notes, "note")})", 0);
    }

    public static string ClassName(VarstoreIssueClass c) => c switch
    {
        VarstoreIssueClass.Reject => "reject",
        VarstoreIssueClass.Repair => "repair",
        _ => "note",
    };

    private static string Count(int n, string what) => $"{n} {what}{(n == 1 ? string.Empty : "s")}";

    private static string Offsets(IEnumerable<VarstoreIssue> issues) => string.Join(", ", issues.Select(i => $"0x{i.Offset:X}").Distinct().Take(6));

    public static string KiB(long bytes) => bytes % 1024 == 0 ? $"{bytes / 1024} KiB" : $"{bytes} bytes";
}
