using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Compat;
using Emulator.Cli.Logging;
using Emulator.Cli.Reporting;
using Emulator.Firmware;
using Microsoft.Extensions.Logging;

namespace Emulator.Cli.Compare;

/// <summary>
/// Runs the baseline and the candidate firmware on the spot, in parallel (one emulator instance
/// per core: each machine is single-threaded and shares no state), each on a fresh temporary copy
/// of its varstore and with the same boot options; returns both reports and the CODE/VARS verdict
/// for the baseline's resulting varstore given to the candidate's code.
/// </summary>
public sealed class SideBySideRuns(TextWriter stderr)
{
    public sealed record Firmware(string Code, string? Vars);

    public sealed record Result(RunReport Baseline, RunReport Candidate, CompatChange? Compat);

    /// <summary>The varstore name shown in the verdict: the baseline run's temporary copy, named the same on every run.</summary>
    public const string BaselineVarsName = "baseline-vars-after-run.fd";

    public Result Run(Firmware baseline, Firmware candidate, IReadOnlyList<string> bootOptions, string? keepReports)
    {
        FirmwareFiles.Check("baseline code", baseline.Code);
        FirmwareFiles.Check("candidate code", candidate.Code);
        string dir = Path.Combine(Path.GetTempPath(), $"emu-compare-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var sides = new[] { ("baseline", baseline), ("candidate", candidate) }.Select(s => Prepare(dir, s.Item1, s.Item2, bootOptions)).ToArray();
            var log = TextWriter.Synchronized(stderr);
            var runs = sides.Select(s => Task.Run(() => Boot(s.Options, log))).ToArray();
            try
            {
                Task.WaitAll(runs);
            }
            catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is UsageException or IOException) is { } first)
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

            var compat = sides[0].Vars is { } vars ? Verdict(candidate.Code, File.ReadAllBytes(vars)) : null;
            return new Result(reports[0], reports[1], compat);
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
            FirmwareFiles.Check(side + " vars", f.Vars);
            vars = Path.Combine(dir, side + ".vars.fd");
            File.Copy(f.Vars, vars);
            args.AddRange(["--vars", vars]);
        }

        if (!bootOptions.Contains("--pace"))
        {
            args.AddRange(["--pace", BootOptions.PaceOff]);
        }

        args.AddRange(bootOptions);
        return (BootOptions.Parse(args), report, vars);
    }

    private static int Boot(BootOptions options, TextWriter log)
    {
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddProvider(new TextWriterLoggerProvider(log)));
        return new BootCommand(loggers, Stream.Null, log, HostConsole.None).Run(options);
    }

    private static CompatChange? Verdict(string candidateCode, byte[] baselineVars)
    {
        FirmwareImage image;
        try
        {
            image = FirmwareImage.Parse(File.ReadAllBytes(candidateCode));
        }
        catch (FirmwareFormatException)
        {
            return null;
        }

        return CompatibilityCheck.Evaluate(image, baselineVars) is { } v
            ? new CompatChange(v.Compatible, CompatibilityCheck.Describe(v, candidateCode, BaselineVarsName).ToList())
            : null;
    }
}
