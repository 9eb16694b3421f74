using System.Text.Json;

namespace Emulator.Boot.Tests;

/// <summary>
/// QEMU's isa-debug-exit (issue 18), the way test suites report pass/fail: a guest write of V to
/// its ports ends the run with exit status (V &lt;&lt; 1) | 1, low 8 bits (hw/misc/debugexit.c).
/// The guest is Debian's 2 MB OVMF and its UEFI Shell's <c>mm PORT VALUE -w 1 -IO</c>; QEMU 7.2
/// gives the same statuses for the same command lines (0 → 1, 0x21 → 67, 0x80 → 1).
/// </summary>
[Trait("Category", "Boot")]
public class DebugExitTests
{
    [Theory]
    [InlineData("21", 67)]
    [InlineData("80", 1)]
    public void AShellWriteEndsTheBootWithTheGuestsStatus(string value, int status)
    {
        string report = CliRunner.TempFile(".json");
        try
        {
            var r = CliRunner.Run(
                "boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", Fixtures.Path(Fixtures.Vars2M), "--snapshot", "--quiet",
                "--debug-exit", "0xf4,4", "--report", report,
                "--expect", "Press ESC in", "--send", @"\e", "--expect", "Shell>", "--send", $@"mm F4 {value} -w 1 -IO\r");
            Assert.Equal(status, r.ExitCode);
            var stop = r.Report!.RootElement.GetProperty("stop");
            Assert.Equal("guestExit", stop.GetProperty("reason").GetString());
            Assert.Equal(status, stop.GetProperty("exitStatus").GetInt32());
            Assert.Contains($"the guest wrote 0x{value}", stop.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(report);
        }
    }

    [Fact]
    public void WithoutTheDeviceTheWriteGoesNowhereAndTheShellGoesOn()
    {
        var r = CliRunner.Run(
            "boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", Fixtures.Path(Fixtures.Vars2M), "--snapshot", "--quiet",
            "--expect", "Press ESC in", "--send", @"\e", "--expect", "Shell>", "--send", @"mm F4 21 -w 1 -IO\r",
            "--expect", "Shell>", "--send", @"reset -s\r");
        Assert.Equal(0, r.ExitCode);
    }

    [Theory]
    [InlineData("0xf4,4,1", "--debug-exit takes PORT[,SIZE], not '0xf4,4,1'")]
    [InlineData("xyz", "--debug-exit xyz: Parameter 'iobase' expects integer")]
    [InlineData("0xfffe,4", "--debug-exit 0xfffe,4: isa-debug-exit ports 0xFFFE+4 are not within the I/O space 0x0-0xFFFF")]
    [InlineData("0x402", "isa-debug-exit: port 0x402 is already used by debugcon")]
    public void BadPortsAreRefusedInOneLine(string ports, string message)
    {
        var r = CliRunner.Run(
            "boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", Fixtures.Path(Fixtures.Vars2M), "--snapshot", "--quiet",
            "--debugcon", "/dev/null", "--debug-exit", ports, "--max-instructions", "1000");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
    }
}
