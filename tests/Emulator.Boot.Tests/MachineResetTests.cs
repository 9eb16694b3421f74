namespace Emulator.Boot.Tests;

/// <summary>
/// The Shell's <c>reset</c> restarts the machine the way QEMU does: a cold reset (OVMF writes
/// 0x06 to the reset control register 0xCF9) and a warm one (<c>reset -w</c>: the keyboard
/// controller's 0xFE pulse) each boot the firmware again from the reset vector, with RAM and the
/// varstore kept, back to <c>Shell&gt;</c>; <c>reset -s</c> then powers off. Under
/// <c>--no-reboot</c> the first reset ends the run, exit 0, like QEMU's <c>-no-reboot</c>.
/// </summary>
[Trait("Category", "Boot")]
public class MachineResetTests
{
    [Fact]
    public void ColdAndWarmResetsBootBackToTheShell()
    {
        string report = CliRunner.TempFile(".json");
        var r = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", Fixtures.Path(Fixtures.Vars2M), "--snapshot", "--quiet",
            "--report", report,
            "--expect", "Press ESC in", "--send", @"\e", "--expect", "Shell>", "--send", @"reset\r",
            "--expect", "UEFI Interactive Shell", "--expect", "Press ESC in", "--send", @"\e", "--expect", "Shell>", "--send", @"reset -w\r",
            "--expect", "UEFI Interactive Shell", "--expect", "Press ESC in", "--send", @"\e", "--expect", "Shell>", "--send", @"reset -s\r");

        File.Delete(report);
        Assert.Equal(0, r.ExitCode);
        var root = r.Report!.RootElement;
        Assert.Equal("powerOff", root.GetProperty("stop").GetProperty("reason").GetString());

        var resets = root.GetProperty("resets").EnumerateArray().ToList();
        Assert.Equal(["resetControl", "keyboardController"], resets.Select(x => x.GetProperty("cause").GetString()));
        Assert.Equal([0, 1], resets.Select(x => x.GetProperty("boot").GetInt32()));

        // Every boot reaches every milestone once, in order, after the reset that started it.
        var milestones = root.GetProperty("milestones").EnumerateArray().ToList();
        string[] order = ["reset", "sec", "pei", "dxe", "bds", "shell", "banner", "prompt"];
        for (int boot = 0; boot < 3; boot++)
        {
            var these = milestones.Where(m => m.GetProperty("boot").GetInt32() == boot).ToDictionary(m => m.GetProperty("name").GetString()!);
            var indices = order.Select(n => these[n].GetProperty("instruction").GetInt64()).ToList();
            Assert.Equal(indices.Order(), indices);
            if (boot > 0)
            {
                Assert.Equal(resets[boot - 1].GetProperty("instruction").GetInt64(), indices[0]);
                Assert.Equal("0xFFFFFFF0", these["reset"].GetProperty("address").GetString());
            }
        }

        // The firmware's modules start again in each boot; no guest exception anywhere.
        var bds = root.GetProperty("modules").EnumerateArray().Where(m => m.GetProperty("name").GetString() == "BdsDxe").ToList();
        Assert.Equal([0, 1, 2], bds.Select(m => m.GetProperty("boot").GetInt32()));
        Assert.Equal(0, root.GetProperty("exceptions").GetInt64());
    }

    [Fact]
    public void NoRebootEndsTheRunAtTheShellsReset()
    {
        string report = CliRunner.TempFile(".json");
        var r = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code4M), "--vars", Fixtures.Path(Fixtures.Vars4M), "--snapshot", "--quiet",
            "--no-reboot", "--report", report,
            "--expect", "Press ESC in", "--send", @"\e", "--expect", "Shell>", "--send", @"reset\r");

        File.Delete(report);
        Assert.Equal(0, r.ExitCode);
        var root = r.Report!.RootElement;
        Assert.Equal("reset", root.GetProperty("stop").GetProperty("reason").GetString());
        var reset = Assert.Single(root.GetProperty("resets").EnumerateArray());
        Assert.Equal("resetControl", reset.GetProperty("cause").GetString());
        Assert.DoesNotContain(root.GetProperty("milestones").EnumerateArray(), m => m.GetProperty("boot").GetInt32() > 0);
    }
}
