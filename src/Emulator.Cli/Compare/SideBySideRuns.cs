using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Compat;
using Emulator.Cli.Logging;
using Emulator.Firmware;
using Emulator.Hosting.Compare;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Reporting;
using Microsoft.Extensions.Logging;

namespace Emulator.Cli.Compare;

/// <summary>
/// Runs firmware builds on the spot, in parallel (one emulator instance per core: each machine is
/// single-threaded and shares no state), each on a fresh temporary copy of its varstore and with
/// the same boot options; returns the reports and the CODE/VARS verdict for the first run's
/// resulting varstore given to every other run's code. Two runs for <c>compare</c>, any number
/// (bounded by <c>--jobs</c>) for <c>matrix</c>.
/// </summary>
public sealed class SideBySideRuns(TextWriter stderr)
{
    public sealed record Firmware(string Code, string? Vars);

    public sealed record Result(RunReport Baseline, RunReport Candidate, CompatChange? Compat);

    /// <summary>The varstore name shown in the verdict: the baseline run's temporary copy, named the same on every run.</summary>
    public const string BaselineVarsName = "baseline-vars-after-run.fd";

    public Result Run(Firmware baseline, Firmware candidate, IReadOnlyList<string> bootOptions, string? keepReports)
    {
        var runs = RunAll([new("baseline", baseline), new("candidate", candidate)], bootOptions, keepReports, jobs: 2);
        return new Result(runs[0].Report, runs[1].Report, runs[1].Compat);
    }

    /// <summary>A named build of a batch (<c>matrix</c>); the name becomes the report's file name.</summary>
    public sealed record NamedFirmware(string Name, Firmware Firmware);

    /// <summary>One run's report and, for every run after the first, the verdict on the first run's resulting varstore.</summary>
    public sealed record Outcome(string Name, RunReport Report, CompatChange? Compat);

    /// <summary>
    /// Runs every build, at most <paramref name="jobs"/> at a time, on fresh copies of their varstores;
    /// <paramref name="finished"/> is told the name of each run as it ends (from the worker's thread).
    /// </summary>
    public IReadOnlyList<Outcome> RunAll(IReadOnlyList<NamedFirmware> runs, IReadOnlyList<string> bootOptions, string? keepReports, int jobs, Action<string>? finished = null)
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
            var sides = runs.Select(r => Prepare(dir, r.Name, r.Firmware, bootOptions)).ToArray();
            var log = TextWriter.Synchronized(stderr);
            try
            {
                // Each machine is single-threaded and shares no state: one per core, never more than asked.
                Parallel.For(0, sides.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, jobs) }, i =>
                {
                    Boot(sides[i].Options, log);
                    finished?.Invoke(runs[i].Name);
                });
            }
            catch (AggregateException e) when (e.Flatten().InnerExceptions.FirstOrDefault(x => x is UsageException or IOException) is { } first)
            {
                throw first is UsageException u ? u : new UsageException(first.Message);
            }

            var reports = sides.Select(s => ReportFile.Load(s.Report)).ToArray();
            if (keepReports != null)
            {
                Directory.CreateDirectory(keepReports);
                foreach (var s in sides)
                {
                    File.Copy(s.Report, Path.Combine(keepReports, Path.GetFileName(s.Report)), overwrite: true);
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

    private static (BootOptions Options, string Report, string? Vars) Prepare(string dir, string side, Firmware f, IReadOnlyList<string> bootOptions)
    {
        string report = Path.Combine(dir, side + ".json");
        var args = new List<string> { "--code", f.Code, "--report", report, "--quiet", "--no-status" };
        string? vars = null;
        if (f.Vars != null)
        {
            // A fresh copy: the user's varstore is never written, and both runs start from their file as it is.
            vars = Path.Combine(dir, side + ".vars.fd");
            File.WriteAllBytes(vars, InputFile.Read(InputRole.Flash(side + " vars"), f.Vars));
            args.AddRange(["--vars", vars]);
        }

        if (!bootOptions.Contains("--pace"))
        {
            args.AddRange(["--pace", BootOptions.PaceOff]);
        }

        args.AddRange(bootOptions);
        return (BootOptionsParser.Parse(args), report, vars);
    }

    private static int Boot(BootOptions options, TextWriter log)
    {
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddProvider(new TextWriterLoggerProvider(log)));
        return new BootCommand(loggers, Stream.Null, log, HostConsole.None).Run(options);
    }
}
