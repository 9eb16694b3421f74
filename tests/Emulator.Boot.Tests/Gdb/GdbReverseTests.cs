using System.Text.RegularExpressions;
using Emulator.Boot.Tests.Varstore;

namespace Emulator.Boot.Tests.Gdb;

/// <summary>
/// Reverse execution through the gdb server (docs/gdb.md), driven by a real gdb on Debian's 2 MB
/// OVMF in DXE, where timer interrupts arrive: stepping back and forth retraces the very same
/// states; reverse-continue finds the last breakpoint hit, or the start of history; the past is
/// read-only; and a run that went back and forth gives the host exactly what a run that never
/// went back gives — the same console bytes, the same flash writes, the same instruction count —
/// because replayed history is muted.
/// </summary>
[Trait("Category", "Boot")]
public sealed partial class GdbReverseTests
{
    private const string Registers = "info registers rip rax rbx rcx rdx rsi rdi rsp rbp r8 r9 r10 r11 r12 r13 r14 r15 eflags";

    [Fact]
    public void SteppingBackAndForth_RetracesTheSameStates_AndTheStartOfHistoryIsTheResetVector()
    {
        using var h = new GdbHarness("--gdb-wait", "--max-instructions", "2000000000");
        string output = h.RunGdb(
            "monitor break-module BdsDxe", "continue", "stepi 200", Registers, "monitor time",
            "reverse-stepi 150", "monitor time", "set $rax = 0x1234", "stepi 150", Registers, "monitor time",
            "delete", "reverse-continue", "p/x $pc", "monitor time", "monitor history", "kill");

        var dumps = RegisterDump().Matches(output).Select(m => m.Value).ToList();
        Assert.True(dumps.Count == 2, output);
        Assert.Equal(dumps[0], dumps[1]);

        var times = Time().Matches(output).Select(m => (Instructions: long.Parse(m.Groups[1].Value.Replace(",", string.Empty), System.Globalization.CultureInfo.InvariantCulture), Virtual: m.Groups[2].Value)).ToList();
        Assert.True(times.Count == 4, output);
        Assert.Equal(times[0].Instructions - 150, times[1].Instructions);
        Assert.Equal(times[0], times[2]); // instruction count and virtual time: the same point
        Assert.Equal(0, times[3].Instructions);

        // gdb cannot change the past (the run's files hold the present).
        Assert.Contains("the past is read-only", output);
        Assert.Contains("No more reverse-execution history.", output);
        Assert.Contains("$1 = 0xfffffff0", output);
        Assert.Matches(@"history: instructions 0 to [\d,]+, at 0 \(replaying\); \d+ checkpoints", output);
    }

    [Fact]
    public void GoingBackAndForth_GivesTheHostWhatARunThatNeverWentBackGives()
    {
        var plain = RunToPrompt(reverse: false);
        var reversed = RunToPrompt(reverse: true);

        Assert.Contains("Breakpoint 1, 0x", reversed.Gdb);
        Assert.DoesNotContain("No more reverse-execution history", reversed.Gdb); // reverse-continue found the SEC breakpoint
        Assert.Contains("Shell>", plain.Console);
        Assert.Equal(plain.Console, reversed.Console);
        Assert.NotEmpty(plain.FlashLog);
        Assert.Equal(plain.FlashLog, reversed.FlashLog);
        Assert.Equal(plain.Stop, reversed.Stop);
    }

    /// <summary>
    /// A boot to the Shell prompt under gdb: a breakpoint at the SEC entry, a stop where BdsDxe
    /// starts, then on to the prompt; with <paramref name="reverse"/>, from BdsDxe back to the SEC
    /// breakpoint, one more instruction back, and forward through all that history again.
    /// </summary>
    private static (string Gdb, string Console, string FlashLog, string Stop) RunToPrompt(bool reverse)
    {
        ulong sec = Emulator.Firmware.BootEntryPoints.Locate(File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M))).SecEntry
            ?? throw new InvalidOperationException("no SEC entry in the fixture");
        string console = CliRunner.TempFile(".log"), flash = CliRunner.TempFile(".log");
        try
        {
            using var h = new GdbHarness("--gdb-wait", "--until", "prompt", "--serial-log", console, "--flash-log", flash);
            string[] back = reverse ? ["reverse-continue", "p/x $pc", "reverse-stepi", "continue", "p/x $pc"] : [];
            string gdb = h.RunGdb([$"break *0x{sec:x}", "continue", "monitor break-module BdsDxe", "continue", .. back, "continue"]);
            Assert.Equal(0, h.Emu.WaitForExit(TimeSpan.FromMinutes(3)));
            if (reverse)
            {
                // Back at the SEC breakpoint twice: by reverse-continue, and by continue from before it.
                Assert.Equal(2, Regex.Matches(gdb, $@"\$\d+ = 0x{sec:x}\b").Count);
            }

            // Where the prompt came: instruction and virtual time (the wall time differs run to run).
            var prompt = PromptMilestone().Match(h.Emu.Stderr);
            Assert.True(prompt.Success, h.Emu.Stderr);
            return (gdb, File.ReadAllText(console), File.ReadAllText(flash), prompt.Groups[1].Value + " " + prompt.Groups[2].Value);
        }
        finally
        {
            File.Delete(console);
            File.Delete(flash);
        }
    }

    [GeneratedRegex(@"rip\s+0x[0-9a-f]+[\s\S]*?eflags\s+0x[0-9a-f]+[^\n]*")]
    private static partial Regex RegisterDump();

    [GeneratedRegex(@"milestone prompt\s+at instruction\s+([\d,]+).*virtual\s+([\d.]+ ms)")]
    private static partial Regex PromptMilestone();

    [GeneratedRegex(@"instruction ([\d,]+), virtual time ([\d.]+ ms)")]
    private static partial Regex Time();
}
