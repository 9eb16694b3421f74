using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Emulator.Boot.Tests;

/// <summary>
/// A DEBUG OVMF build narrates its whole boot on the debug console (port 0x402): every PEIM and
/// driver loaded, every PCI function and BAR found, every protocol installed. emu's narration must
/// be QEMU 7.2's, line for line (Data/qemu72-debugcon/NAME.log, recorded as NAME.info says), after
/// <see cref="Normalize"/> masks exactly two things:
/// <list type="bullet">
/// <item>PlatformPei's CMOS dump, row "00:", bytes 0x00 (seconds) and 0x0C (register C): QEMU's RTC
/// runs on the host clock, so how many seconds passed and whether an update cycle ended (UF) depend
/// on how long QEMU took to get there (the 2 MB recording shows 03 and UF set, the 4 MB one 01 and
/// UF clear); emu's clock is virtual time, half a second in at that point.</item>
/// <item>hex numbers of six digits or more outside GUIDs: memory addresses. emu's DSDT leaves out
/// QEMU's PCI and CPU hotplug AML (docs/acpi-tables.md), so the ACPI tables take one page less
/// (BDS's memory-type table shows EfiACPIReclaimMemory, type 09, at 7 pages instead of 8) and
/// pool allocations after them land elsewhere.</item>
/// </list>
/// The boot runs to the <c>idle</c> milestone: QEMU's recording ends after the Shell's 5-second
/// countdown and its prompt, and so does emu's log then; the serial console of the same QEMU run
/// (NAME.serial.txt) must match emu's byte for byte.
/// </summary>
[Trait("Category", "Debug")]
public partial class DebugconAgreementTests
{
    /// <summary>The DEBUG 4 MB build idles after about 1.3 billion instructions; a hang fails within seconds.</summary>
    private const string InstructionBudget = "4000000000";

    [Theory]
    [InlineData("bookworm-debug-2m")]
    [InlineData("bookworm-debug-4m")]
    public void DebugconLogEqualsQemus(string recording)
    {
        var info = ReadInfo(recording);
        string code = DebugFixtures.Path(info["code"]);
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(code)));
        Assert.True(sha == info["code-sha256"],
            $"{code} has SHA-256 {sha}, QEMU's log was recorded from {info["code-sha256"]}: rebuild with firmware-fixtures/build-debug.sh");

        string log = CliRunner.TempFile(".log");
        string serial = CliRunner.TempFile(".txt");
        try
        {
            var r = CliRunner.Run("boot", "--code", code, "--vars", DebugFixtures.Path(info["vars"]), "--snapshot", "--memory", "256M",
                "--debugcon", log, "--serial-log", serial, "--until", "idle", "--max-instructions", InstructionBudget, "--quiet");
            Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr.Trim()}");

            var qemu = File.ReadAllLines(Path.Combine(DataDirectory, recording + ".log")).Select(Normalize).ToList();
            var emu = File.ReadAllLines(log).Select(Normalize).ToList();
            int same = qemu.Zip(emu).TakeWhile(p => p.First == p.Second).Count();
            Assert.True(same == qemu.Count && same == emu.Count,
                $"{recording}: the logs agree for {same} lines (QEMU {qemu.Count}, emu {emu.Count}); line {same + 1} (normalised):\n"
                + $"  QEMU: {qemu.ElementAtOrDefault(same) ?? "(end)"}\n  emu:  {emu.ElementAtOrDefault(same) ?? "(end)"}\n"
                + $"QEMU's lines emu lacks:\n{Unmatched(qemu, emu)}emu's lines QEMU lacks:\n{Unmatched(emu, qemu)}");

            // The serial console of the same QEMU run, byte for byte (nothing masked: it shows no time or address).
            var qemuConsole = File.ReadAllBytes(Path.Combine(DataDirectory, info["serial"].Split(' ')[0]));
            var emuConsole = File.ReadAllBytes(serial);
            int sameBytes = qemuConsole.Zip(emuConsole).TakeWhile(p => p.First == p.Second).Count();
            Assert.True(sameBytes == qemuConsole.Length && sameBytes == emuConsole.Length,
                $"{recording}: the serial consoles agree for {sameBytes} bytes (QEMU {qemuConsole.Length}, emu {emuConsole.Length})");
        }
        finally
        {
            File.Delete(log);
            File.Delete(serial);
        }
    }

    [Fact]
    public void NormalizeMasksTheRtcBytesAndAddressesOnly()
    {
        Assert.Equal(
            "00: ## 00 00 00 00 00 05 01 01 26 26 02 ## 80 00 00",
            Normalize("00: 03 00 00 00 00 00 05 01 01 26 26 02 10 80 00 00"));
        Assert.Equal("10: 00 00 00 00 06 80 02 FF FF 00 00 00 00 00 00 00", Normalize("10: 00 00 00 00 06 80 02 FF FF 00 00 00 00 00 00 00"));
        Assert.Equal(
            "InstallProtocolInterface: 09576E91-6D3F-11D2-8E39-00A0C969723B #",
            Normalize("InstallProtocolInterface: 09576E91-6D3F-11D2-8E39-00A0C969723B E713598"));
        Assert.Equal("Loading driver at # EntryPoint=# Shell.efi", Normalize("Loading driver at 0x0000E33C000 EntryPoint=0x0000E35BB1F Shell.efi"));
        Assert.Equal("   BAR[4]: Type =   Io32; Alignment = 0xF;\tLength = 0x10;\tOffset = 0x20", Normalize("   BAR[4]: Type =   Io32; Alignment = 0xF;\tLength = 0x10;\tOffset = 0x20"));
    }

    public static string Normalize(string line)
    {
        if (CmosRowZero().IsMatch(line))
        {
            var bytes = line[4..].Split(' ');
            bytes[0x00] = "##";
            bytes[0x0C] = "##";
            return "00: " + string.Join(' ', bytes);
        }

        return Address().Replace(line, "#");
    }

    private static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-debugcon");

    private static Dictionary<string, string> ReadInfo(string recording) =>
        File.ReadAllLines(Path.Combine(DataDirectory, recording + ".info"))
            .Where(l => !l.StartsWith('#') && l.Contains(": ", StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf(": ", StringComparison.Ordinal)], l => l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..].Trim());

    /// <summary>The first lines of <paramref name="lines"/> that <paramref name="other"/> does not have as often (a multiset difference, for the failure message).</summary>
    private static string Unmatched(IEnumerable<string> lines, IEnumerable<string> other)
    {
        var left = other.CountBy(l => l).ToDictionary(p => p.Key, p => p.Value);
        var missing = new List<string>();
        foreach (string line in lines)
        {
            if (left.TryGetValue(line, out int n) && n > 0)
            {
                left[line] = n - 1;
            }
            else if (missing.Count < 24)
            {
                missing.Add(line);
            }
        }

        return string.Concat(missing.Select(l => $"  {l}\n"));
    }

    /// <summary>PlatformPei's first CMOS dump row: "00:" and 16 bytes (clock, alarm, registers A–D, 0x0E, 0x0F).</summary>
    [GeneratedRegex(@"^00:( [0-9A-F]{2}){16}$")]
    private static partial Regex CmosRowZero();

    [GeneratedRegex(@"(?<![-\w])(0x)?[0-9A-Fa-f]{6,}(?![-\w])")]
    private static partial Regex Address();
}
