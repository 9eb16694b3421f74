using Emulator.Cli.Boot;

namespace Emulator.Cli.CommandLine;

/// <summary><c>emu boot</c>'s command line to <see cref="BootOptions"/>, validated: numbers are numbers, options do not conflict.</summary>
public static class BootOptionsParser
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>
    {
        "--code", "--vars", "--firmware", "--memory", "--until", "--max-instructions", "--report", "--trace", "--trace-limit", "--flash-log",
        "--serial-log", "--debugcon", "--pace", "--rtc-start", "--max-resets", "--vm", "--save-state", "--save-state-at", "--restore",
    };

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string> { "--unassigned-zero", "--snapshot", "--quiet", "--verbose", "--exact-waits", "--no-status", "--no-reboot", "--force", "--timeline", "--interpret", "--no-hang-detect" };

    /// <summary>Console input steps, kept in command-line order.</summary>
    public static readonly IReadOnlySet<string> RepeatableOptions = new HashSet<string> { BootOptions.SerialInputOption, BootOptions.ExpectOption, BootOptions.SendOption };

    public static BootOptions Parse(IEnumerable<string> args)
    {
        var a = new ArgumentReader(args, ValueOptions, FlagOptions, RepeatableOptions);
        if (a.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{a.Positionals[0]}'");
        }

        var o = new BootOptions
        {
            Code = a.Get("--code"),
            Vars = a.Get("--vars"),
            Firmware = a.Get("--firmware"),
            Vm = a.Get("--vm"),
            Memory = a.Get("--memory") is { } m ? SizeParser.ParseMemory(m) : Core.Machine.MachineOptions.DefaultRamSize,
            MemoryGiven = a.Has("--memory"),
            SaveState = a.Get("--save-state"),
            SaveStateAt = a.Get("--save-state-at") is { } at ? ParseSaveStateAt(at) : new Dictionary<string, string>(),
            Restore = a.Get("--restore"),
            Until = a.Get("--until"),
            MaxInstructions = a.GetLong("--max-instructions") ?? BootOptions.DefaultMaxInstructions,
            Report = a.Get("--report"),
            Trace = a.Get("--trace"),
            FlashLog = a.Get("--flash-log"),
            TraceLimit = a.GetLong("--trace-limit") ?? BootOptions.DefaultTraceLimit,
            UnassignedZero = a.Has("--unassigned-zero"),
            Snapshot = a.Has("--snapshot"),
            Quiet = a.Has("--quiet"),
            Force = a.Has("--force"),
            Timeline = a.Has("--timeline"),
            Verbose = a.Has("--verbose"),
            SerialSteps = a.GetAll(),
            SerialLog = a.Get("--serial-log"),
            DebugCon = a.Get("--debugcon"),
            Pace = a.Get("--pace") ?? BootOptions.PaceAuto,
            RtcStart = a.Get("--rtc-start") is { } rtc ? ParseDate(rtc) : null,
            ExactWaits = a.Has("--exact-waits"),
            Interpret = a.Has("--interpret"),
            NoStatus = a.Has("--no-status"),
            HangDetection = !a.Has("--no-hang-detect"),
            NoReboot = a.Has("--no-reboot"),
            MaxResets = a.GetLong("--max-resets") is { } r
                ? (r is >= 0 and <= int.MaxValue ? (int)r : throw new UsageException($"--max-resets must be between 0 and {int.MaxValue}, not {r}"))
                : Core.Machine.PcMachine.DefaultMaxResets,
        };
        Validate(o, a);
        return o;
    }

    /// <summary>"NAME=FILE[,NAME=FILE...]": a known milestone per file.</summary>
    private static Dictionary<string, string> ParseSaveStateAt(string value)
    {
        var result = new Dictionary<string, string>();
        foreach (string item in value.Split(','))
        {
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            string name = eq > 0 ? item[..eq] : string.Empty;
            if (eq <= 0 || eq == item.Length - 1 || !MilestoneTracker.KnownNames.Contains(name) || !result.TryAdd(name, item[(eq + 1)..]))
            {
                throw new UsageException($"--save-state-at takes MILESTONE=FILE[,MILESTONE=FILE...] with known milestones, each once ({string.Join(", ", MilestoneTracker.KnownNames)}), not '{item}'");
            }
        }

        return result;
    }

    private static DateTime ParseDate(string value) =>
        DateTime.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var d)
            ? d
            : throw new UsageException($"--rtc-start needs a date such as 2026-01-01T00:00:00Z, not '{value}'");

    private static void Validate(BootOptions o, ArgumentReader a)
    {
        if (o.Firmware != null && (o.Code != null || o.Vars != null))
        {
            throw new UsageException("use either --firmware (a unified image) or --code/--vars, not both");
        }

        if (o.Vm != null)
        {
            // --vm names the copy of the firmware emu finds itself (DefaultFirmware); named files have their own varstore.
            string? named = o.Vars != null ? "--vars" : o.Code != null ? "--code" : o.Firmware != null ? "--firmware" : null;
            if (named != null)
            {
                throw new UsageException($"--vm picks the varstore of the firmware emu finds itself: not with {named} (give the varstore as --vars FILE)");
            }

            DefaultFirmware.CheckVmName(o.Vm);
        }

        if (o.Firmware == null && o.Code == null && o.Vars != null)
        {
            throw new UsageException("--vars needs --code (pflash1 requires pflash0)");
        }

        if (o.Code != null && o.Vars != null && OutputPaths.SameFile(o.Code, o.Vars))
        {
            throw new UsageException("--code and --vars are the same file: the code chip is read-only, the varstore is written");
        }

        if (o.Until != null && !MilestoneTracker.KnownNames.Contains(o.Until))
        {
            throw new UsageException($"unknown milestone '{o.Until}' (known: {string.Join(", ", MilestoneTracker.KnownNames)})");
        }

        if (a.Has("--trace-limit") && o.Trace == null)
        {
            throw new UsageException("--trace-limit needs --trace FILE");
        }

        if (o.Pace is not (BootOptions.PaceAuto or BootOptions.PaceRealTime or BootOptions.PaceOff))
        {
            throw new UsageException($"--pace must be {BootOptions.PaceAuto}, {BootOptions.PaceRealTime} or {BootOptions.PaceOff}, not '{o.Pace}'");
        }

        foreach (var (name, value) in o.SerialSteps)
        {
            if (value.Length == 0)
            {
                throw new UsageException($"{name} needs text");
            }

            if (value == "-" && name != BootOptions.SerialInputOption)
            {
                throw new UsageException($"'-' (live stdin) is only for {BootOptions.SerialInputOption}");
            }
        }

        o.CheckOutputs();
        if (a.Has("--max-instructions") && o.MaxInstructions == 0)
        {
            throw new UsageException("--max-instructions must be at least 1");
        }
    }
}
