namespace Emulator.Boot.Tests;

/// <summary>
/// Issue 14's DEBUG builds: OVMF built with -b DEBUG from Debian bookworm's own edk2 source
/// (firmware-fixtures/build-debug.sh). A DEBUG build checks its ASSERTs and logs every phase on
/// the debug console (port 0x402), so it reaches the Shell only when the platform gives it what
/// QEMU's <c>pc</c> machine gives (the ACPI tables among them: without them DXE asserts at
/// EndOfDxe), and its log must be QEMU 7.2's, line for line (DebugconAgreementTests).
/// </summary>
[Trait("Category", "Debug")]
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
}
