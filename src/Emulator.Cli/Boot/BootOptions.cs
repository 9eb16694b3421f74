using Emulator.Cli.CommandLine;

namespace Emulator.Cli.Boot;

/// <summary>
/// The QEMU front end's behaviour: -no-shutdown (a power-off waits for a signal), and whether a
/// CODE/VARS mismatch is refused (opt-in) or only warned about, as QEMU boots any pair.
/// </summary>
public sealed record QemuBehaviour(bool NoShutdown, bool RefuseMismatch);

/// <summary>The options of <c>boot</c>, validated: files exist and are readable, numbers are numbers.</summary>
public sealed record BootOptions
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>
    {
        "--code", "--vars", "--firmware", "--memory", "--until", "--max-instructions", "--report", "--trace", "--trace-limit", "--flash-log",
        "--serial-log", "--debugcon", "--pace", "--rtc-start", "--max-resets", "--vm", "--save-state", "--save-state-at", "--restore",
    };

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string> { "--unassigned-zero", "--snapshot", "--quiet", "--verbose", "--exact-waits", "--no-status", "--no-reboot", "--force", "--timeline", "--interpret", "--no-hang-detect" };

    public const string SerialInputOption = "--serial-input";
    public const string ExpectOption = "--expect";
    public const string SendOption = "--send";

    /// <summary>Console input steps, kept in command-line order.</summary>
    public static readonly IReadOnlySet<string> RepeatableOptions = new HashSet<string> { SerialInputOption, ExpectOption, SendOption };

    public const string PaceRealTime = "realtime";
    public const string PaceOff = "off";
    public const string PaceAuto = "auto";

    public const long DefaultMaxInstructions = 5_000_000_000;
    public const long DefaultTraceLimit = 1_000_000;

    public string? Code { get; init; }

    public string? Vars { get; init; }

    public string? Firmware { get; init; }

    /// <summary>The VM whose varstore copy a boot without firmware options uses (<see cref="DefaultFirmware"/>).</summary>
    public string? Vm { get; init; }

    /// <summary>What <see cref="DefaultFirmware"/> chose when no firmware was named; null when the user named it.</summary>
    public Reporting.FirmwareChoiceInfo? FirmwareChoice { get; init; }

    public ulong Memory { get; init; } = Core.Machine.MachineOptions.DefaultRamSize;

    /// <summary>Whether --memory was given (a restore refuses a size other than the state's).</summary>
    public bool MemoryGiven { get; init; }

    /// <summary>Where to write the machine's state when the run stops (<see cref="StateFiles"/>).</summary>
    public string? SaveState { get; init; }

    /// <summary>States to write on the way, each when its milestone is reached (the run goes on): milestone to file.</summary>
    public IReadOnlyDictionary<string, string> SaveStateAt { get; init; } = new Dictionary<string, string>();

    /// <summary>The state file to continue from.</summary>
    public string? Restore { get; init; }

    /// <summary>The state file read (set by <see cref="StateFiles.ForRestore"/>).</summary>
    public Core.Machine.MachineStateFile.Loaded? Restored { get; init; }

    public string? Until { get; init; }

    public long MaxInstructions { get; init; } = DefaultMaxInstructions;

    public string? Report { get; init; }

    public string? Trace { get; init; }

    public string? FlashLog { get; init; }

    public long TraceLimit { get; init; } = DefaultTraceLimit;

    public bool UnassignedZero { get; init; }

    /// <summary>Never write the varstore (QEMU's snapshot=on): guest writes last for the run only.</summary>
    public bool Snapshot { get; init; }

    public bool Quiet { get; init; }

    /// <summary>Boot a CODE/VARS pair that fails the compatibility check anyway; the run then uses snapshot mode.</summary>
    public bool Force { get; init; }

    /// <summary>Print the module timeline (first instruction, instructions inside) on stderr after the run.</summary>
    public bool Timeline { get; init; }

    /// <summary><c>--serial-input</c>, <c>--expect</c> and <c>--send</c> in order (see <see cref="Serial.SerialScript"/>).</summary>
    public IReadOnlyList<(string Name, string Value)> SerialSteps { get; init; } = [];

    public string? SerialLog { get; init; }

    /// <summary>File for the debug console port 0x402 (OVMF DEBUG builds log there).</summary>
    public string? DebugCon { get; init; }

    /// <summary><c>realtime</c>, <c>off</c> or <c>auto</c> (real time when a person types at a terminal).</summary>
    public string Pace { get; init; } = PaceAuto;

    /// <summary>What the RTC shows at virtual time 0.</summary>
    public DateTime? RtcStart { get; init; }

    /// <summary>Every busy-wait costs its full instructions (no skipping): for measuring, or doubt.</summary>
    public bool ExactWaits { get; init; }

    /// <summary>Run every block in the interpreter: no block compilation (for comparisons and debugging).</summary>
    public bool Interpret { get; init; }

    public bool NoStatus { get; init; }

    /// <summary>Stop a firmware that spins in a dead loop with stop reason <c>hang</c> (<see cref="HangDetector"/>); off with --no-hang-detect.</summary>
    public bool HangDetection { get; init; } = true;

    // Set by the QEMU front end (Qemu/QemuCommand.cs); boot's own options leave the defaults.

    /// <summary>The ISA serial ports and their backends; boot has COM1 on the console.</summary>
    public IReadOnlyList<Serial.SerialPortSpec> SerialPorts { get; init; } = [new(0, Serial.SerialBackend.Console)];

    /// <summary>The debug console's backend when it is not <see cref="DebugCon"/>'s file (QEMU's -debugcon).</summary>
    public Serial.SerialBackend? DebugConBackend { get; init; }

    /// <summary>The debug console's I/O port (0x402 for OVMF; QEMU's isa-debugcon default is 0xE9).</summary>
    public ushort DebugConPort { get; init; } = Core.Devices.Misc.DebugCon.Port;

    /// <summary>QEMU's -bios: the image mapped as ROM (no flash, so OVMF keeps variables in memory).</summary>
    public string? Bios { get; init; }

    /// <summary>Unit 0 (<see cref="Code"/>) writable and persisted like a varstore (QEMU's readonly=off).</summary>
    public bool CodeWritable { get; init; }

    /// <summary>Unit 1 (<see cref="Vars"/>) read-only: the chip rejects writes, the file is never written (readonly=on).</summary>
    public bool VarsReadOnly { get; init; }

    /// <summary>Live console keys: Ctrl-A x quits (QEMU's mux), and Ctrl-C stops the machine (stdio's signal=on) instead of reaching the guest.</summary>
    public (bool Mux, bool Signals) ConsoleKeys { get; init; } = (true, false);

    /// <summary>QEMU's exit statuses and varstore policy instead of boot's (null for boot).</summary>
    public QemuBehaviour? Qemu { get; init; }

    /// <summary>A guest reset ends the run (QEMU's -no-reboot) instead of restarting the machine.</summary>
    public bool NoReboot { get; init; }

    /// <summary>The machine without its HPET (QEMU's -no-hpet; set by the QEMU drop-in only).</summary>
    public bool NoHpet { get; init; }

    /// <summary>Machine resets allowed before the run stops as a reset loop.</summary>
    public int MaxResets { get; init; } = Core.Machine.PcMachine.DefaultMaxResets;

    public bool Verbose { get; init; }

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
            MaxInstructions = a.GetLong("--max-instructions") ?? DefaultMaxInstructions,
            Report = a.Get("--report"),
            Trace = a.Get("--trace"),
            FlashLog = a.Get("--flash-log"),
            TraceLimit = a.GetLong("--trace-limit") ?? DefaultTraceLimit,
            UnassignedZero = a.Has("--unassigned-zero"),
            Snapshot = a.Has("--snapshot"),
            Quiet = a.Has("--quiet"),
            Force = a.Has("--force"),
            Timeline = a.Has("--timeline"),
            Verbose = a.Has("--verbose"),
            SerialSteps = a.GetAll(),
            SerialLog = a.Get("--serial-log"),
            DebugCon = a.Get("--debugcon"),
            Pace = a.Get("--pace") ?? PaceAuto,
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
        o.Validate(a);
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

    private static bool SamePath(string a, string b)
    {
        try
        {
            return string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or PathTooLongException or NotSupportedException)
        {
            return false;
        }
    }

    private void Validate(ArgumentReader a)
    {
        if (Firmware != null && (Code != null || Vars != null))
        {
            throw new UsageException("use either --firmware (a unified image) or --code/--vars, not both");
        }

        if (Vm != null)
        {
            // --vm names the copy of the firmware emu finds itself (DefaultFirmware); named files have their own varstore.
            string? named = Vars != null ? "--vars" : Code != null ? "--code" : Firmware != null ? "--firmware" : null;
            if (named != null)
            {
                throw new UsageException($"--vm picks the varstore of the firmware emu finds itself: not with {named} (give the varstore as --vars FILE)");
            }

            DefaultFirmware.CheckVmName(Vm);
        }

        if (Firmware == null && Code == null && Vars != null && Restore == null)
        {
            throw new UsageException("--vars needs --code (pflash1 requires pflash0)");
        }

        if (Code != null && Vars != null && SamePath(Code, Vars))
        {
            throw new UsageException("--code and --vars are the same file: the code chip is read-only, the varstore is written");
        }

        if (Until != null && !MilestoneTracker.KnownNames.Contains(Until))
        {
            throw new UsageException($"unknown milestone '{Until}' (known: {string.Join(", ", MilestoneTracker.KnownNames)})");
        }

        if (a.Has("--trace-limit") && Trace == null)
        {
            throw new UsageException("--trace-limit needs --trace FILE");
        }

        if (Pace is not (PaceAuto or PaceRealTime or PaceOff))
        {
            throw new UsageException($"--pace must be {PaceAuto}, {PaceRealTime} or {PaceOff}, not '{Pace}'");
        }

        foreach (var (name, value) in SerialSteps)
        {
            if (value.Length == 0)
            {
                throw new UsageException($"{name} needs text");
            }

            if (value == "-" && name != SerialInputOption)
            {
                throw new UsageException($"'-' (live stdin) is only for {SerialInputOption}");
            }
        }

        CheckOutputs();
        if (a.Has("--max-instructions") && MaxInstructions == 0)
        {
            throw new UsageException("--max-instructions must be at least 1");
        }
    }

    /// <summary>No output file may overwrite an input, and each must have a directory to go in.</summary>
    internal void CheckOutputs()
    {
        var outputs = new[] { ("--report", Report), ("--trace", Trace), ("--flash-log", FlashLog), ("--serial-log", SerialLog), ("--debugcon", DebugCon), ("--save-state", SaveState) }
            .Concat(SaveStateAt.Values.Select(f => ("--save-state-at", (string?)f)));
        foreach (var (option, output) in outputs)
        {
            if (output == null)
            {
                continue;
            }

            foreach (var input in new[] { Code, Vars, Firmware, Restore })
            {
                if (input != null && SamePath(input, output))
                {
                    throw new UsageException($"{option} '{output}' would overwrite a firmware input file");
                }
            }

            OutputPaths.Check(option, output);
        }
    }
}
