namespace Emulator.Boot.Tests;

/// <summary>
/// Beyond PEI: the same core runs DXE and BDS of Debian's builds far enough to print the UEFI
/// Shell banner and its countdown on COM1, with no guest exception and no unimplemented
/// instruction — a broad regression check of the CPU and the devices (the full Shell boot,
/// with input and the virtual-clock rules, is issue 4's).
/// </summary>
[Trait("Category", "Boot")]
public class ShellBannerTests
{
    [Theory]
    [InlineData(Fixtures.Code2M, Fixtures.Vars2M)]
    [InlineData(Fixtures.Code4M, Fixtures.Vars4M)]
    public void PrintsTheShellBannerWithoutGuestExceptions(string code, string vars)
    {
        string report = CliRunner.TempFile(".json");
        string log = CliRunner.TempFile(".log");
        string varsCopy = CliRunner.TempFile(".fd");
        File.Copy(Fixtures.Path(vars), varsCopy);
        try
        {
            var r = CliRunner.Run("boot", "--code", Fixtures.Path(code), "--vars", varsCopy,
                "--max-instructions", "1400000000", "--report", report, "--flash-log", log, "--quiet");
            Assert.Contains("UEFI Interactive Shell v2.2", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("UEFI v2.70 (EDK II, 0x00010000)", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("Press ", r.Stdout, StringComparison.Ordinal);
            Assert.Equal(0, r.Report!.RootElement.GetProperty("exceptions").GetInt64());
            Assert.Empty(r.Report.RootElement.GetProperty("unimplemented").EnumerateArray());

            // The firmware wrote its variables through the flash: the log replays onto the
            // original store, entry by entry, and the report counts the same operations.
            var entries = FlashLogFile.Read(log);
            Assert.NotEmpty(entries);
            Assert.All(entries, e => Assert.Equal("pflash1", e.Chip));
            FlashLogFile.Replay(File.ReadAllBytes(Fixtures.Path(vars)), entries, "pflash1");
            var chip = r.Report.RootElement.GetProperty("machine").GetProperty("flash")[1];
            Assert.Equal(entries.Count(e => e.Op == "erase"), chip.GetProperty("blocksErased").GetInt64());
            Assert.True(chip.GetProperty("bytesProgrammed").GetInt64() >= entries.Count(e => e.Op == "program"));
        }
        finally
        {
            File.Delete(report);
            File.Delete(log);
            File.Delete(varsCopy);
        }
    }
}
