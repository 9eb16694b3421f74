using System.Globalization;
using System.Text.Json;
using System.Text;
using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Hosting.Compare;

namespace Emulator.Cli.Compare;

/// <summary>
/// <c>matrix</c> (issue 6, batch runs): several builds run now with the same options, at most one
/// emulator per core (<c>--jobs</c>), each compared with the first (the baseline) by the machinery
/// of <c>compare</c>. One summary on stdout (and <c>--markdown</c>/<c>--json</c>); exit status 0 every
/// candidate within the thresholds, 1 any regression, 2 bad input.
/// </summary>
public sealed class MatrixCommand(Stream stdout, TextWriter stderr, HostConsole host)
{
    public const string Usage = """
          matrix   --run NAME=CODE[,VARS] --run NAME=CODE[,VARS] ...   (the first run is the baseline)
                   run all now, --jobs N at a time (default: one per core), each compared with the first;
                   the boot options, --threshold, --json, --markdown and --keep-reports of 'compare'
        """;

    private const string RunOption = "--run";

    private static readonly HashSet<string> OwnValues = ["--threshold", "--json", "--markdown", "--keep-reports", "--jobs"];

    public int Run(IEnumerable<string> args)
    {
        var a = new ArgumentReader(
            args, new HashSet<string>([.. OwnValues, .. CompareCommand.ForwardedValues]), CompareCommand.ForwardedFlags,
            new HashSet<string> { RunOption, BootOptions.ExpectOption, BootOptions.SendOption });
        if (a.Positionals.Count > 0)
        {
            throw new UsageException($"matrix takes no file names ('{a.Positionals[0]}'): give each build as --run NAME=CODE[,VARS]");
        }

        double threshold = CompareCommand.ParseThreshold(a.Get("--threshold"));
        int jobs = ParseJobs(a.Get("--jobs"));
        var runs = a.GetAll().Where(o => o.Name == RunOption).Select(o => ParseRun(o.Value)).ToList();
        if (runs.Count < 2)
        {
            throw new UsageException("matrix needs at least two --run NAME=CODE[,VARS] (the first is the baseline)");
        }

        if (runs.GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new UsageException($"two runs are named '{twice.Key}': each --run needs its own name");
        }

        var progress = host.StderrIsTerminal ? new Progress(stderr, runs.Count, Math.Min(jobs, runs.Count)) : null;
        progress?.Draw(null);
        var outcomes = CompareCommand.RunAll(stderr, all => all.RunAll(
            runs, CompareCommand.ForwardedBootOptions(a), a.Get("--keep-reports"), jobs, progress == null ? null : progress.Finished));
        progress?.End();

        var labels = runs.ToDictionary(r => r.Name, r => CompareCommand.Label(r.Firmware.Code, r.Firmware.Vars));
        var baseline = outcomes[0];
        var rows = outcomes.Skip(1).Select(o => new Row(o.Name, labels[o.Name], ReportComparer.Compare(baseline.Report, o.Report, threshold, o.Compat))).ToList();

        if (a.Get("--json") is { } json)
        {
            var doc = new { Baseline = baseline.Name, BaselineFirmware = labels[baseline.Name], ThresholdPercent = threshold, Candidates = rows };
            CompareCommand.Write(json, w => w.Write(JsonSerializer.Serialize(doc, ReportFile.Json) + "\n"));
        }

        if (a.Get("--markdown") is { } markdown)
        {
            CompareCommand.Write(markdown, w => WriteMarkdown(w, baseline.Name, labels[baseline.Name], rows, threshold));
        }

        using (var output = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 12, leaveOpen: true))
        {
            WriteSummary(output, baseline.Name, labels[baseline.Name], rows, threshold);
        }

        return rows.Any(r => r.Comparison.Regressions.Count > 0) ? 1 : 0;
    }

    /// <summary>A candidate's comparison with the baseline, as the JSON summary shows it.</summary>
    public sealed record Row(string Name, string Firmware, Comparison Comparison);

    /// <summary>NAME=CODE or NAME=CODE,VARS; the name names the run's report (<c>--keep-reports</c>), so it must be a plain file name.</summary>
    public static SideBySideRuns.NamedFirmware ParseRun(string text)
    {
        int eq = text.IndexOf('=');
        string name = eq > 0 ? text[..eq] : string.Empty;
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || name.StartsWith('.'))
        {
            throw new UsageException($"--run needs NAME=CODE[,VARS] with a plain name (letters, digits, - _ .), not '{text}'");
        }

        string[] files = text[(eq + 1)..].Split(',');
        if (files.Length > 2 || files.Any(f => f.Length == 0))
        {
            throw new UsageException($"--run needs NAME=CODE[,VARS]: one code file and at most one varstore, not '{text}'");
        }

        return new(name, new(files[0], files.Length == 2 ? files[1] : null));
    }

    private static int ParseJobs(string? text)
    {
        if (text == null)
        {
            return Environment.ProcessorCount;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is > 0 and <= 1024
            ? n
            : throw new UsageException($"--jobs needs a number of parallel runs from 1 to 1024, not '{text}'");
    }

    private static string Headline(Row r)
    {
        var c = r.Comparison;
        string instructions = string.Create(CultureInfo.InvariantCulture, $"{c.Instructions.Candidate:N0} instructions ({ReportComparer.FormatPercent(Percent(c.Instructions))})");
        string regressions = c.Regressions.Count == 0 ? string.Empty : $", {c.Regressions.Count} regression{(c.Regressions.Count == 1 ? string.Empty : "s")}";
        return $"{c.Verdict}, stop '{c.Stop.Candidate}', {instructions}{regressions}";
    }

    private static double? Percent(Side<long> s) => s.Baseline == 0 ? null : (s.Candidate - s.Baseline) * 100.0 / s.Baseline;

    private static void WriteSummary(TextWriter o, string baseline, string baselineFirmware, IReadOnlyList<Row> rows, double threshold)
    {
        o.WriteLine(FormattableString.Invariant($"matrix: {rows.Count + 1} runs, each compared with '{baseline}' ({baselineFirmware}), threshold {threshold}%"));
        int width = rows.Max(r => r.Name.Length);
        foreach (var r in rows)
        {
            o.WriteLine($"  {r.Name.PadRight(width)}  {Headline(r)}");
            foreach (string regression in r.Comparison.Regressions)
            {
                o.WriteLine($"  {new string(' ', width)}    - {regression}");
            }
        }

        int failed = rows.Count(r => r.Comparison.Regressions.Count > 0);
        o.WriteLine(failed == 0 ? "verdict: every candidate within the thresholds" : $"verdict: {failed} of {rows.Count} candidates regressed");
    }

    private static void WriteMarkdown(TextWriter o, string baseline, string baselineFirmware, IReadOnlyList<Row> rows, double threshold)
    {
        o.WriteLine(FormattableString.Invariant($"# Firmware matrix: {rows.Count + 1} runs against `{baseline}` (threshold {threshold}%)"));
        o.WriteLine();
        o.WriteLine("| run | firmware | result |");
        o.WriteLine("|---|---|---|");
        o.WriteLine($"| {baseline} | `{baselineFirmware}` | baseline |");
        foreach (var r in rows)
        {
            o.WriteLine($"| {r.Name} | `{r.Firmware}` | {Headline(r)} |");
        }

        foreach (var r in rows)
        {
            o.WriteLine();
            ComparisonText.WriteMarkdown(o, r.Comparison, baseline, r.Name);
        }
    }

    /// <summary>
    /// A count line redrawn in place on a terminal ("\r" and erase-to-end, ECMA-48 EL): runs finish
    /// out of order, so one line says how many are done and which ended last.
    /// </summary>
    private sealed class Progress(TextWriter stderr, int total, int parallel)
    {
        private readonly Lock _gate = new();
        private int _done;

        public void Finished(string name)
        {
            lock (_gate)
            {
                _done++;
                Draw(name);
            }
        }

        public void Draw(string? last)
        {
            int running = Math.Min(parallel, total - _done);
            stderr.Write($"\rmatrix: {_done}/{total} done, {running} running{(last == null ? string.Empty : $", last: {last}")}\u001b[K");
            stderr.Flush();
        }

        public void End()
        {
            stderr.WriteLine();
        }
    }
}
