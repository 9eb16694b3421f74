using System.Text;

namespace Emulator.Boot.Tests;

/// <summary>
/// Issue 5's proof that a converted store boots: a variable of our own is set in a copy of the
/// 2 MB store with <c>vars set</c>, the store is converted into the 4 MB layout, the 4 MB code
/// boots with it to the Shell, and <c>dmpstore</c> reads the variable back from the firmware.
/// (Boot options are no proof: the boot manager re-creates them on every boot.) The run persists
/// the firmware's writes, and the store it leaves is read back with <c>vars</c>.
/// </summary>
[Trait("Category", "Boot")]
public class ConvertedStoreBootTests
{
    private const string Vendor = "3F6C1C1A-5E0B-4A57-9D2A-0B1D6E5A7C11";

    [Fact]
    public void The4MCodeReadsAVariableSetInA2MStore()
    {
        using var small = new TempCopy(Fixtures.Vars2M);
        string converted = CliRunner.TempFile(".fd");
        try
        {
            string text = "from a 2 MB store";
            string hex = Convert.ToHexString(Encoding.ASCII.GetBytes(text));
            Assert.Equal(0, CliRunner.Run("vars", "set", small.Path, "EmuMigrated", "--guid", Vendor, "--data-hex", hex, "--attributes", "nv,bs").ExitCode);
            Assert.Equal(0, CliRunner.Run("vars", "convert", "--from", small.Path, "--template", Fixtures.Path(Fixtures.Vars4M), "-o", converted).ExitCode);
            Assert.Equal(0, CliRunner.Run("compat", "--code", Fixtures.Path(Fixtures.Code4M), "--vars", converted).ExitCode);
            var r = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code4M), "--vars", converted, "--quiet",
                "--expect", "Press ESC in", "--send", @"\e",
                "--expect", "Shell>", "--send", $@"dmpstore EmuMigrated -guid {Vendor}\r",
                "--expect", "Shell>", "--send", @"reset -s\r");

            Assert.Equal(0, r.ExitCode);
            string console = System.Text.RegularExpressions.Regex.Replace(r.Stdout, @"\x1b\[[0-9;]*[A-Za-z]", string.Empty);
            Assert.Contains($"Variable NV+BS '{Vendor}:EmuMigrated' DataSize = 0x{text.Length:X2}", console, StringComparison.Ordinal);
            Assert.Contains("00000000: 66 72 6F 6D 20 61 20 32-20 4D 42 20 73 74 6F 72  *from a 2 MB stor*", console, StringComparison.Ordinal);

            // The run persisted the firmware's own writes: the store it leaves is valid to our
            // parser, holds the variables the firmware created, and still holds ours.
            var check = CliRunner.Run("vars", "check", converted);
            Assert.Equal(0, check.ExitCode);
            Assert.EndsWith("\nverdict: valid\n", check.Stdout, StringComparison.Ordinal);
            Assert.Equal($"{hex.ToLowerInvariant()}\n", CliRunner.Run("vars", "get", converted, "EmuMigrated", "--hex").Stdout);
            var list = CliRunner.Run("vars", "list", converted).Stdout;
            Assert.Contains("BootOrder", list, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(converted);
        }
    }
}
