using System.Text.Json;

namespace Emulator.Boot.Tests.Snapshots;

/// <summary>
/// <c>boot --save-state-at</c> and <c>boot --restore</c> on both bookworm builds: one straight run
/// to the Shell prompt saves a state at every milestone from <c>sec</c> to <c>shell</c>; a run
/// restored from each, with a fresh copy of the VARS template (the state brings its own VARS),
/// reaches every later milestone at the same instruction index and virtual time, prints the same
/// console, starts the same modules with the same tallies, and leaves the varstore file
/// byte-identical to the straight run's.
/// </summary>
[Trait("Category", "Boot")]
public sealed class BootStateTests : IDisposable
{
    private static readonly string[] SavedAt = ["sec", "pei", "dxe", "bds", "shell"];
    private readonly string _dir = Directory.CreateTempSubdirectory("emu-state-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string In(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData(Fixtures.Code2M, Fixtures.Vars2M)]
    [InlineData(Fixtures.Code4M, Fixtures.Vars4M)]
    public void ARunRestoredAtEachMilestoneContinuesBitIdentically(string code, string vars)
    {
        File.Copy(Fixtures.Path(vars), In("straight.fd"));
        string saves = string.Join(",", SavedAt.Select(m => $"{m}={In(m + ".state")}"));
        var straight = Boot("--code", Fixtures.Path(code), "--vars", In("straight.fd"), "--save-state-at", saves, "--report", In("straight.json"));
        Assert.Equal(0, straight.ExitCode);

        foreach (string milestone in SavedAt)
        {
            string store = In($"{milestone}.fd");
            File.Copy(Fixtures.Path(vars), store);
            // The Shell's state names no code: the state's own (its path is in the file) runs.
            string[] codeOption = milestone == "shell" ? [] : ["--code", Fixtures.Path(code)];
            var restored = Boot(["--restore", In(milestone + ".state"), .. codeOption, "--vars", store, "--report", In($"{milestone}.json")]);
            Assert.Equal(0, restored.ExitCode);
            Assert.Equal(Guest(straight.Report!.RootElement), Guest(restored.Report!.RootElement));
            Assert.Equal(File.ReadAllBytes(In("straight.fd")), File.ReadAllBytes(store));
        }
    }

    /// <summary>
    /// Migration onto another build of the same size (Debian's previous 2 MB update): allowed,
    /// with the compat verdict of the new code against the migrated VARS; the guest keeps running
    /// the code it was saved with, so the run continues as the straight one. Onto the 4 MB build:
    /// refused with one line naming the unit, nothing written.
    /// </summary>
    [Fact]
    public void MigrationKeepsTheFlashLayoutAndSaysWhatTheNextColdBootMeets()
    {
        File.Copy(Fixtures.Path(Fixtures.Vars2M), In("straight.fd"));
        var straight = Boot("--code", Fixtures.Path(Fixtures.Code2M), "--vars", In("straight.fd"), "--save-state-at", $"shell={In("shell.state")}", "--report", In("straight.json"));
        Assert.Equal(0, straight.ExitCode);

        File.Copy(Fixtures.Path(Fixtures.Vars2M), In("other.fd"));
        var migrated = Boot("--restore", In("shell.state"), "--code", Fixtures.Path(Fixtures.Code2MDeb12u1), "--vars", In("other.fd"), "--report", In("migrated.json"));
        Assert.Equal(0, migrated.ExitCode);
        Assert.Contains("is other code than the state was saved with", migrated.Stderr, StringComparison.Ordinal);
        Assert.Contains("compatible: OVMF_CODE.deb12u1.fd", migrated.Stderr, StringComparison.Ordinal);
        Assert.Equal(Guest(straight.Report!.RootElement), Guest(migrated.Report!.RootElement));

        File.Copy(Fixtures.Path(Fixtures.Vars4M), In("four.fd"));
        var refused = Boot("--restore", In("shell.state"), "--code", Fixtures.Path(Fixtures.Code4M), "--vars", In("four.fd"), "--report", In("refused.json"));
        Assert.Equal(2, refused.ExitCode);
        Assert.StartsWith("emu: flash unit 0 differs", Assert.Single(refused.Stderr.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.False(File.Exists(In("refused.json")));
        Assert.Equal(File.ReadAllBytes(Fixtures.Path(Fixtures.Vars4M)), File.ReadAllBytes(In("four.fd")));
    }

    [Theory]
    [InlineData("truncated", "is truncated")]
    [InlineData("version", "has format version 7; this emu reads version 2")]
    [InlineData("garbage", "is not an emu state file")]
    public void ABadStateFileIsOneLineAndExitTwoWithNothingWritten(string damage, string expected)
    {
        File.Copy(Fixtures.Path(Fixtures.Vars2M), In("vars.fd"));
        var saved = Boot("--code", Fixtures.Path(Fixtures.Code2M), "--vars", In("vars.fd"), "--until", "pei", "--save-state", In("pei.state"));
        Assert.Equal(0, saved.ExitCode);
        byte[] bytes = File.ReadAllBytes(In("pei.state"));
        File.WriteAllBytes(In("bad.state"), damage switch
        {
            "truncated" => bytes[..(bytes.Length - 40)],
            "version" => [.. bytes[..8], 7, 0, 0, 0, .. bytes[12..]],
            _ => [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 13))],
        });
        byte[] varsBefore = File.ReadAllBytes(In("vars.fd"));

        var r = Boot("--restore", In("bad.state"), "--vars", In("vars.fd"), "--code", Fixtures.Path(Fixtures.Code2M), "--report", In("bad.json"), "--save-state", In("out.state"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, Assert.Single(r.Stderr.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.False(File.Exists(In("bad.json")));
        Assert.False(File.Exists(In("out.state")));
        Assert.Equal(varsBefore, File.ReadAllBytes(In("vars.fd")));
    }

    private static CliResult Boot(params string[] args) =>
        CliRunner.Run(["boot", "--quiet", .. args.Contains("--until") ? args : ["--until", "prompt", .. args]]);

    /// <summary>What the guest did, without the host's side (wall times, file paths, the varstore writer's counters).</summary>
    private static string Guest(JsonElement report)
    {
        var milestones = report.GetProperty("milestones").EnumerateArray().Select(m =>
            $"{m.GetProperty("name")}@{m.GetProperty("instruction")}/{m.GetProperty("virtualMs")}/{m.GetProperty("boot")}/{m.GetProperty("flashBytesProgrammed")}");
        return string.Join("\n", new[]
        {
            string.Join(" ", milestones),
            report.GetProperty("instructions").ToString(),
            report.GetProperty("virtualTime").ToString(),
            report.GetProperty("console").ToString(),
            report.GetProperty("modules").ToString(),
            report.GetProperty("unassigned").ToString(),
            report.GetProperty("resets").ToString(),
            report.GetProperty("stop").ToString(),
            report.GetProperty("variables").ToString(),
        });
    }
}
