using System.Text;
using System.Text.Json;
using Emulator.Cli;

namespace Emulator.Boot.Tests;

/// <summary>Runs the CLI in-process, capturing stdout (the guest's serial console) and stderr.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr, JsonDocument? Report);

public static class CliRunner
{
    public static CliResult Run(params string[] args) => RunWith(null, args);

    /// <summary>Runs with <paramref name="firmware"/> as the firmware search (descriptor directories, state directory, fixtures) instead of the host's.</summary>
    public static CliResult RunWith(Emulator.Hosting.Boot.FirmwareSearch? firmware, params string[] args)
    {
        string? reportPath = null;
        var list = args.ToList();
        if (list.Contains("--report"))
        {
            reportPath = list[list.IndexOf("--report") + 1];
        }

        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int code = CommandDispatcher.Run(list.ToArray(), stdout, stderr, firmware: firmware);
        JsonDocument? report = code != 2 && reportPath != null && File.Exists(reportPath) ? JsonDocument.Parse(File.ReadAllText(reportPath)) : null;
        return new CliResult(code, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString(), report);
    }

    public static string TempFile(string suffix) =>
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"emu-test-{Guid.NewGuid():N}{suffix}");
}
