using System.Text.Json;

namespace Emulator.Boot.Tests;

/// <summary>
/// The block compiler on the real firmware: a boot to the Shell banner with hot blocks compiled
/// (the default) and the same boot with every block interpreted (<c>--interpret</c>) must agree on
/// everything the guest did — milestones by instruction index and virtual time, the console,
/// the modules and their instruction counts, the variables, the final instruction count and
/// virtual clock. Only wall times may differ.
/// </summary>
[Trait("Category", "Boot")]
public class BlockCompilerBootTests
{
    [Theory]
    [InlineData(Fixtures.Code2M, Fixtures.Vars2M)]
    [InlineData(Fixtures.Code4M, Fixtures.Vars4M)]
    public void CompiledAndInterpretedBootsToTheBannerAgreeOnEverythingTheGuestDid(string code, string vars)
    {
        // The 4 MB build's SEC and PEI are 32-bit code: the compiler's 32-bit paths on real firmware.
        var compiled = Boot(code, vars);
        var interpreted = Boot(code, vars, "--interpret");
        Assert.Equal(Guest(interpreted), Guest(compiled));
        Assert.Contains("UEFI Interactive Shell", compiled.GetProperty("console").GetProperty("output").GetString(), StringComparison.Ordinal);
    }

    private static JsonElement Boot(string code, string varsTemplate, params string[] extra)
    {
        string report = CliRunner.TempFile(".json");
        string vars = CliRunner.TempFile(".fd");
        File.Copy(Fixtures.Path(varsTemplate), vars);
        try
        {
            var r = CliRunner.Run(["boot", "--code", Fixtures.Path(code), "--vars", vars, "--snapshot",
                "--until", "banner", "--timeline", "--report", report, "--quiet", .. extra]);
            Assert.Equal(0, r.ExitCode);
            return r.Report!.RootElement.Clone();
        }
        finally
        {
            File.Delete(report);
            File.Delete(vars);
        }
    }

    /// <summary>The report's guest-visible content as text: wall-clock fields and file paths removed.</summary>
    private static string Guest(JsonElement report)
    {
        var parts = new List<string>
        {
            report.GetProperty("instructions").GetRawText(),
            report.GetProperty("repIterations").GetRawText(),
            report.GetProperty("virtualTime").GetRawText(),
            report.GetProperty("stop").GetRawText(),
            report.GetProperty("exceptions").GetRawText(),
            report.GetProperty("console").GetRawText(),
            report.GetProperty("modules").GetRawText(),
            report.GetProperty("variables").GetRawText(),
            report.GetProperty("unassigned").GetRawText(),
        };
        foreach (var m in report.GetProperty("milestones").EnumerateArray())
        {
            parts.Add(string.Join(' ', m.EnumerateObject().Where(p => p.Name != "wallMs").Select(p => $"{p.Name}={p.Value.GetRawText()}")));
        }

        return string.Join('\n', parts);
    }
}
