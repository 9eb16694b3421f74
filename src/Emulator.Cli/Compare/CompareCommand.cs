using System.Globalization;
using System.Text.Json;
using System.Text;
using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Hosting.Logging;
using Emulator.Hosting.Compare;
using Emulator.Hosting.Reporting;
using Microsoft.Extensions.Logging;

namespace Emulator.Cli.Compare;

/// <summary>
/// <c>compare</c> (issue 6): two run reports, or two firmware builds run on the spot with the same
/// options, compared for people (side by side on stdout, <c>--markdown</c>) and machines
/// (<c>--json</c>). Exit status 0 no regression, 1 regression (see <see cref="Comparison"/>),
/// 2 bad input.
/// </summary>
public sealed class CompareCommand(Stream stdout, TextWriter stderr)
{
    public const double DefaultThresholdPercent = 5;

    /// <summary>Boot options passed to both runs unchanged.</summary>
    internal static readonly HashSet<string> ForwardedValues = ["--until", "--max-instructions", "--memory", "--rtc-start", "--max-resets", "--pace"];

    internal static readonly HashSet<string> ForwardedFlags = ["--unassigned-zero", "--exact-waits", "--no-reboot", "--no-hang-detect"];

    public int Run(ParsedArguments a)
    {
        double threshold = ParseThreshold(a.Get("--threshold"));
        bool onTheSpot = a.Has("--baseline-code") || a.Has("--candidate-code");
        RunReport baseline, candidate;
        string baselineName, candidateName;
        CompatChange? compat = null;
        if (onTheSpot)
        {
            if (a.Positionals.Count > 0)
            {
                throw new UsageException("give either two reports or --baseline-code/--candidate-code, not both");
            }

            string bc = a.Get("--baseline-code") ?? throw new UsageException("compare needs --baseline-code FILE with --candidate-code");
            string cc = a.Get("--candidate-code") ?? throw new UsageException("compare needs --candidate-code FILE with --baseline-code");
            var result = RunAll(stderr, runs => runs.Run(
                new(bc, a.Get("--baseline-vars")), new(cc, a.Get("--candidate-vars")), ForwardedBootOptions(a), a.Get("--keep-reports")));
            (baseline, candidate, compat) = (result.Baseline, result.Candidate, result.Compat);
            (baselineName, candidateName) = (Label(bc, a.Get("--baseline-vars")), Label(cc, a.Get("--candidate-vars")));
        }
        else
        {
            foreach (string o in new[] { "--baseline-vars", "--candidate-vars", "--keep-reports", BootOptions.ExpectOption, BootOptions.SendOption }.Concat(ForwardedValues).Concat(ForwardedFlags))
            {
                if (a.Has(o))
                {
                    throw new UsageException($"{o} is for runs on the spot (--baseline-code/--candidate-code), not for two reports");
                }
            }

            if (a.Positionals.Count != 2)
            {
                throw new UsageException("compare needs two reports (BASELINE.json CANDIDATE.json) or --baseline-code/--candidate-code");
            }

            (baselineName, candidateName) = (a.Positionals[0], a.Positionals[1]);
            baseline = ReportFile.Load(baselineName);
            candidate = ReportFile.Load(candidateName);
            compat = ReportCompat.Verdict(baseline, candidate, out string? notChecked);
            if (notChecked != null)
            {
                stderr.WriteLine($"emu: compare: no CODE/VARS verdict: {notChecked}");
            }
        }

        var comparison = ReportComparer.Compare(baseline, candidate, threshold, compat);
        if (a.Get("--json") is { } json)
        {
            Write(json, w => w.Write(JsonSerializer.Serialize(new { Baseline = baselineName, Candidate = candidateName, Comparison = comparison }, ReportFile.Json) + "\n"));
        }

        if (a.Get("--markdown") is { } markdown)
        {
            Write(markdown, w => ComparisonText.WriteMarkdown(w, comparison, baselineName, candidateName));
        }

        using (var output = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 12, leaveOpen: true))
        {
            ComparisonText.WriteSideBySide(output, comparison, baselineName, candidateName);
        }

        return comparison.Regressions.Count > 0 ? 1 : 0;
    }

    /// <summary>
    /// Runs on the spot (shared with <c>matrix</c>): the runs' notices and warnings on stderr, a
    /// line at a time whichever run writes it.
    /// </summary>
    internal static T RunAll<T>(TextWriter stderr, Func<SideBySideRuns, T> run)
    {
        var log = TextWriter.Synchronized(stderr);
        using var loggers = TextWriterLoggerProvider.Factory(log, LogLevel.Warning);
        return run(new SideBySideRuns(log, loggers));
    }

    /// <summary>
    /// The boot options every run gets unchanged (shared with <c>matrix</c>), read as boot reads
    /// them; guest waits are not held to the wall clock unless --pace says so. Repeatable options
    /// other than --expect/--send are not boot options.
    /// </summary>
    internal static BootOptions ForwardedBootOptions(ParsedArguments a)
    {
        var forwarded = new List<string>();
        foreach (string o in ForwardedValues.Where(a.Has).Order(StringComparer.Ordinal))
        {
            forwarded.AddRange([o, a.Get(o)!]);
        }

        forwarded.AddRange(ForwardedFlags.Where(a.Has).Order(StringComparer.Ordinal));
        foreach (var (name, value) in a.GetAll().Where(o => o.Name is BootOptions.ExpectOption or BootOptions.SendOption))
        {
            forwarded.AddRange([name, value]);
        }

        if (!forwarded.Contains("--pace"))
        {
            forwarded.AddRange(["--pace", BootOptions.PaceOff]);
        }

        return BootOptionsParser.Parse(forwarded);
    }

    internal static string Label(string code, string? vars) => vars == null ? code : $"{code} + {vars}";

    /// <summary>"5%", "5" or "0.5%": a relative change of an instruction index, in percent.</summary>
    public static double ParseThreshold(string? text)
    {
        if (text == null)
        {
            return DefaultThresholdPercent;
        }

        return double.TryParse(text.TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out double p) && p >= 0 && double.IsFinite(p)
            ? p
            : throw new UsageException($"--threshold needs a percentage such as 5%, not '{text}'");
    }

    internal static void Write(string path, Action<TextWriter> write)
    {
        StreamWriter w;
        try
        {
            w = new StreamWriter(path, append: false, new UTF8Encoding(false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"cannot write '{path}': {e.Message}");
        }

        // Only the writing's own failures are the file's: anything else from the formatting is a bug to see, not a "cannot write".
        using (w)
        {
            try
            {
                write(w);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"cannot write '{path}': {e.Message}");
            }
        }
    }
}
