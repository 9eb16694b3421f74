namespace Emulator.Hosting.Bench;

/// <summary>The options of <c>bench flash</c> (the command line's are read by the CLI's BenchOptionsParser).</summary>
internal sealed record BenchOptions
{
    public const string FlashTarget = "flash";
    public const string PartDevice = "device";
    public const string PartGuest = "guest";
    public const string PartNone = "none";
    public const string GuestPathDirect = "direct";
    public const string GuestPathSmm = "smm";

    public const double DefaultSeconds = 0.5;
    public const double MaxSeconds = 600;
    public const int DefaultChipBytes = 256 << 10;
    public const int DefaultRegionBytes = 1 << 20;
    public const int DefaultPasses = 4;
    public const int MaxPasses = 1_000_000;

    /// <summary>The <c>--guest-path</c> word for <paramref name="path"/> (also the reports' <c>guestPath</c>).</summary>
    public static string NameOf(FlashGuestPath path) => path == FlashGuestPath.Smm ? GuestPathSmm : GuestPathDirect;

    /// <summary>Wall time of each device-level measurement (after its warm-up).</summary>
    public double Seconds { get; init; } = DefaultSeconds;

    /// <summary>Size of the chip the device-level kernels sweep.</summary>
    public int ChipBytes { get; init; } = DefaultChipBytes;

    /// <summary>The guest workload's region: every byte erased and programmed per pass.</summary>
    public int RegionBytes { get; init; } = DefaultRegionBytes;

    public int Passes { get; init; } = DefaultPasses;

    /// <summary>How the guest workload writes the chip: itself on pc, or through SMIs on q35 with secure flash.</summary>
    public FlashGuestPath GuestPath { get; init; } = FlashGuestPath.Direct;

    /// <summary>On the SMM path, the bytes each program request (one SMI) carries.</summary>
    public int SmiBytes { get; init; } = FlashWorkload.DefaultSmiBytes;

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
}
