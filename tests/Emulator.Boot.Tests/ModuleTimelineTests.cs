namespace Emulator.Boot.Tests;

/// <summary>
/// <c>--timeline</c>: instructions executed inside each module's image, counted per executed
/// block. From reset to the PEI core every instruction after SEC's entry runs inside SecMain, so
/// its count must equal exactly the instructions between the two milestones.
/// </summary>
[Trait("Category", "Boot")]
public class ModuleTimelineTests
{
    [Fact]
    public void SecMainOwnsEveryInstructionFromItsEntryToThePeiCore()
    {
        string report = CliRunner.TempFile(".json");
        try
        {
            var r = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code4M), "--vars", Fixtures.Path(Fixtures.Vars4M), "--snapshot", "--quiet",
                "--until", "pei", "--timeline", "--report", report);

            Assert.Equal(0, r.ExitCode);
            var root = r.Report!.RootElement;
            var milestones = root.GetProperty("milestones").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("instruction").GetInt64());
            var modules = root.GetProperty("modules").EnumerateArray().ToList();
            Assert.Equal(["SecMain", "PeiCore"], modules.Select(m => m.GetProperty("name").GetString()));
            Assert.Equal(milestones["sec"], modules[0].GetProperty("instruction").GetInt64());
            Assert.Equal(milestones["pei"] - milestones["sec"], modules[0].GetProperty("instructions").GetInt64());
            Assert.Equal(0, modules[1].GetProperty("instructions").GetInt64());

            string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith($"timeline: 2 modules; {milestones["pei"] - milestones["sec"]:N0} of {milestones["pei"]:N0} instructions ran inside them", lines[0], StringComparison.Ordinal);
            Assert.Contains("SecurityCore", lines[2], StringComparison.Ordinal);
            Assert.EndsWith("SecMain df1ccef6-f301-4a63-9661-fc6030dcc880", lines[2], StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(report);
        }
    }
}
