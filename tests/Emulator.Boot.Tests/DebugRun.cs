using System.Text.Json;

namespace Emulator.Boot.Tests;

/// <summary>
/// One boot of a DEBUG image to the Shell prompt (snapshot mode) with the debug console captured:
/// the exit code, the report and the debugcon log's lines.
/// </summary>
public sealed class DebugRun : IDisposable
{
    // The DEBUG 2 MB build shows its prompt after about 1.05 billion instructions (with the ACPI
    // tables served); a failed ASSERT dead-loops, so the budget bounds what that costs.
    private const string InstructionBudget = "3000000000";

    private readonly JsonDocument? document;

    private DebugRun(int exitCode, JsonDocument? document, IReadOnlyList<string> debugLines)
    {
        ExitCode = exitCode;
        this.document = document;
        DebugLines = debugLines;
    }

    public int ExitCode { get; }

    public IReadOnlyList<string> DebugLines { get; }

    public JsonElement Report => document?.RootElement ?? throw new InvalidOperationException("the run wrote no report");

    public string StopReason => document == null
        ? "(no report)"
        : $"{Report.GetProperty("stop").GetProperty("reason").GetString()} {Report.GetProperty("stop").GetProperty("detail")}".TrimEnd();

    public static DebugRun Boot(string code, string vars)
    {
        string report = CliRunner.TempFile(".json");
        string debugcon = CliRunner.TempFile(".log");
        try
        {
            var r = CliRunner.Run("boot", "--code", code, "--vars", vars, "--snapshot", "--quiet", "--report", report,
                "--debugcon", debugcon, "--until", "prompt", "--max-instructions", InstructionBudget);
            var lines = File.Exists(debugcon) ? File.ReadAllLines(debugcon) : [];
            return new DebugRun(r.ExitCode, r.Report, lines);
        }
        finally
        {
            File.Delete(report);
            File.Delete(debugcon);
        }
    }

    public void Dispose() => document?.Dispose();
}
