namespace Emulator.Boot.Tests;

/// <summary>
/// Beyond PEI: the same core runs DXE and BDS of Debian's builds far enough to print the UEFI
/// Shell banner and its countdown on COM1, with no guest exception and no unimplemented
/// instruction — a broad regression check of the CPU and the devices (the full Shell boot,
/// with input and the virtual-clock rules, is issue 4's).
/// </summary>
public class ShellBannerTests
{
    [Theory]
    [InlineData(Fixtures.Code2M, Fixtures.Vars2M)]
    [InlineData(Fixtures.Code4M, Fixtures.Vars4M)]
    public void PrintsTheShellBannerWithoutGuestExceptions(string code, string vars)
    {
        string report = CliRunner.TempFile(".json");
        try
        {
            var r = CliRunner.Run("boot", "--code", Fixtures.Path(code), "--vars", Fixtures.Path(vars),
                "--max-instructions", "1400000000", "--report", report, "--quiet");
            Assert.Contains("UEFI Interactive Shell v2.2", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("UEFI v2.70 (EDK II, 0x00010000)", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("Press ", r.Stdout, StringComparison.Ordinal);
            Assert.Equal(0, r.Report!.RootElement.GetProperty("exceptions").GetInt64());
            Assert.Empty(r.Report.RootElement.GetProperty("unimplemented").EnumerateArray());
        }
        finally
        {
            File.Delete(report);
        }
    }
}
