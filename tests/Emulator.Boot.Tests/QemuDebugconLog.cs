using System.Text.RegularExpressions;

namespace Emulator.Boot.Tests;

/// <summary>
/// QEMU 7.2's debug console log of a DEBUG build booted to the Shell prompt, kept in Data/ with a
/// header naming the image it was recorded from (its SHA-256) and QEMU's command line. Lines are
/// compared after <see cref="Normalize"/>, which masks the documented differences only:
/// <list type="bullet">
/// <item>memory addresses (hex numbers of six digits or more, GUIDs excepted): where the firmware
/// allocates buffers, which moves with the size of any table the platform serves;</item>
/// <item>the RTC: PlatformPei's CMOS dump shows the time and date registers 0x00-0x09 and register
/// C (0x0C), whose update-ended flag the first update cycle sets one second after power-on, and
/// QEMU's run starts at a host-clock second while emu's virtual clock starts at 0.</item>
/// </list>
/// </summary>
public sealed partial class QemuDebugconLog
{
    private QemuDebugconLog(string codeSha256, IReadOnlyList<string> lines)
    {
        CodeSha256 = codeSha256;
        Lines = lines;
    }

    /// <summary>SHA-256 of the OVMF_CODE image QEMU booted.</summary>
    public string CodeSha256 { get; }

    public IReadOnlyList<string> Lines { get; }

    public static QemuDebugconLog Load(string dataFile)
    {
        var all = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", dataFile));
        string sha = all.First(l => l.StartsWith("# code-sha256 ", StringComparison.Ordinal))["# code-sha256 ".Length..].Trim();
        return new QemuDebugconLog(sha, all.SkipWhile(l => l.StartsWith('#')).ToList());
    }

    public static string Normalize(string line)
    {
        line = line.TrimEnd('\r');
        var cmos = CmosFirstRow().Match(line);
        if (cmos.Success)
        {
            // "00: ss sa mm ma hh ha dw dd mo yy A B C D ..": keep A, B and D, mask the clock and C.
            var bytes = line[4..].Split(' ');
            return "00: ## ## ## ## ## ## ## ## ## ## " + bytes[10] + " " + bytes[11] + " ## " + string.Join(' ', bytes[13..]);
        }

        return Address().Replace(line, "#");
    }

    [GeneratedRegex(@"^00: ([0-9A-F]{2} ){15}[0-9A-F]{2}$")]
    private static partial Regex CmosFirstRow();

    [GeneratedRegex(@"(?<![-\w])(0x)?[0-9A-Fa-f]{6,16}(?![-\w])")]
    private static partial Regex Address();
}
