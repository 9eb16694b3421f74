namespace Emulator.Boot.Tests.Smm;

/// <summary>
/// Issue 17's bad input: an SMM (Secure Boot) build started where it cannot run stops with a
/// named reason instead of spinning to the instruction limit — the firmware's own dead loop is
/// detected and attributed to the module that holds it, as QEMU 7.2 shows the same silence
/// (docs/q35.md; ../shared/docs/q35-smm.md §7): on `pc` PlatformPei refuses the i440FX host
/// bridge (Q35BoardVerification); on q35 with SMM off, SmmControl2Dxe finds APMC_EN preset.
/// </summary>
[Trait("Category", "Boot")]
public class SmmBuildWithoutSmmTests
{
    [Theory]
    [InlineData("pc", "PlatformPei")]
    [InlineData("q35,smm=off", "SmmControl2Dxe")]
    public void StopsAsANamedHangInTheModuleThatRefuses(string machine, string module)
    {
        string report = CliRunner.TempFile(".json");
        try
        {
            var r = CliRunner.Run(
                "boot", "--machine", machine, "--code", Fixtures.Path(Fixtures.Code4MSecboot), "--vars", Fixtures.Path(Fixtures.Vars4M),
                "--snapshot", "--until", "prompt", "--max-instructions", "4000000000", "--quiet", "--report", report);
            Assert.Equal(1, r.ExitCode);
            var stop = r.Report!.RootElement.GetProperty("stop");
            Assert.Equal("hang", stop.GetProperty("reason").GetString());
            Assert.Contains($" in {module} (", stop.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.True(r.Report.RootElement.GetProperty("instructions").GetInt64() < 4_000_000_000);
        }
        finally
        {
            File.Delete(report);
        }
    }
}
