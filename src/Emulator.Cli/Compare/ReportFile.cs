using System.Reflection;
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

        if (report is null)
        {
            throw new UsageException($"'{path}' is not a run report (write one with 'emu boot --report FILE'): it is null");
        }

        if (report.SchemaVersion != RunReport.CurrentSchemaVersion)
        {
            throw new UsageException($"report '{path}' has schema version {report.SchemaVersion}; this emu reads version {RunReport.CurrentSchemaVersion}");
        }

        // Reports written before the module list existed have none.
        report = report with { Modules = report.Modules ?? [] };

        // The JSON reader fills a value it did not find (or found as null) with null even where
        // the record says it is never null: the comparison would trip over it much later.
        if (FirstMissing(report, string.Empty, new NullabilityInfoContext()) is { } missing)
        {
            throw new UsageException($"'{path}' is not a run report (write one with 'emu boot --report FILE'): '{missing}' is missing");
        }

        return report;
    }

    /// <summary>
    /// The path (<c>milestones[3].name</c>) of the first value of <paramref name="value"/>'s report
    /// records that is null though its declaration says it never is — a property, or an element
    /// of a list — or null when there is none.
    /// </summary>
    private static string? FirstMissing(object value, string path, NullabilityInfoContext context)
    {
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            string at = path.Length == 0 ? JsonNamingPolicy.CamelCase.ConvertName(property.Name) : $"{path}.{JsonNamingPolicy.CamelCase.ConvertName(property.Name)}";
            if (FirstMissingIn(property.GetValue(value), context.Create(property), at, context) is { } missing)
            {
                return missing;
            }
        }

        return null;
    }

    private static string? FirstMissingIn(object? value, NullabilityInfo declared, string path, NullabilityInfoContext context)
    {
        switch (value)
        {
            case null:
                return declared.ReadState == NullabilityState.NotNull ? path : null;
            case string:
                return null;
            case System.Collections.IEnumerable list when declared.GenericTypeArguments is [var element]:
                int i = 0;
                foreach (object? item in list)
                {
                    if (FirstMissingIn(item, element, $"{path}[{i++}]", context) is { } missing)
                    {
                        return missing;
                    }
                }

                return null;
            default:
                return value.GetType().Namespace == typeof(RunReport).Namespace ? FirstMissing(value, path, context) : null;
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
