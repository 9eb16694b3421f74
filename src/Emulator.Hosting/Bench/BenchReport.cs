using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Bench;

/// <summary>The JSON written by <c>bench flash --json</c> (camelCase; docs/performance.md, "Flash write throughput").</summary>
internal sealed record BenchReport
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required ToolInfo Tool { get; init; }

    public required string Runtime { get; init; }

    public int ProcessorCount { get; init; }

    public double SecondsPerDeviceFigure { get; init; }

    public int ChipBytes { get; init; }

    /// <summary>Where the persisted figures' scratch varstore files went (null: none measured).</summary>
    public string? FileDirectory { get; init; }

    public required IReadOnlyList<DeviceFigureInfo> Device { get; init; }

    /// <summary>The workload as <c>boot --snapshot</c> runs it, then (unless <c>--no-file</c>) with a vars file.</summary>
    public required IReadOnlyList<GuestFigureInfo> Guest { get; init; }

    public ImagesInfo? Images { get; init; }
}

/// <summary>
/// File: For the persisted figure: what reached the file.
/// </summary>
internal sealed record DeviceFigureInfo(string Name, long Operations, long Bytes, double Seconds, double CpuSeconds, double OperationsPerSecond, double OperationsPerCpuSecond, double BytesPerSecond, double NanosecondsPerOperation, double AllocatedBytesPerOperation, FileCostInfo? File)
{
    public static DeviceFigureInfo From(DeviceFigure f, FileCostInfo? file) =>
        new(f.Name, f.Operations, f.Bytes, f.Seconds, f.CpuSeconds, f.OperationsPerSecond, f.OperationsPerCpuSecond, f.BytesPerSecond, f.NanosecondsPerOperation, f.AllocatedBytesPerOperation, file);
}

/// <summary>
/// Mode: <c>snapshot</c> (no file) or <c>vars-file</c>.
/// GuestPath: <c>direct</c> or <c>smm</c>; the SMM figures (bytes per SMI, SMIs between the markers, their rate, the wall time of one round trip, instructions in SMM) are null on the direct path.
/// </summary>
internal sealed record GuestFigureInfo(string Mode, int RegionBytes, int Passes, long BytesProgrammed, long BlocksErased, long Instructions, double Seconds, double BytesPerSecond, double InstructionsPerByte, double Mips, FileCostInfo? File,
    string GuestPath, int? BytesPerSmi, long? Smis, double? SmisPerSecond, double? MicrosecondsPerSmi, long? SmmInstructions)
{
    public static GuestFigureInfo From(string mode, FlashWorkload w, GuestFigure g, FileCostInfo? file)
    {
        bool smm = w.Path == FlashGuestPath.Smm;
        return new(mode, w.RegionBytes, w.Passes, g.BytesProgrammed, g.BlocksErased, g.Instructions, g.Seconds, g.BytesPerSecond, g.InstructionsPerByte, g.Mips, file,
            BenchOptions.NameOf(w.Path), smm ? w.SmiBytes : null, smm ? g.Smis : null, smm ? g.SmisPerSecond : null, smm ? g.MicrosecondsPerSmi : null, smm ? g.SmmInstructions : null);
    }
}

/// <summary>
/// BytesPerSecond: Bytes persisted per second, from the first write until the file was durable.
/// </summary>
internal sealed record FileCostInfo(long BytesPersisted, double BytesPerSecond, double DrainSeconds, long Syncs, long JournalRecords)
{
    public static FileCostInfo From(FileCost c, double bytesPerSecond) => new(c.BytesPersisted, bytesPerSecond, c.DrainSeconds, c.Syncs, c.JournalRecords);
}

/// <summary>
/// GuestPath: which workload the images hold; on the SMM path also its bytes per SMI and the SMIs it takes between its markers.
/// </summary>
internal sealed record ImagesInfo(string Code, int CodeBytes, string Vars, int VarsBytes, string ExpectedVars, int RegionBytes, int Passes, string GuestPath, int? BytesPerSmi, long? Smis);
