using System.Text.Json;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Reporting;

namespace Emulator.Cli.Compare;

/// <summary>Reads a run report written by <c>boot --report</c>; anything else is a one-line usage error.</summary>
public static class ReportFile
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static RunReport Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"report '{path}' cannot be read: {e.Message}");
        }

        RunReport? report;
        try
        {
            report = JsonSerializer.Deserialize<RunReport>(text, Json);
        }
        catch (JsonException e)
        {
            throw new UsageException($"'{path}' is not a run report (write one with 'emu boot --report FILE'): {FirstLine(e.Message)}");
        }

        if (report is null || report.Milestones is null || report.Machine?.Flash is null || report.Stop is null || report.Unassigned is null || report.Unimplemented is null)
        {
            throw new UsageException($"'{path}' is not a run report (write one with 'emu boot --report FILE'): fields are missing");
        }

        if (report.SchemaVersion != RunReport.CurrentSchemaVersion)
        {
            throw new UsageException($"report '{path}' has schema version {report.SchemaVersion}; this emu reads version {RunReport.CurrentSchemaVersion}");
        }

        return report with { Modules = report.Modules ?? [] };
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
