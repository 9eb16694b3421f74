using System.Text.Json.Nodes;
using System.Text;
using Emulator.Cli;
using Emulator.Hosting;

namespace Emulator.Boot.Tests.Compare;

/// <summary>
/// Issue 6's batch runs: three short boots (to 'pei', ~5-10 s each) two at a time; the 2 MB build's
/// second run is the same as the first, the 4 MB build is a regression (PEI later by more than the
/// threshold, and the 2 MB varstore does not fit its code); bad input is one line and exit 2.
/// </summary>
[Trait("Category", "Boot")]
public class MatrixTests
{
    [Fact]
    public void ThreeRunsGiveTwoComparisonsWithTheFirst()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"emu-test-matrix-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string json = Path.Combine(dir, "matrix.json"), markdown = Path.Combine(dir, "matrix.md");
            string two = Fixtures.Path(Fixtures.Code2M) + "," + Fixtures.Path(Fixtures.Vars2M);
            using var stdout = new MemoryStream();
            using var stderr = new StringWriter();

            // A terminal on stderr (as the real process sees one) draws the progress line there.
            int exit = CommandDispatcher.Run(
                [
                    "matrix", "--run", "first=" + two, "--run", "again=" + two,
                    "--run", "big=" + Fixtures.Path(Fixtures.Code4M) + "," + Fixtures.Path(Fixtures.Vars4M),
                    "--until", "pei", "--jobs", "2", "--json", json, "--markdown", markdown, "--keep-reports", Path.Combine(dir, "reports"),
                ],
                stdout, stderr, new HostConsole(null, false, StderrIsTerminal: true));
            string text = Encoding.UTF8.GetString(stdout.ToArray());

            Assert.True(exit == 1, stderr + text);
            var summary = JsonNode.Parse(File.ReadAllText(json))!;
            Assert.Equal("first", summary["baseline"]!.GetValue<string>());
            var candidates = summary["candidates"]!.AsArray();
            Assert.Equal(["again", "big"], candidates.Select(c => c!["name"]!.GetValue<string>()));

            var again = candidates[0]!["comparison"]!;
            Assert.Equal("same", again["verdict"]!.GetValue<string>());
            Assert.Empty(again["regressions"]!.AsArray());
            Assert.Equal("pei", again["milestones"]!.AsArray()[^1]!["name"]!.GetValue<string>());

            var big = candidates[1]!["comparison"]!;
            Assert.Equal("regression", big["verdict"]!.GetValue<string>());
            Assert.Contains(big["regressions"]!.AsArray(), r => r!.GetValue<string>() == "the baseline's varstore does not fit the candidate's code");
            Assert.Equal("later", big["milestones"]!.AsArray().First(m => m!["name"]!.GetValue<string>() == "pei")!["status"]!.GetValue<string>());

            Assert.Contains("verdict: 1 of 2 candidates regressed", text, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^  again\s+same, stop 'until'", text);
            Assert.StartsWith("# Firmware matrix: 3 runs against `first`", File.ReadAllText(markdown), StringComparison.Ordinal);
            Assert.Contains("## Firmware comparison: same", File.ReadAllText(markdown), StringComparison.Ordinal);
            Assert.Equal(["again.json", "big.json", "first.json"], Directory.GetFiles(Path.Combine(dir, "reports")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Contains("matrix: 0/3 done, 2 running", stderr.ToString(), StringComparison.Ordinal);
            Assert.Contains("matrix: 3/3 done, 0 running", stderr.ToString(), StringComparison.Ordinal);

            // Without a terminal (redirected stderr) no progress line is drawn.
            var quiet = CliRunner.Run("matrix", "--run", "a=" + two, "--run", "b=" + two, "--until", "sec", "--threshold", "1%");
            Assert.True(quiet.ExitCode == 0, quiet.Stderr + quiet.Stdout);
            Assert.DoesNotContain("done", quiet.Stderr, StringComparison.Ordinal);
            Assert.Contains("verdict: every candidate within the thresholds", quiet.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("needs at least two --run", "--run", "a=x.fd")]
    [InlineData("plain name", "--run", "=x.fd", "--run", "b=y.fd")]
    [InlineData("plain name", "--run", "../a=x.fd", "--run", "b=y.fd")]
    [InlineData("at most one varstore", "--run", "a=x.fd,v.fd,w.fd", "--run", "b=y.fd")]
    [InlineData("two runs are named 'a'", "--run", "a=x.fd", "--run", "a=y.fd")]
    [InlineData("--jobs needs", "--run", "a=x.fd", "--run", "b=y.fd", "--jobs", "0")]
    [InlineData("--threshold needs", "--run", "a=x.fd", "--run", "b=y.fd", "--threshold", "much")]
    [InlineData("takes no file names", "a.json", "b.json")]
    [InlineData("a code", "--run", "a=/nonexistent/code.fd", "--run", "b=/nonexistent/other.fd")]
    public void BadInputIsOneLineAndExitTwo(string message, params string[] args)
    {
        var r = CliRunner.Run(["matrix", .. args]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(r.Stdout);
    }
}
