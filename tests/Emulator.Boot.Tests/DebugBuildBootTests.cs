using System.Security.Cryptography;

namespace Emulator.Boot.Tests;

/// <summary>
/// Issue 14's DEBUG builds: OVMF built with -b DEBUG from Debian bookworm's own edk2 source
/// (firmware-fixtures/build-debug.sh). A DEBUG build checks its ASSERTs and logs every phase on
/// the debug console (port 0x402), so it reaches the Shell only when the platform gives it what
/// QEMU's <c>pc</c> machine gives (the ACPI tables among them: without them DXE asserts at
/// EndOfDxe), and its log must be QEMU 7.2's, line for line.
/// </summary>
public class DebugBuildBootTests
{
    [Theory]
    [InlineData(DebugFixtures.Code2M, DebugFixtures.Vars2M)]
    [InlineData(DebugFixtures.Code4M, DebugFixtures.Vars4M)]
    public void ReachesThePromptWithoutAnAssertion(string code, string vars)
    {
        using var run = DebugRun.Boot(DebugFixtures.Path(code), DebugFixtures.Path(vars));

        string? assertion = run.DebugLines.FirstOrDefault(l => l.Contains("ASSERT", StringComparison.Ordinal));
        Assert.True(assertion == null, $"the DEBUG build asserted: \"{assertion}\" (stop: {run.StopReason})");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}, stop {run.StopReason}; last debugcon lines:\n{string.Join('\n', run.DebugLines.TakeLast(5))}");

        var milestones = run.Report.GetProperty("milestones").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.Subset(milestones.ToHashSet(), new HashSet<string?> { "pei", "dxe", "bds", "shell", "prompt" });
        Assert.Equal(0, run.Report.GetProperty("exceptions").GetInt64());

        // The phases announce themselves on the debug console as they do on QEMU.
        Assert.Contains(run.DebugLines, l => l.StartsWith("Loading PEIM ", StringComparison.Ordinal));
        Assert.Contains(run.DebugLines, l => l.StartsWith("Loading DXE CORE at ", StringComparison.Ordinal));
        Assert.Contains(run.DebugLines, l => l.StartsWith("[Bds] Entry...", StringComparison.Ordinal));
        Assert.Contains(run.DebugLines, l => l.StartsWith("[Bds]Booting EFI Internal Shell", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("2m", DebugFixtures.Code2M, DebugFixtures.Vars2M)]
    [InlineData("4m", DebugFixtures.Code4M, DebugFixtures.Vars4M)]
    public void DebugconLogMatchesQemuLineForLine(string build, string code, string vars)
    {
        var qemu = QemuDebugconLog.Load($"qemu72-debugcon-debug-{build}.txt");
        string codePath = DebugFixtures.Path(code);
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(codePath)));
        Assert.True(sha == qemu.CodeSha256,
            $"{codePath} has SHA-256 {sha}, not {qemu.CodeSha256}, the image QEMU's log was recorded from: the toolchain differs "
            + "from the one in firmware-fixtures/debug-build.txt (see PROVENANCE in the cache entry)");

        using var run = DebugRun.Boot(codePath, DebugFixtures.Path(vars));

        var ours = run.DebugLines.Select(QemuDebugconLog.Normalize).ToList();
        var theirs = qemu.Lines.Select(QemuDebugconLog.Normalize).ToList();
        int same = ours.Zip(theirs).TakeWhile(p => p.First == p.Second).Count();
        Assert.True(same == theirs.Count && same == ours.Count,
            $"the debugcon logs agree for {same} lines (QEMU {theirs.Count}, emu {ours.Count}, stop: {run.StopReason}); line {same + 1}:\n"
            + $"  QEMU: {qemu.Lines.ElementAtOrDefault(same) ?? "(end)"}\n  emu:  {run.DebugLines.ElementAtOrDefault(same)?.TrimEnd('\r') ?? "(end)"}\n"
            + $"QEMU's lines emu lacks:\n{Unmatched(theirs, ours)}emu's lines QEMU lacks:\n{Unmatched(ours, theirs)}");
    }

    /// <summary>The first lines of <paramref name="lines"/> that <paramref name="other"/> does not have as often (a multiset difference, for the failure message).</summary>
    private static string Unmatched(IEnumerable<string> lines, IEnumerable<string> other)
    {
        var left = other.CountBy(l => l).ToDictionary(p => p.Key, p => p.Value);
        var missing = new List<string>();
        foreach (string line in lines)
        {
            if (left.TryGetValue(line, out int n) && n > 0)
            {
                left[line] = n - 1;
            }
            else if (missing.Count < 24)
            {
                missing.Add(line);
            }
        }

        return string.Concat(missing.Select(l => $"  {l}\n"));
    }
}
