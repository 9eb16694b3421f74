using Emulator.Hosting.Boot;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Reporting;
using Microsoft.Extensions.Logging;

namespace Emulator.Hosting.Compare;

/// <summary>
/// Runs firmware builds on the spot, in parallel (one emulator instance per core: each machine is
/// single-threaded and shares no state), each on a fresh temporary copy of its varstore and with
/// the same boot options; returns the reports and the CODE/VARS verdict for the first run's
/// resulting varstore given to every other run's code. Two runs for <c>compare</c>, any number
/// (bounded by <c>--jobs</c>) for <c>matrix</c>. Each run is a <see cref="BootSession"/> whose
/// notices go to <paramref name="messages"/> (made thread-safe here) and whose warnings go to
/// <paramref name="loggers"/>; its console output goes nowhere.
/// </summary>
public sealed class SideBySideRuns(TextWriter messages, ILoggerFactory? loggers = null)
{
    /// <summary>A build to run: its code image and, optionally, its varstore (copied before the run).</summary>
    public sealed record Firmware(string Code, string? Vars);

    /// <summary>The two runs' reports and the verdict on the baseline's resulting varstore for the candidate's code.</summary>
    public sealed record Result(RunReport Baseline, RunReport Candidate, CompatChange? Compat);

    /// <summary>The varstore name shown in the verdict: the baseline run's temporary copy, named the same on every run.</summary>
    public const string BaselineVarsName = "baseline-vars-after-run.fd";

    /// <summary>Runs <paramref name="baseline"/> and <paramref name="candidate"/> side by side with the same <paramref name="options"/> (their firmware files aside).</summary>
    public Result Run(Firmware baseline, Firmware candidate, BootOptions options, string? keepReports)
    {
        var runs = RunAll([new("baseline", baseline), new("candidate", candidate)], options, keepReports, jobs: 2);
        return new Result(runs[0].Report, runs[1].Report, runs[1].Compat);
    }

    /// <summary>A named build of a batch (<c>matrix</c>); the name becomes the report's file name.</summary>
    public sealed record NamedFirmware(string Name, Firmware Firmware);

    /// <summary>One run's report and, for every run after the first, the verdict on the first run's resulting varstore.</summary>
    public sealed record Outcome(string Name, RunReport Report, CompatChange? Compat);

    /// <summary>
    /// Runs every build, at most <paramref name="jobs"/> at a time, on fresh copies of their varstores,
    /// each with <paramref name="options"/> but its own firmware files, quiet and without a report
    /// file; <paramref name="keepReports"/>, when given, is the directory that gets each report as
    /// NAME.json; <paramref name="finished"/> is told the name of each run as it ends (from the
    /// worker's thread).
    /// </summary>
    public IReadOnlyList<Outcome> RunAll(IReadOnlyList<NamedFirmware> runs, BootOptions options, string? keepReports, int jobs, Action<string>? finished = null)
    {
        // Every build's files get boot's size and layout verdict before any run starts.
        foreach (var r in runs)
        {
            FirmwareFiles.CheckLayout(r.Firmware.Vars is { } v ? [(r.Name + " code", r.Firmware.Code), (r.Name + " vars", v)] : [(r.Name + " code", r.Firmware.Code)]);
        }

        if (keepReports != null)
        {
            OutputPaths.FullPath("--keep-reports", keepReports);
        }

        string dir = Path.Combine(Path.GetTempPath(), $"emu-compare-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var sides = runs.Select(r => Prepare(dir, r.Name, r.Firmware, options)).ToArray();
            var log = TextWriter.Synchronized(messages);
            var reports = new RunReport[sides.Length];
            try
            {
                // Each machine is single-threaded and shares no state: one per core, never more than asked.
                Parallel.For(0, sides.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, jobs) }, i =>
                {
                    reports[i] = new BootSession(sides[i].Options, Stream.Null, log, loggers).Run();
                    finished?.Invoke(runs[i].Name);
                });
            }
            catch (AggregateException e) when (e.Flatten().InnerExceptions.FirstOrDefault(x => x is UsageException or IOException) is { } first)
            {
                throw first is UsageException u ? u : new UsageException(first.Message);
            }

            if (keepReports != null)
            {
                Directory.CreateDirectory(keepReports);
                for (int i = 0; i < runs.Count; i++)
                {
                    ReportFile.Save(Path.Combine(keepReports, runs[i].Name + ".json"), reports[i]);
                }
            }

            byte[]? baselineVars = sides[0].Vars is { } vars ? InputFile.Read(InputRole.Flash("baseline vars"), vars) : null;
            return runs.Select((r, i) => new Outcome(
                r.Name, reports[i], i > 0 && baselineVars != null ? ReportCompat.Verdict(r.Firmware.Code, InputFile.Read(InputRole.Flash(r.Name + " code"), r.Firmware.Code), baselineVars, BaselineVarsName) : null)).ToList();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>One run's options: the shared ones with this build's code and a fresh copy of its varstore.</summary>
    private static (BootOptions Options, string? Vars) Prepare(string dir, string side, Firmware f, BootOptions options)
    {
        string? vars = null;
        if (f.Vars != null)
        {
            // A fresh copy: the user's varstore is never written, and both runs start from their file as it is.
            vars = Path.Combine(dir, side + ".vars.fd");
            File.WriteAllBytes(vars, InputFile.Read(InputRole.Flash(side + " vars"), f.Vars));
        }

        return (options with { Code = f.Code, Vars = vars, Firmware = null, Report = null, Quiet = true, NoStatus = true }, vars);
    }
}
