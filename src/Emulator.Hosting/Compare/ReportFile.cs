using System.Reflection;
using System.Text.Json;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Compare;

/// <summary>Reads a run report written by <c>boot --report</c>; anything else is a one-line usage error.</summary>
public static class ReportFile
{
    /// <summary>The report's JSON conventions: camelCase, indented.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Writes <paramref name="report"/> as indented JSON (the schema <see cref="Load"/> reads); a one-line <see cref="UsageException"/> when the file cannot be written.</summary>
    public static void Save(string path, RunReport report)
    {
        var json = JsonSerializer.Serialize(report, Json);
        try
        {
            File.WriteAllText(path, json + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write report '{path}': {e.Message}");
        }
    }

    /// <summary>Reads the report at <paramref name="path"/>, checked (schema version, no missing or negative values); a one-line <see cref="UsageException"/> otherwise.</summary>
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
        // the record says it is never null, and takes any number: the comparison would trip over
        // a null much later, and a negative count (no run has one) wraps its differences.
        if (FirstInvalid(report, string.Empty, new NullabilityInfoContext()) is { } problem)
        {
            throw new UsageException($"'{path}' is not a run report (write one with 'emu boot --report FILE'): {problem}");
        }

        return report;
    }

    /// <summary>
    /// What is wrong with the first bad value of <paramref name="value"/>'s report records, by its
    /// path (<c>'milestones[3].name' is missing</c>): a property or list element that is null though
    /// its declaration says it never is, or a negative number (every number in a report is a
    /// count, an index, a size, a mode or a time); null when there is none.
    /// </summary>
    private static string? FirstInvalid(object value, string path, NullabilityInfoContext context)
    {
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            string at = path.Length == 0 ? JsonNamingPolicy.CamelCase.ConvertName(property.Name) : $"{path}.{JsonNamingPolicy.CamelCase.ConvertName(property.Name)}";
            if (FirstInvalidIn(property.GetValue(value), context.Create(property), at, context) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? FirstInvalidIn(object? value, NullabilityInfo declared, string path, NullabilityInfoContext context)
    {
        switch (value)
        {
            case null:
                return declared.ReadState == NullabilityState.NotNull ? $"'{path}' is missing" : null;
            case int or long or double when Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture) < 0:
                return $"'{path}' is negative";
            case string:
                return null;
            case System.Collections.IEnumerable list when declared.GenericTypeArguments is [var element]:
                int i = 0;
                foreach (object? item in list)
                {
                    if (FirstInvalidIn(item, element, $"{path}[{i++}]", context) is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            default:
                return value.GetType().Namespace == typeof(RunReport).Namespace ? FirstInvalid(value, path, context) : null;
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
