using System.Text.Json;

namespace Emulator.Boot.Tests;

/// <summary>
/// Debian's OVMF builds boot from the reset vector through SEC into the PEI core, reaching every
/// milestone the build has, in order, deterministically.
/// </summary>
[Trait("Category", "Boot")]
public class BootToPeiTests
{
    public static TheoryData<string, string?, bool> Builds => new()
    {
        { Fixtures.Code2M, Fixtures.Vars2M, true },
        { Fixtures.Code4M, Fixtures.Vars4M, false },
        { Fixtures.Unified, null, true },
    };

    private static string[] Args(string code, string? vars, string report, params string[] extra)
    {
        var args = new List<string> { "boot" };
        if (vars == null)
        {
            args.AddRange(["--firmware", Fixtures.Path(code)]);
        }
        else
        {
            args.AddRange(["--code", Fixtures.Path(code), "--vars", Fixtures.Path(vars)]);
        }

        // The pinned fixtures are shared inputs: never let a run write them.
        args.AddRange(["--until", "pei", "--report", report, "--quiet", "--snapshot"]);
        args.AddRange(extra);
        return args.ToArray();
    }

    private static List<(string Name, long Instruction, int Mode, ulong Address)> Milestones(JsonDocument report) =>
        report.RootElement.GetProperty("milestones").EnumerateArray()
            .Select(m => (
                m.GetProperty("name").GetString()!,
                m.GetProperty("instruction").GetInt64(),
                m.GetProperty("mode").GetInt32(),
                Convert.ToUInt64(m.GetProperty("address").GetString(), 16)))
            .ToList();

    [Theory]
    [MemberData(nameof(Builds))]
    public void ReachesPeiThroughEveryMilestoneTwiceIdentically(string code, string? vars, bool x64Sec)
    {
        var runs = new List<List<(string Name, long Instruction, int Mode, ulong Address)>>();
        long? instructions = null;
        for (int run = 0; run < 2; run++)
        {
            string report = CliRunner.TempFile(".json");
            try
            {
                var r = CliRunner.Run(Args(code, vars, report));
                Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
                Assert.NotNull(r.Report);
                var stop = r.Report!.RootElement.GetProperty("stop");
                Assert.Equal("until", stop.GetProperty("reason").GetString());
                Assert.Empty(r.Report.RootElement.GetProperty("unimplemented").EnumerateArray());
                Assert.Equal(0, r.Report.RootElement.GetProperty("exceptions").GetInt64());
                long n = r.Report.RootElement.GetProperty("instructions").GetInt64();
                Assert.True(instructions == null || instructions == n, $"instruction counts differ: {instructions} vs {n}");
                instructions = n;
                runs.Add(Milestones(r.Report));
            }
            finally
            {
                File.Delete(report);
            }
        }

        var ms = runs[0];
        Assert.Equal(runs[0], runs[1]);
        var names = ms.Select(m => m.Name).ToList();
        var expected = x64Sec
            ? new[] { "reset", "protected", "long", "sec", "pei" }
            : new[] { "reset", "protected", "sec", "pei" };
        Assert.Equal(expected, names);
        Assert.Equal(0, ms[0].Instruction);
        Assert.Equal(0xFFFFFFF0UL, ms[0].Address);
        Assert.Equal(16, ms[0].Mode);
        for (int i = 1; i < ms.Count; i++)
        {
            Assert.True(ms[i].Instruction > ms[i - 1].Instruction, $"{ms[i].Name} not after {ms[i - 1].Name}");
        }

        var pei = ms[^1];
        Assert.Equal(x64Sec ? 64 : 32, pei.Mode);
        Assert.InRange(pei.Address, 0x800000UL, 0x1000000UL);

        // SEC decompresses the main volume before PEI: hundreds of millions of instructions.
        Assert.True(pei.Instruction > 100_000_000, $"pei at {pei.Instruction}");
    }

    [Theory]
    [MemberData(nameof(Builds))]
    public void TracesOfTwoRunsAreIdenticalOverTheFirst200000Instructions(string code, string? vars, bool x64Sec)
    {
        _ = x64Sec;
        var traces = new List<string>();
        try
        {
            for (int run = 0; run < 2; run++)
            {
                string trace = CliRunner.TempFile(".trace");
                traces.Add(trace);
                string report = CliRunner.TempFile(".json");
                var args = Args(code, vars, report, "--trace", trace, "--trace-limit", "200000", "--max-instructions", "250000").ToList();
                args.RemoveRange(args.IndexOf("--until"), 2);
                var r = CliRunner.Run(args.ToArray());
                File.Delete(report);
                Assert.Equal(1, r.ExitCode);
            }

            var a = File.ReadAllLines(traces[0]);
            var b = File.ReadAllLines(traces[1]);
            Assert.Equal(a.Length, b.Length);
            Assert.Equal(200000, a.Count(l => !l.StartsWith('#')));
            Assert.Contains(a, l => l.StartsWith("# fields: insn mode cs rip lin rax", StringComparison.Ordinal));
            Assert.StartsWith("0 16 f000 fff0 fffffff0 ", a.First(l => !l.StartsWith('#')), StringComparison.Ordinal);
            for (int i = 0; i < a.Length; i++)
            {
                Assert.True(a[i] == b[i], $"traces differ at line {i}: '{a[i]}' vs '{b[i]}'");
            }
        }
        finally
        {
            traces.ForEach(File.Delete);
        }
    }
}
