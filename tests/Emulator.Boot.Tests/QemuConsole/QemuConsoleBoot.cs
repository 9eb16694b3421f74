using System.Text.Json;

namespace Emulator.Boot.Tests.QemuConsole;

/// <summary>
/// Boots a recorded fixture in emu as QEMU booted it (same images, 256 MiB) and checks the run:
/// exit 0 at the milestone, no guest exception, no unimplemented instruction, the dxe, bds and
/// shell milestones, and the console byte-identical to QEMU 7.2's. Every failed check is reported
/// together, so a build that dies early shows why (the instruction, the exception) next to the
/// first console line that differs.
/// </summary>
public static class QemuConsoleBoot
{
    /// <summary>
    /// The milestone every boot runs to. "prompt" compares the console up to QEMU's Shell prompt;
    /// "idle" (the console quiet while the guest waits for input) compares the whole recording.
    /// </summary>
    public const string Until = "idle";

    /// <summary>Twice what the slowest build needs to its prompt (bookworm 4 MB: ~880 million), so a build that hangs fails in seconds.</summary>
    private const long Budget = 2_000_000_000;

    private static readonly string[] RequiredMilestones = ["dxe", "bds", "shell"];

    /// <summary>A recording whose end state is not the Shell (Secure Boot refused it; BDS waits at the Boot Manager prompt) needs no shell milestone.</summary>
    private static readonly string[] RequiredWithoutShell = ["dxe", "bds"];

    public static void Check(string fixture)
    {
        var recording = QemuConsoleRecording.Load(fixture);
        int through = Until == "idle" ? recording.Console.Length : ConsoleAgreement.PromptEnd(recording.Console);
        string report = CliRunner.TempFile(".json");
        string serial = CliRunner.TempFile(".txt");
        try
        {
            var r = CliRunner.Run([
                "boot", .. recording.ImageArguments(), .. recording.MachineArguments(), "--snapshot", "--memory", "256M", "--until", Until,
                "--max-instructions", Budget.ToString(), "--report", report, "--serial-log", serial, "--quiet"]);
            var failures = new List<string>();
            JsonElement? root = r.Report?.RootElement;
            if (r.ExitCode != 0)
            {
                string stop = root is { } s
                    ? $"{s.GetProperty("stop").GetProperty("reason").GetString()} at {s.GetProperty("stop").GetProperty("address").GetString()} after {s.GetProperty("instructions").GetInt64():N0} instructions"
                    : "no report";
                failures.Add($"exit status {r.ExitCode} (stop: {stop}); stderr: {r.Stderr.Trim()}");
            }

            if (root is { } rep)
            {
                var unimplemented = rep.GetProperty("unimplemented").EnumerateArray()
                    .Select(u => $"{u.GetProperty("code").GetString()} x{u.GetProperty("count").GetInt64()}").ToList();
                if (unimplemented.Count > 0)
                {
                    failures.Add("unimplemented instruction(s): " + string.Join(", ", unimplemented));
                }

                long exceptions = rep.GetProperty("exceptions").GetInt64();
                if (exceptions != 0)
                {
                    failures.Add($"{exceptions} guest exception(s)");
                }

                var reached = rep.GetProperty("milestones").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToHashSet();
                var required = recording.Info.ContainsKey("end") ? RequiredWithoutShell : RequiredMilestones;
                var missing = required.Where(m => !reached.Contains(m)).ToList();
                if (missing.Count > 0)
                {
                    failures.Add("milestone(s) not reached: " + string.Join(", ", missing));
                }
            }

            byte[] console = File.Exists(serial) ? File.ReadAllBytes(serial) : [];
            if (ConsoleAgreement.Check(recording.Console, console, through) is { } difference)
            {
                failures.Add($"{difference}\n  (QEMU 7.2's recording: Data/qemu72-console/{fixture}.txt)");
            }

            Assert.True(failures.Count == 0, $"{fixture} ({string.Join(' ', [.. recording.ImageArguments(), .. recording.MachineArguments()])}):\n- " + string.Join("\n- ", failures));
        }
        finally
        {
            File.Delete(report);
            File.Delete(serial);
        }
    }
}
