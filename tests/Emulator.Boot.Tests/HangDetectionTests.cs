using System.Text.Json;
using System.Text.RegularExpressions;
using Emulator.Cli.CommandLine;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Qemu;

namespace Emulator.Boot.Tests;

/// <summary>
/// The <c>hang</c> stop on real firmware (the rule on synthetic samples is in
/// <see cref="HangDetectorTests"/>): two hangs —
/// a varstore the 2 MB build rejects with a #GP and its exception handler's dead loop, and the
/// 32-bit secure-boot (SMM) build dead-looping in PEI on a machine without SMM. That no boot to
/// <c>idle</c> stops as a hang is what every other boot test checks.
/// </summary>
[Trait("Category", "Debug")]
public partial class HangDetectionTests
{
    private const long Window = HangDetector.DefaultWindow;
    private const long Step = HangDetector.SampleInterval;

    [Fact]
    public void NoHangDetectTurnsItOffAndTheQemuDropInNeverStops()
    {
        Assert.True(BootOptionsParser.Parse(["--code", "c.fd"]).HangDetection);
        Assert.False(BootOptionsParser.Parse(["--code", "c.fd", "--no-hang-detect"]).HangDetection);
        Assert.False(QemuBootOptions.From(Emulator.Hosting.Qemu.QemuCommandLine.Parse(["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=code.fd"])).HangDetection);
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
