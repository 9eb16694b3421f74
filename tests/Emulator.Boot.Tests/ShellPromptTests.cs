using System.Text.Json;

namespace Emulator.Boot.Tests;

/// <summary>
/// Issue 4's headline: Debian's OVMF boots to <c>Shell&gt;</c> on the serial console, a scripted
/// dialogue answers the countdown with ESC, types <c>ver</c> and reads the Shell's answer, and
/// <c>reset -s</c> powers the machine off (exit 0) — on both flash layouts, with the milestones
/// and their virtual times in the report.
/// </summary>
[Trait("Category", "Boot")]
public class ShellPromptTests
{
    [Theory]
    [InlineData(Fixtures.Code2M, Fixtures.Vars2M)]
    [InlineData(Fixtures.Code4M, Fixtures.Vars4M)]
    public void ReachesThePromptAnswersVerAndPowersOff(string code, string vars)
    {
        string report = CliRunner.TempFile(".json");
        try
        {
            var r = CliRunner.Run("boot", "--code", Fixtures.Path(code), "--vars", Fixtures.Path(vars), "--snapshot", "--quiet",
                "--report", report,
                "--expect", "Press ESC in", "--send", @"\e",
                "--expect", "Shell>", "--send", @"ver\r",
                "--expect", "Shell>", "--send", @"reset -s\r");

            Assert.Equal(0, r.ExitCode);
            var root = r.Report!.RootElement;
            Assert.Equal("powerOff", root.GetProperty("stop").GetProperty("reason").GetString());

            // The answer to "ver" is a second banner, printed after the command was echoed.
            string console = root.GetProperty("console").GetProperty("output").GetString()!;
            Assert.Equal(console, r.Stdout.Replace("\uFFFD", string.Empty, StringComparison.Ordinal), ignoreCase: false, ignoreLineEndingDifferences: false, ignoreWhiteSpaceDifferences: false);
            int echoed = console.IndexOf("r\x1b[", console.IndexOf("Shell> ", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.True(echoed > 0);
            Assert.Contains("UEFI Interactive Shell v2.2", console[echoed..], StringComparison.Ordinal);

            var milestones = root.GetProperty("milestones").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
            string[] order = ["reset", "sec", "pei", "dxe", "bds", "shell", "banner", "prompt"];
            var indices = order.Select(n => milestones[n].GetProperty("instruction").GetInt64()).ToList();
            Assert.Equal(indices.Order(), indices);

            // The module milestones are the modules the image names, entered where the loaders put them.
            var modules = root.GetProperty("modules").EnumerateArray().ToList();
            Assert.True(modules.Count > 80, $"{modules.Count} modules recognised");
            var bds = Assert.Single(modules, m => m.GetProperty("name").GetString() == "BdsDxe");
            Assert.Equal(milestones["bds"].GetProperty("instruction").GetInt64(), bds.GetProperty("instruction").GetInt64());
            Assert.Equal(milestones["dxe"].GetProperty("address").GetString(), Assert.Single(modules, m => m.GetProperty("type").GetString() == "DxeCore").GetProperty("entry").GetString());
            double banner = milestones["banner"].GetProperty("virtualMs").GetDouble();
            double prompt = milestones["prompt"].GetProperty("virtualMs").GetDouble();
            Assert.True(milestones["pei"].GetProperty("virtualMs").GetDouble() < banner);

            // ESC skips the rest of the countdown: the prompt comes less than 5 virtual seconds after the banner.
            Assert.InRange(prompt - banner, 100, 5000);
            Assert.True(milestones["prompt"].GetProperty("instruction").GetInt64() > milestones["banner"].GetProperty("instruction").GetInt64());
            Assert.Equal(0, root.GetProperty("exceptions").GetInt64());

            var time = root.GetProperty("virtualTime");
            Assert.Equal(
                time.GetProperty("nanoseconds").GetInt64(),
                time.GetProperty("instructions").GetInt64() + time.GetProperty("repIterations").GetInt64()
                    + time.GetProperty("idleHalted").GetInt64() + time.GetProperty("skippedPolling").GetInt64());
            Assert.True(time.GetProperty("skippedPolling").GetInt64() > time.GetProperty("instructions").GetInt64(), "the countdown's waits were skipped, not executed");
        }
        finally
        {
            File.Delete(report);
        }
    }
}
