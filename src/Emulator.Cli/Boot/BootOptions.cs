using Emulator.Cli.CommandLine;

namespace Emulator.Cli.Boot;

/// <summary>The options of <c>boot</c>, validated: files exist and are readable, numbers are numbers.</summary>
public sealed record BootOptions
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>
    {
        "--code", "--vars", "--firmware", "--memory", "--until", "--max-instructions", "--report", "--trace", "--trace-limit", "--flash-log",
    };

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string> { "--unassigned-zero", "--snapshot", "--quiet", "--verbose" };

    public const long DefaultMaxInstructions = 5_000_000_000;
    public const long DefaultTraceLimit = 1_000_000;

    public string? Code { get; init; }

    public string? Vars { get; init; }

    public string? Firmware { get; init; }

    public ulong Memory { get; init; } = Core.Machine.MachineOptions.DefaultRamSize;

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

    public bool Verbose { get; init; }

    public static BootOptions Parse(IEnumerable<string> args)
    {
        var a = new ArgumentReader(args, ValueOptions, FlagOptions);
        if (a.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{a.Positionals[0]}'");
        }

        var o = new BootOptions
        {
            Code = a.Get("--code"),
            Vars = a.Get("--vars"),
            Firmware = a.Get("--firmware"),
            Memory = a.Get("--memory") is { } m ? SizeParser.ParseMemory(m) : Core.Machine.MachineOptions.DefaultRamSize,
            Until = a.Get("--until"),
            MaxInstructions = a.GetLong("--max-instructions") ?? DefaultMaxInstructions,
            Report = a.Get("--report"),
            Trace = a.Get("--trace"),
            FlashLog = a.Get("--flash-log"),
            TraceLimit = a.GetLong("--trace-limit") ?? DefaultTraceLimit,
            UnassignedZero = a.Has("--unassigned-zero"),
            Snapshot = a.Has("--snapshot"),
            Quiet = a.Has("--quiet"),
            Verbose = a.Has("--verbose"),
        };
        o.Validate(a);
        return o;
    }

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

        if (Firmware == null && Code == null)
        {
            throw new UsageException(Vars != null ? "--vars needs --code (pflash1 requires pflash0)" : "no firmware given: use --code FILE [--vars FILE] or --firmware FILE");
        }

        if (Until != null && !MilestoneTracker.KnownNames.Contains(Until))
        {
            throw new UsageException($"unknown milestone '{Until}' (known: {string.Join(", ", MilestoneTracker.KnownNames)})");
        }

        if (a.Has("--trace-limit") && Trace == null)
        {
            throw new UsageException("--trace-limit needs --trace FILE");
        }

        foreach (var (option, output) in new[] { ("--report", Report), ("--trace", Trace), ("--flash-log", FlashLog) })
        {
            if (output == null)
            {
                continue;
            }

            foreach (var input in new[] { Code, Vars, Firmware })
            {
                if (input != null && SamePath(input, output))
                {
                    throw new UsageException($"{option} '{output}' would overwrite a firmware input file");
                }
            }

            string? dir = Path.GetDirectoryName(Path.GetFullPath(output));
            if (dir != null && !Directory.Exists(dir))
            {
                throw new UsageException($"{option} '{output}': directory '{dir}' does not exist");
            }
        }

        if (a.Has("--max-instructions") && MaxInstructions == 0)
        {
            throw new UsageException("--max-instructions must be at least 1");
        }
    }
}
