using System.CommandLine;
using System.Globalization;
using Emulator.Hosting.Bench;
using static Emulator.Cli.CommandLine.CommandOptions;

namespace Emulator.Cli.CommandLine;

/// <summary><c>emu bench</c>'s options (System.CommandLine) and their reading into <see cref="BenchOptions"/>, validated.</summary>
internal static class BenchOptionsParser
{
    public static Command CreateCommand() => new("bench", "flash write throughput: device level, guest level, images for QEMU")
    {
        Positional("TARGET", $"what to measure: {BenchOptions.FlashTarget}", BenchOptions.FlashTarget),
        Value("--seconds", "S", $"wall time of each device-level figure (default {BenchOptions.DefaultSeconds})"),
        Value("--chip", "SIZE", $"the chip the device-level kernels sweep (default {BenchOptions.DefaultChipBytes >> 10}K)"),
        Value("--bytes", "SIZE", $"the guest workload's region (default {BenchOptions.DefaultRegionBytes >> 20}M)"),
        Count("--passes", "N", $"guest passes over the region (default {BenchOptions.DefaultPasses})"),
        Value("--guest-path", "PATH", $"{BenchOptions.GuestPathDirect}|{BenchOptions.GuestPathSmm}: the guest writes the chip itself (pc), or asks an SMI handler in TSEG (q35, secure flash) (default {BenchOptions.GuestPathDirect})", BenchOptions.GuestPathDirect, BenchOptions.GuestPathSmm),
        Count("--smi-bytes", "N", $"with --guest-path {BenchOptions.GuestPathSmm}: bytes programmed per SMI (default {FlashWorkload.DefaultSmiBytes}, at most {FlashWorkload.MaxSmiBytes})"),
        Value("--only", "PART", $"{BenchOptions.PartDevice}|{BenchOptions.PartGuest}|{BenchOptions.PartNone}: measure one part (default both)", BenchOptions.PartDevice, BenchOptions.PartGuest, BenchOptions.PartNone),
        Value("--json", "FILE", "write the figures as JSON"),
        Value("--write-image", "DIR", "write the workload's code and vars images there (for QEMU)"),
        Value("--file-dir", "DIR", "scratch varstores for the persisted figures (default: the temporary directory)"),
        Flag("--no-file", "skip the persisted figures"),
    };

    /// <summary>A bench command line (the words after <c>bench</c>) to options; a <see cref="UsageException"/> for bad usage.</summary>
    public static BenchOptions Parse(IEnumerable<string> args) => Read(EmuCommandLine.ParseOne(CreateCommand(), args));

    public static BenchOptions Read(ParsedArguments a)
    {
        if (a.Positionals.Count == 0)
        {
            throw new UsageException($"bench needs a target: emu bench {BenchOptions.FlashTarget} [options]");
        }

        if (a.Positionals[0] != BenchOptions.FlashTarget)
        {
            throw new UsageException($"unknown bench target '{a.Positionals[0]}' (known: {BenchOptions.FlashTarget})");
        }

        if (a.Positionals.Count > 1)
        {
            throw new UsageException($"unexpected argument '{a.Positionals[1]}'");
        }

        string only = a.Get("--only") ?? "all";
        if (only is not ("all" or BenchOptions.PartDevice or BenchOptions.PartGuest or BenchOptions.PartNone))
        {
            throw new UsageException($"--only must be {BenchOptions.PartDevice}, {BenchOptions.PartGuest} or {BenchOptions.PartNone}, not '{only}'");
        }

        string guestPath = a.Get("--guest-path") ?? BenchOptions.GuestPathDirect;
        if (guestPath is not (BenchOptions.GuestPathDirect or BenchOptions.GuestPathSmm))
        {
            throw new UsageException($"--guest-path must be {BenchOptions.GuestPathDirect} or {BenchOptions.GuestPathSmm}, not '{guestPath}'");
        }

        long smiBytes = a.GetLong("--smi-bytes") ?? FlashWorkload.DefaultSmiBytes;
        if (a.Has("--smi-bytes") && guestPath != BenchOptions.GuestPathSmm)
        {
            throw new UsageException($"--smi-bytes goes with --guest-path {BenchOptions.GuestPathSmm}");
        }

        if (smiBytes is < 1 or > FlashWorkload.MaxSmiBytes)
        {
            throw new UsageException($"--smi-bytes must be between 1 and {FlashWorkload.MaxSmiBytes}");
        }

        var o = new BenchOptions
        {
            Seconds = a.Get("--seconds") is { } s ? ParseSeconds(s) : BenchOptions.DefaultSeconds,
            ChipBytes = a.Get("--chip") is { } c ? ParseBlocks("--chip", c) : BenchOptions.DefaultChipBytes,
            RegionBytes = a.Get("--bytes") is { } b ? ParseBlocks("--bytes", b) : BenchOptions.DefaultRegionBytes,
            Passes = (int)Math.Min(a.GetLong("--passes") ?? BenchOptions.DefaultPasses, int.MaxValue),
            GuestPath = guestPath == BenchOptions.GuestPathSmm ? FlashGuestPath.Smm : FlashGuestPath.Direct,
            SmiBytes = (int)smiBytes,
            Json = a.Get("--json"),
            WriteImage = a.Get("--write-image"),
            FileDirectory = a.Has("--no-file") ? null : a.Get("--file-dir") ?? Path.GetTempPath(),
            RunDevice = only is "all" or BenchOptions.PartDevice,
            RunGuest = only is "all" or BenchOptions.PartGuest,
        };

        if (o.Passes is < 1 or > BenchOptions.MaxPasses)
        {
            throw new UsageException($"--passes must be between 1 and {BenchOptions.MaxPasses}");
        }

        if (o.Json != null)
        {
            OutputPaths.Check("--json", o.Json);
        }

        if (only == BenchOptions.PartNone && o.WriteImage == null)
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
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s > 0) || s > BenchOptions.MaxSeconds)
        {
            throw new UsageException($"--seconds needs a number of seconds above 0 and at most {BenchOptions.MaxSeconds}, not '{text}'");
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
