using System.Text.Json;
using System.Text.RegularExpressions;
using Emulator.Cli.Boot;

namespace Emulator.Boot.Tests;

/// <summary>
/// The <c>hang</c> stop: the rule on synthetic samples (a loop with and without progress, the
/// timer handler's outliers, a computation, a wait for input), and two real firmware hangs —
/// a varstore the 2 MB build rejects with a #GP and its exception handler's dead loop, and the
/// 32-bit secure-boot (SMM) build dead-looping in PEI on a machine without SMM. That no boot to
/// <c>idle</c> stops as a hang is what every other boot test checks.
/// </summary>
[Trait("Category", "Debug")]
public partial class HangDetectionTests
{
    private const long Window = HangDetector.DefaultWindow;
    private const long Step = HangDetector.SampleInterval;
    private const ulong Loop = 0x828ED0;

    [Fact]
    public void ALoopWithoutProgressIsAHangOneWindowAfterItStarts()
    {
        // A computation (new registers at every sample), then the loop: two states, and every
        // 50th sample in the timer handler, in a state of its own (a tick counter).
        var detector = new HangDetector();
        long start = 100 * Step;
        Assert.Null(Run(detector, 0, start, i => (0x100000 + ((ulong)i * 16), (ulong)i)).Found);
        var (found, at) = Run(detector, start, start + (2 * Window), i => i % 50 == 0 ? (0xF025000 + (ulong)(i % 256), (ulong)i) : (Loop + (ulong)(i % 2 * 4), 7));

        Assert.NotNull(found);
        Assert.Equal(Loop, found.Low);
        Assert.Equal(Loop + 4, found.High);
        Assert.InRange(found.Since, start, start + Step);
        Assert.InRange(at - found.Since, Window, Window + Step);
    }

    [Fact]
    public void ConsoleOutputComputationAndWaitingForInputAreNotHangs()
    {
        // The same loop printing a byte now and then (a countdown), or waiting for input.
        var printing = new HangDetector();
        long printed = 0;
        Assert.Null(Run(printing, 0, 3 * Window, i => (Loop, 7), i => i % 500 == 0 ? ++printed : printed).Found);

        var reading = new HangDetector();
        Assert.Null(Run(reading, 0, 3 * Window, i => (Loop, 7), everyWait: 300).Found);

        // A computation: its registers differ at every sample, in a small loop too.
        Assert.Null(Run(new HangDetector(), 0, 3 * Window, i => (Loop + (ulong)(i % 3), (ulong)i)).Found);

        // A dead loop whose only company is the drivers' 20 ms timer polls is still a hang.
        Assert.NotNull(Run(new HangDetector(), 0, 3 * Window, i => (Loop, 7), everyWait: 20_000_000).Found);
    }

    [Fact]
    public void ALoopSpreadOverMoreThanAPageOfCodeIsNotADeadLoop()
    {
        // A polling loop through two modules (CheckEvent in the DXE core and its caller).
        var (found, _) = Run(new HangDetector(), 0, 3 * Window, i => (i % 2 == 0 ? Loop : Loop + HangDetector.MaxLoopBytes + 1, 7));

        Assert.Null(found);
    }

    [Fact]
    public void NoHangDetectTurnsItOffAndTheQemuDropInNeverStops()
    {
        Assert.True(BootOptions.Parse(["--code", "c.fd"]).HangDetection);
        Assert.False(BootOptions.Parse(["--code", "c.fd", "--no-hang-detect"]).HangDetection);
        Assert.False(Emulator.Cli.Qemu.QemuCommand.ToBootOptions(Emulator.Cli.Qemu.QemuCommandLine.Parse(["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=code.fd"])).HangDetection);
    }

    [Fact]
    public void ARejectedVarstoreEndsInTheExceptionHandlersDeadLoopAfterAGeneralProtectionFault()
    {
        // Byte 21 of the variable store header (its State) damaged: VariableRuntimeDxe takes a #GP.
        var vars = File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M));
        vars[0x48 + 21] = 0xFF;
        using var store = new TempCopy(vars);
        var (root, exit, stdout) = Boot("--code", Fixtures.Path(Fixtures.Code2M), "--vars", store.Path, "--force");

        Assert.Equal(1, exit);
        Assert.Contains("X64 Exception Type - 0D", stdout);
        string detail = AssertHang(root);
        Assert.Contains("after a #GP (vector 13) at 0x", detail);
        Assert.Matches(ModuleOffset(), detail[detail.IndexOf("after", StringComparison.Ordinal)..]);
    }

    [Fact]
    public void TheSmmBuildDeadLoopsInPeiAndTheHangNamesItsModule()
    {
        var (root, exit, _) = Boot(
            "--code", Fixtures.Path("OVMF32_CODE_4M.secboot.fd"), "--vars", Fixtures.Path("OVMF32_VARS_4M.fd"));

        Assert.Equal(1, exit);
        string detail = AssertHang(root);
        Assert.DoesNotContain("after a", detail);
    }

    [Fact]
    public void ADebugBuildsHangNamesTheAssertItPrintedOnTheDebugConsole()
    {
        // The DEBUG build checks the store header in PEI (PlatformInitLib's PlatformValidateNvVarStore),
        // prints why and ASSERTs, then spins in CpuDeadLoop: the hang says which ASSERT.
        var vars = File.ReadAllBytes(DebugFixtures.Path(DebugFixtures.Vars2M));
        vars[0x48 + 21] = 0xFF;
        using var store = new TempCopy(vars);
        string log = CliRunner.TempFile(".log");
        try
        {
            var (root, exit, _) = Boot("--code", DebugFixtures.Path(DebugFixtures.Code2M), "--vars", store.Path, "--force", "--debugcon", log);

            Assert.Equal(1, exit);
            string detail = AssertHang(root);
            string lastAssert = File.ReadAllLines(log).Last(l => l.StartsWith("ASSERT", StringComparison.Ordinal)).Trim();
            Assert.EndsWith("; the debug log's last ASSERT: " + lastAssert, detail);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public void TheDebugLogKeepsOnlyItsLastAssertLine()
    {
        var tail = new DebugLogAssert();
        var seen = new List<byte>();
        Action<byte> output = tail.Tee(seen.Add);
        byte[] text = System.Text.Encoding.ASCII.GetBytes("Loading PEIM\r\nASSERT [A] a.c(1): x\nnot an assert\nASSERT [B] b.c(2): " + new string('y', 400) + "\n");
        foreach (byte b in text)
        {
            output(b);
        }

        Assert.Equal(text, seen);
        Assert.StartsWith("ASSERT [B] b.c(2): yyy", tail.LastAssert);
        Assert.True(tail.LastAssert!.Length <= 240);
    }

    /// <summary>Asserts a hang one window after the loop began (far before the 5 G budget), named in a module the report lists; returns the detail.</summary>
    private static string AssertHang(JsonElement root)
    {
        var stop = root.GetProperty("stop");
        Assert.Equal("hang", stop.GetProperty("reason").GetString());
        string detail = stop.GetProperty("detail").GetString()!;
        long since = long.Parse(Since().Match(detail).Groups[1].Value.Replace(",", string.Empty, StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(root.GetProperty("instructions").GetInt64() - since, Window, Window + (2 * Step));
        var where = ModuleOffset().Match(detail);
        Assert.True(where.Success, detail);
        Assert.StartsWith("dead loop at " + stop.GetProperty("address").GetString(), detail);
        Assert.Contains(root.GetProperty("modules").EnumerateArray(), m => m.GetProperty("name").GetString() == where.Groups[1].Value);
        return detail;
    }

    /// <summary>Feeds samples every <see cref="Step"/> instructions from <paramref name="from"/> to <paramref name="to"/>; input waits every <paramref name="everyWait"/> instructions.</summary>
    private static (HangLoop? Found, long At) Run(
        HangDetector detector, long from, long to, Func<long, (ulong Address, ulong State)> sample, Func<long, long>? printed = null, long everyWait = 0)
    {
        long nextWait = everyWait > 0 ? from : long.MaxValue;
        for (long i = from / Step; i * Step < to; i++)
        {
            long at = i * Step;
            for (; nextWait <= at; nextWait += everyWait)
            {
                detector.InputWait(nextWait);
            }

            var (address, state) = sample(i);
            if (detector.Sample(at, address, state, printed?.Invoke(i) ?? 0) is { } loop)
            {
                return (loop, at);
            }
        }

        return (null, 0);
    }

    private static (JsonElement Root, int Exit, string Stdout) Boot(params string[] args)
    {
        string report = CliRunner.TempFile(".json");
        try
        {
            var r = CliRunner.Run(["boot", .. args, "--snapshot", "--until", "idle", "--quiet", "--report", report]);
            Assert.True(r.Report != null, r.Stderr);
            return (r.Report.RootElement, r.ExitCode, r.Stdout);
        }
        finally
        {
            File.Delete(report);
        }
    }

    [GeneratedRegex(@" in ([A-Za-z]\w*) \(\+0x[0-9A-F]+\)")]
    private static partial Regex ModuleOffset();

    [GeneratedRegex(@"since instruction ([0-9,]+)")]
    private static partial Regex Since();
}
