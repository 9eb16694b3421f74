using System.Text.Json;
using System.Text.Json.Nodes;

namespace Emulator.Boot.Tests.Compare;

/// <summary>
/// Issue 6's evidence: a build compared with itself shows no difference and the same text every
/// time; the 2 MB and 4 MB builds differ where they should (milestones move, same modules, the
/// 2 MB varstore does not fit the 4 MB code); a damaged build (SEC, or one DXE driver inside the
/// compressed volume) is a regression at the module that no longer starts; bad input is one line
/// and exit 2.
/// </summary>
[Trait("Category", "Boot")]
public class CompareTests(CompareRuns runs) : IClassFixture<CompareRuns>
{
    [Fact]
    public void ABuildComparedWithItselfShowsNoDifference()
    {
        Assert.True(runs.Self.ExitCode == 0, runs.Self.Stderr + runs.Self.Stdout);
        var c = Comparison(runs.In("self.json"));
        Assert.Equal("same", c["verdict"]!.GetValue<string>());
        Assert.Empty(c["regressions"]!.AsArray());
        Assert.All(c["milestones"]!.AsArray(), m => Assert.Equal("same", m!["status"]!.GetValue<string>()));
        Assert.Equal("banner", c["milestones"]!.AsArray()[^1]!["name"]!.GetValue<string>());
        Assert.True(c["modules"]!["common"]!.GetValue<int>() > 80);
        Assert.True(c["console"]!["same"]!.GetValue<bool>());
        Assert.True(c["compat"]!["compatible"]!.GetValue<bool>());

        // The per-phase writes add up to the chip's total.
        var phases = c["flashPhases"]!.AsArray();
        Assert.NotEmpty(phases);
        long total = c["flash"]!.AsArray().Where(f => !f!["readOnly"]!.GetValue<bool>()).Sum(f => f!["bytesProgrammed"]!["baseline"]!.GetValue<long>());
        Assert.True(total > 0);
        Assert.Equal(total, phases.Sum(p => p!["bytesProgrammed"]!["baseline"]!.GetValue<long>()));

        // The run left variables on the chip (OVMF's first boot writes a few dozen), all identical.
        Assert.True(c["variables"]!["same"]!.GetValue<int>() >= 10, c["variables"]!.ToJsonString());
        Assert.Contains("verdict:   same (threshold 5%)", runs.Self.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("## Firmware comparison: same", File.ReadAllText(runs.In("self.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void TheTwoRunsReportsAreIdenticalApartFromWallTimesAndPaths()
    {
        string a = Normalised(runs.In("self", "baseline.json"));
        string b = Normalised(runs.In("self", "candidate.json"));
        Assert.Equal(a, b);
        Assert.Contains("\"variables\"", a, StringComparison.Ordinal);
    }

    [Fact]
    public void ComparingTheSameReportsTwiceGivesTheSameBytes()
    {
        string[] args = ["compare", runs.In("self", "baseline.json"), runs.In("self", "candidate.json")];
        string json1 = runs.In("again1.json"), json2 = runs.In("again2.json");
        var first = CliRunner.Run([.. args, "--json", json1]);
        var second = CliRunner.Run([.. args, "--json", json2]);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(first.Stdout, second.Stdout);
        Assert.Equal(File.ReadAllBytes(json1), File.ReadAllBytes(json2));

        // The same comparison as the on-the-spot run, which adds only the CODE/VARS verdict.
        var onTheSpot = Comparison(runs.In("self.json"));
        onTheSpot.Remove("compat");
        var fromReports = Comparison(json1);
        fromReports.Remove("compat");
        Assert.Equal(onTheSpot.ToJsonString(), fromReports.ToJsonString());
    }

    [Fact]
    public void TwoAndFourMegabyteBuildsDifferWhereTheyShould()
    {
        var c = Comparison(runs.In("sizes.json"));

        // Same package, same modules but one: the 4 MB build is Debian's Ia32X64 one (SEC and PEI
        // in 32-bit mode), without the X64-only TdxDxe; both reach the banner.
        Assert.Empty(c["modules"]!["added"]!.AsArray());
        Assert.Equal(["TdxDxe"], c["modules"]!["removed"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()));
        Assert.True(c["modules"]!["common"]!.GetValue<int>() > 100);
        Assert.Equal("until", c["stop"]!["candidate"]!.GetValue<string>());
        var milestones = c["milestones"]!.AsArray().ToDictionary(m => m!["name"]!.GetValue<string>(), m => m!);
        Assert.DoesNotContain(milestones.Values, m => m["status"]!.GetValue<string>() is "lost" or "new");
        Assert.Equal("later", milestones["pei"]["status"]!.GetValue<string>());

        // Long mode comes only with DxeIpl's hand-off to the 64-bit DXE core, a few instructions before 'dxe'.
        Assert.InRange(milestones["dxe"]["candidateInstruction"]!.GetValue<long>() - milestones["long"]["candidateInstruction"]!.GetValue<long>(), 1, 100);
        Assert.NotEqual(c["instructions"]!["baseline"]!.GetValue<long>(), c["instructions"]!["candidate"]!.GetValue<long>());

        // A VM moved from the 2 MB build to the 4 MB build keeps a 128 KiB varstore the 4 MB code cannot use.
        Assert.False(c["compat"]!["compatible"]!.GetValue<bool>());
        Assert.Contains(c["regressions"]!.AsArray(), r => r!.GetValue<string>() == "the baseline's varstore does not fit the candidate's code");
        Assert.Equal(1, runs.Sizes.ExitCode);
        Assert.Contains("INCOMPATIBLE", runs.Sizes.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void DebiansTwoUpdatesOfTheSameReleaseDifferWithinTheThreshold()
    {
        Assert.True(runs.PreviousBoot.ExitCode == 0, runs.PreviousBoot.Stderr);
        Assert.True(runs.Updates.ExitCode == 0, runs.Updates.Stderr + runs.Updates.Stdout);
        var c = Comparison(runs.In("updates.json"));
        Assert.Equal("different", c["verdict"]!.GetValue<string>());
        Assert.Empty(c["modules"]!["added"]!.AsArray());
        Assert.Empty(c["modules"]!["removed"]!.AsArray());
        var milestones = c["milestones"]!.AsArray().ToDictionary(m => m!["name"]!.GetValue<string>(), m => m!);
        Assert.Equal("same", milestones["sec"]["status"]!.GetValue<string>());

        // deb12u2's SEC runs a little longer before PEI (it decompresses a different volume); within 5 %.
        Assert.Equal("within", milestones["pei"]["status"]!.GetValue<string>());
        Assert.True(milestones["pei"]["candidateInstruction"]!.GetValue<long>() > milestones["pei"]["baselineInstruction"]!.GetValue<long>());
        Assert.True(c["console"]!["same"]!.GetValue<bool>());
        Assert.True(c["variables"]!["same"]!.GetValue<int>() >= 10);
        Assert.Empty(c["variables"]!["changed"]!.AsArray());

        // Two reports whose files are still there get the CODE/VARS verdict too: same layout.
        Assert.True(c["compat"]!["compatible"]!.GetValue<bool>());

        // With no tolerance the same two reports are a regression: PEI comes later.
        var strict = CliRunner.Run("compare", runs.In("deb12u1.json"), runs.In("self", "candidate.json"), "--threshold", "0%");
        Assert.Equal(1, strict.ExitCode);
        Assert.Contains("! milestone 'pei' later by +0.06%", strict.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ADamagedBuildIsARegressionAtTheModuleThatNoLongerStarts()
    {
        Assert.Equal(1, runs.DamagedBoot.ExitCode);
        string md = runs.In("damaged.md");
        var r = CliRunner.Run("compare", runs.In("self", "baseline.json"), runs.In("damaged.json"), "--json", runs.In("damaged-cmp.json"), "--markdown", md);

        Assert.Equal(1, r.ExitCode);
        var c = Comparison(runs.In("damaged-cmp.json"));
        Assert.Equal("regression", c["verdict"]!.GetValue<string>());
        var status = c["milestones"]!.AsArray().ToDictionary(m => m!["name"]!.GetValue<string>(), m => m!["status"]!.GetValue<string>());
        Assert.Equal("same", status["sec"]);
        Assert.Equal("lost", status["pei"]);
        Assert.Equal("lost", status["banner"]);

        // SEC still starts; the first module missing is the PEI core SEC would have decompressed and entered.
        var removed = c["modules"]!["removed"]!.AsArray();
        Assert.Equal("PeiCore", removed[0]!["name"]!.GetValue<string>());
        Assert.Equal(1, c["modules"]!["common"]!.GetValue<int>());
        Assert.Contains(c["regressions"]!.AsArray(), x => x!.GetValue<string>().StartsWith("milestone 'pei' not reached", StringComparison.Ordinal));
        Assert.Contains(c["regressions"]!.AsArray(), x => x!.GetValue<string>().Contains("never started: PeiCore, ", StringComparison.Ordinal));
        Assert.Contains("**regression**: milestone 'pei' not reached", File.ReadAllText(md), StringComparison.Ordinal);
    }

    [Fact]
    public void ADamagedDxeDriverIsARegressionAtTheDriverAndTheModulesItGated()
    {
        // The damage is where it was meant to be: the image still parses, only that driver's entry changed.
        byte[] original = File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M));
        byte[] damaged = File.ReadAllBytes(runs.In("damaged-dxe.fd"));
        Assert.Equal(original.Length, damaged.Length);
        Assert.Equal(
            [0x48, 0xB8, 0x03, 0, 0, 0, 0, 0, 0, 0x80, 0xC3],
            FirmwareDamage.EntryBytes(damaged, CompareRuns.DamagedDriver, 11).ToArray());
        Assert.NotEqual(0xC3, FirmwareDamage.EntryBytes(original, CompareRuns.DamagedDriver, 11)[10]);
        Assert.Equal(
            Emulator.Firmware.FirmwareImage.Parse(original).Modules.Select(m => m.Name),
            Emulator.Firmware.FirmwareImage.Parse(damaged).Modules.Select(m => m.Name));

        // The boot still reaches the banner; the comparison names the driver and what it gated.
        Assert.True(runs.DamagedDxeBoot.ExitCode == 0, runs.DamagedDxeBoot.Stderr);
        var r = CliRunner.Run("compare", runs.In("self", "baseline.json"), runs.In("damaged-dxe.json"), "--json", runs.In("damaged-dxe-cmp.json"));
        Assert.True(r.ExitCode == 1, r.Stdout + r.Stderr);
        var c = Comparison(runs.In("damaged-dxe-cmp.json"));
        Assert.Equal("regression", c["verdict"]!.GetValue<string>());
        Assert.Equal("banner", c["milestones"]!.AsArray()[^1]!["name"]!.GetValue<string>());
        Assert.DoesNotContain(c["milestones"]!.AsArray(), m => m!["status"]!.GetValue<string>() is "lost" or "later");

        // The driver still starts but runs only its two patched instructions (mov rax; ret), and the
        // one driver whose depex waits for the SMBIOS protocol never starts: the only regression.
        var changed = Assert.Single(c["modules"]!["changed"]!.AsArray());
        Assert.Equal(CompareRuns.DamagedDriver, changed!["name"]!.GetValue<string>());
        Assert.Equal(2, changed["candidateInstructions"]!.GetValue<long>());
        Assert.True(changed["baselineInstructions"]!.GetValue<long>() > 1000);
        Assert.Equal(["SmbiosPlatformDxe"], c["modules"]!["removed"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()));
        Assert.Equal(["1 module(s) the baseline started never started: SmbiosPlatformDxe"], c["regressions"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Contains("~ SmbiosDxe", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing.json", "does not exist")]
    [InlineData("not-json", "is not a run report")]
    [InlineData("other-json", "is not a run report")]
    [InlineData("schema-2", "has schema version 2")]
    public void BadReportsAreOneLineAndExitTwo(string kind, string expected)
    {
        string path = runs.In($"bad-{kind}");
        string text = kind switch
        {
            "not-json" => "PK\u0003\u0004 not json",
            "other-json" => "{\"hello\": 1}",
            "schema-2" => File.ReadAllText(runs.In("self", "baseline.json")).Replace("\"schemaVersion\": 1", "\"schemaVersion\": 2", StringComparison.Ordinal),
            _ => string.Empty,
        };
        if (kind != "missing.json")
        {
            File.WriteAllText(path, text);
        }

        var r = CliRunner.Run("compare", runs.In("self", "baseline.json"), path);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Empty(r.Stdout);
    }

    [Theory]
    [InlineData("--threshold", "five")]
    [InlineData("--until", "banner")]
    public void BadOptionsAreOneLineAndExitTwo(string option, string value)
    {
        var r = CliRunner.Run("compare", runs.In("self", "baseline.json"), runs.In("self", "candidate.json"), option, value);

        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void ReportsGetTheCodeVarsVerdictFromTheFilesTheyNameWhileTheyAreUnchanged()
    {
        // deb12u1's run kept its 2 MB varstore; the size comparison's candidate ran the 4 MB code.
        string baseline = runs.In("deb12u1.json"), candidate = runs.In("sizes", "candidate.json");
        var r = CliRunner.Run("compare", baseline, candidate, "--json", runs.In("report-compat.json"));
        Assert.Equal(1, r.ExitCode);
        var c = Comparison(runs.In("report-compat.json"));
        Assert.False(c["compat"]!["compatible"]!.GetValue<bool>());
        Assert.Contains(c["regressions"]!.AsArray(), x => x!.GetValue<string>() == "the baseline's varstore does not fit the candidate's code");
        Assert.Contains("INCOMPATIBLE", r.Stdout, StringComparison.Ordinal);

        // A report naming code whose bytes have changed since (here: its recorded hash) gets no
        // verdict, and says why on stderr; the rest of the comparison stands.
        var report = JsonNode.Parse(File.ReadAllText(candidate))!.AsObject();
        foreach (var f in report["firmware"]!.AsArray())
        {
            if (f!["role"]!.GetValue<string>() == "code")
            {
                f["sha256"] = new string('0', 64);
            }
        }

        string altered = runs.In("altered-candidate.json");
        File.WriteAllText(altered, report.ToJsonString());
        var noVerdict = CliRunner.Run("compare", baseline, altered);
        Assert.Contains("no CODE/VARS verdict", noVerdict.Stderr, StringComparison.Ordinal);
        Assert.Contains("SHA-256 differs", noVerdict.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("INCOMPATIBLE", noVerdict.Stdout, StringComparison.Ordinal);
    }

    private static JsonObject Comparison(string json) => JsonNode.Parse(File.ReadAllText(json))!["comparison"]!.AsObject();

    /// <summary>A report without what may differ between two runs of the same inputs: wall times, file paths, and the journal's batching.</summary>
    private static string Normalised(string report)
    {
        var root = JsonNode.Parse(File.ReadAllText(report))!.AsObject();
        root.Remove("wallSeconds");
        root.Remove("mips");
        root["varstore"]!.AsObject().Remove("path");
        // The persistence thread coalesces what the guest queued since its last batch: host timing.
        foreach (string field in new[] { "journalSyncs", "journalRecords", "bytesWritten" })
        {
            root["varstore"]!.AsObject().Remove(field);
        }
        foreach (var m in root["milestones"]!.AsArray())
        {
            m!.AsObject().Remove("wallMs");
        }

        foreach (var f in root["firmware"]!.AsArray())
        {
            f!.AsObject().Remove("path");
        }

        foreach (var f in root["machine"]!["flash"]!.AsArray())
        {
            f!.AsObject().Remove("name");
        }

        return root.ToJsonString();
    }
}
