using System.Text;

namespace Emulator.Boot.Tests;

/// <summary>
/// Issue 5's proof that a converted store boots: a variable of our own is set in a copy of the
/// 2 MB store with <c>vars set</c>, the store is converted into the 4 MB layout, the 4 MB code
/// boots with it to the Shell, and <c>dmpstore</c> reads the variable back from the firmware.
/// (Boot options are no proof: the boot manager re-creates them on every boot.)
/// </summary>
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
            byte[] before = File.ReadAllBytes(converted);

            var r = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code4M), "--vars", converted, "--snapshot", "--quiet",
                "--expect", "Press ESC in", "--send", @"\e",
                "--expect", "Shell>", "--send", $@"dmpstore EmuMigrated -guid {Vendor}\r",
                "--expect", "Shell>", "--send", @"reset -s\r");

            Assert.Equal(0, r.ExitCode);
            string console = System.Text.RegularExpressions.Regex.Replace(r.Stdout, @"\x1b\[[0-9;]*[A-Za-z]", string.Empty);
            Assert.Contains($"Variable NV+BS '{Vendor}:EmuMigrated' DataSize = 0x{text.Length:X2}", console, StringComparison.Ordinal);
            Assert.Contains("00000000: 66 72 6F 6D 20 61 20 32-20 4D 42 20 73 74 6F 72  *from a 2 MB stor*", console, StringComparison.Ordinal);
            Assert.Equal(before, File.ReadAllBytes(converted));
        }
        finally
        {
            File.Delete(converted);
        }
    }
}
