using System.Text.Json;

namespace Emulator.Boot.Tests;

/// <summary>
/// <c>--until idle</c> on Debian's 2 MB build: the firmware is done and waits for the user, at the
/// Shell prompt (3 virtual seconds after it, within a timer tick) and in the front page menu that
/// BDS opens when the Shell exits; the report keeps what the console's screen showed.
/// </summary>
[Trait("Category", "Boot")]
public class IdleMilestoneTests
{
    /// <summary>OVMF's timer ticks every 10 ms; the window opens at the first wait after the prompt.</summary>
    private const double TickMs = 10;

    [Fact]
    public void TheIdleShellPromptIsIdleThreeSecondsAfterItAppears()
    {
        var (root, exit) = Boot();

        Assert.Equal(0, exit);
        Assert.Equal("until", root.GetProperty("stop").GetProperty("reason").GetString());
        var milestones = root.GetProperty("milestones").EnumerateArray().ToList();
        var idle = milestones[^1];
        Assert.Equal("idle", idle.GetProperty("name").GetString());
        var prompt = Assert.Single(milestones, m => m.GetProperty("name").GetString() == "prompt");
        Assert.InRange(
            idle.GetProperty("virtualMs").GetDouble() - prompt.GetProperty("virtualMs").GetDouble(),
            3000, 3000 + (2 * TickMs));

        // The screen: 25 lines as a terminal shows them, the Shell's banner on top and the prompt last.
        var screen = Lines(idle);
        Assert.Equal(25, screen.Count);
        Assert.Equal("UEFI Interactive Shell v2.2", screen[0]);
        string last = screen.Last(l => l.Length > 0);
        Assert.Equal("Shell>", last);
        Assert.All(milestones.SkipLast(1), m => Assert.False(m.TryGetProperty("screen", out _)));

        // The Shell comes from the firmware volume: no image from a boot option, so no loader.
        Assert.DoesNotContain(milestones, m => m.GetProperty("name").GetString() == "loader");
    }

    [Fact]
    public void TheFrontPageMenuIsIdleAndItsItemsAreOnTheScreen()
    {
        // ESC skips startup.nsh, and when the Shell exits BDS starts its next option: UiApp's front page.
        var (root, exit) = Boot("--expect", "Press ESC in", "--send", @"\e", "--expect", "Shell>", "--send", @"exit\r");

        Assert.Equal(0, exit);
        var milestones = root.GetProperty("milestones").EnumerateArray().ToList();
        var idle = milestones[^1];
        Assert.Equal("idle", idle.GetProperty("name").GetString());
        var uiApp = Assert.Single(root.GetProperty("modules").EnumerateArray(), m => m.GetProperty("name").GetString() == "UiApp");
        Assert.True(idle.GetProperty("virtualMs").GetDouble() > uiApp.GetProperty("virtualMs").GetDouble() + 3000);

        var screen = Lines(idle);
        foreach (string item in new[] { "> Device Manager", "> Boot Manager", "> Boot Maintenance Manager", "Continue", "Reset" })
        {
            Assert.Contains(screen, l => l.TrimStart().StartsWith(item, StringComparison.Ordinal));
        }

        Assert.Contains(screen, l => l.Contains("=Select Entry", StringComparison.Ordinal));
        Assert.DoesNotContain(screen, l => l.Contains("Shell>", StringComparison.Ordinal));
    }

    private static (JsonElement Root, int Exit) Boot(params string[] script)
    {
        string report = CliRunner.TempFile(".json");
        try
        {
            var r = CliRunner.Run(["boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", Fixtures.Path(Fixtures.Vars2M), "--snapshot", "--quiet",
                "--until", "idle", "--report", report, .. script]);
            return (r.Report!.RootElement.Clone(), r.ExitCode);
        }
        finally
        {
            File.Delete(report);
        }
    }

    private static List<string> Lines(JsonElement milestone) =>
        milestone.GetProperty("screen").EnumerateArray().Select(l => l.GetString()!).ToList();
}
