using System.Globalization;
using Emulator.Cli.CommandLine;

namespace Emulator.Cli.Bench;

/// <summary>The options of <c>bench flash</c>, validated.</summary>
public sealed record BenchOptions
{
    public const string FlashTarget = "flash";
    public const string PartDevice = "device";
    public const string PartGuest = "guest";
    public const string PartNone = "none";

    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string> { "--seconds", "--chip", "--bytes", "--passes", "--json", "--write-image", "--only", "--file-dir" };

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string> { "--no-file" };

    public const double DefaultSeconds = 0.5;
    public const double MaxSeconds = 600;
    public const int DefaultChipBytes = 256 << 10;
    public const int DefaultRegionBytes = 1 << 20;
    public const int DefaultPasses = 4;
    public const int MaxPasses = 1_000_000;

    /// <summary>Wall time of each device-level measurement (after its warm-up).</summary>
    public double Seconds { get; init; } = DefaultSeconds;

    /// <summary>Size of the chip the device-level kernels sweep.</summary>
    public int ChipBytes { get; init; } = DefaultChipBytes;

    /// <summary>The guest workload's region: every byte erased and programmed per pass.</summary>
    public int RegionBytes { get; init; } = DefaultRegionBytes;

    public int Passes { get; init; } = DefaultPasses;

    public string? Json { get; init; }

    /// <summary>Directory for the workload's code and vars images (for QEMU).</summary>
    public string? WriteImage { get; init; }

    /// <summary>
    /// Where the persisted figures write their scratch varstore files (default: the system's
    /// temporary directory); null with <c>--no-file</c>, which skips them.
    /// </summary>
    public string? FileDirectory { get; init; } = Path.GetTempPath();

    public bool RunDevice { get; init; } = true;

    public bool RunGuest { get; init; } = true;

    public static BenchOptions Parse(IEnumerable<string> args)
    {
        var a = new ArgumentReader(args, ValueOptions, FlagOptions);
        if (a.Positionals.Count == 0)
        {
            throw new UsageException($"bench needs a target: emu bench {FlashTarget} [options]");
        }

        if (a.Positionals[0] != FlashTarget)
        {
            throw new UsageException($"unknown bench target '{a.Positionals[0]}' (known: {FlashTarget})");
        }

        if (a.Positionals.Count > 1)
        {
            throw new UsageException($"unexpected argument '{a.Positionals[1]}'");
        }

        string only = a.Get("--only") ?? "all";
        if (only is not ("all" or PartDevice or PartGuest or PartNone))
        {
            throw new UsageException($"--only must be {PartDevice}, {PartGuest} or {PartNone}, not '{only}'");
        }

        var o = new BenchOptions
        {
            Seconds = a.Get("--seconds") is { } s ? ParseSeconds(s) : DefaultSeconds,
            ChipBytes = a.Get("--chip") is { } c ? ParseBlocks("--chip", c) : DefaultChipBytes,
            RegionBytes = a.Get("--bytes") is { } b ? ParseBlocks("--bytes", b) : DefaultRegionBytes,
            Passes = (int)Math.Min(a.GetLong("--passes") ?? DefaultPasses, int.MaxValue),
            Json = a.Get("--json"),
            WriteImage = a.Get("--write-image"),
            FileDirectory = a.Has("--no-file") ? null : a.Get("--file-dir") ?? Path.GetTempPath(),
            RunDevice = only is "all" or PartDevice,
            RunGuest = only is "all" or PartGuest,
        };

        if (o.Passes is < 1 or > MaxPasses)
        {
            throw new UsageException($"--passes must be between 1 and {MaxPasses}");
        }

        if (o.Json != null)
        {
            OutputPaths.Check("--json", o.Json);
        }

        if (only == PartNone && o.WriteImage == null)
        {
            throw new UsageException("--only none measures nothing: give --write-image DIR, or another --only");
        }

        if (a.Has("--no-file") && a.Has("--file-dir"))
        {
            throw new UsageException("--no-file and --file-dir contradict each other");
        }

        if (o.FileDirectory != null && !Directory.Exists(o.FileDirectory))
        {
            throw new UsageException($"--file-dir '{o.FileDirectory}' is not a directory");
        }

        if (o.WriteImage != null && File.Exists(OutputPaths.FullPath("--write-image", o.WriteImage)))
        {
            throw new UsageException($"--write-image '{o.WriteImage}' is a file, not a directory");
        }

        return o;
    }

    private static double ParseSeconds(string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s > 0) || s > MaxSeconds)
        {
            throw new UsageException($"--seconds needs a number of seconds above 0 and at most {MaxSeconds}, not '{text}'");
        }

        return s;
    }

    /// <summary>A byte count with an optional K or M suffix: a whole number of 4 KiB blocks, 4 KiB to 4 MiB.</summary>
    private static int ParseBlocks(string option, string text)
    {
        string t = text.Trim().Replace("_", string.Empty, StringComparison.Ordinal);
        long multiplier = 1;
        if (t.Length > 0 && char.ToUpperInvariant(t[^1]) is 'K' or 'M')
        {
            multiplier = char.ToUpperInvariant(t[^1]) == 'K' ? 1 << 10 : 1 << 20;
            t = t[..^1];
        }

        if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
        {
            throw new UsageException($"{option} needs a size such as 64K or 1M, not '{text}'");
        }

        long bytes = n > FlashWorkload.MaxRegionBytes ? long.MaxValue : n * multiplier;
        if (bytes > FlashWorkload.MaxRegionBytes || bytes < FlashWorkload.BlockSize || bytes % FlashWorkload.BlockSize != 0)
        {
            throw new UsageException($"{option} must be a whole number of 4 KiB blocks between 4K and {FlashWorkload.MaxRegionBytes >> 20}M, not '{text}'");
        }

        return (int)bytes;
    }
}
