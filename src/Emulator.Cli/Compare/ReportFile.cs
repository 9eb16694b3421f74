using System.Text.Json;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Inputs;
using Emulator.Cli.Reporting;

namespace Emulator.Cli.Compare;

/// <summary>Reads a run report written by <c>boot --report</c>; anything else is a one-line usage error.</summary>
public static class ReportFile
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static RunReport Load(string path)
    {
        // Decoded as File.ReadAllText would: UTF-8 unless a byte order mark says otherwise.
        using var reader = new StreamReader(new MemoryStream(InputFile.Read(InputRole.Report, path)), detectEncodingFromByteOrderMarks: true);
        string text = reader.ReadToEnd();

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
