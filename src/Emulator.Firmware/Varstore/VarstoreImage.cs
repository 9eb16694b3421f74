namespace Emulator.Firmware.Varstore;

/// <summary>
/// A parsed OVMF varstore (OVMF_VARS.fd, or the first volume of a unified OVMF.fd): the firmware
/// volume header with gEfiSystemNvDataFvGuid, the variable store header and its records, the
/// fault-tolerant-write working block and spare area. Parsing never throws, whatever the bytes:
/// what is wrong is listed in <see cref="Issues"/>, each with its offset and what the firmware
/// does about it (<see cref="VarstoreIssueClass"/>); <see cref="Errors"/> are the rejections,
/// <see cref="Warnings"/> the rest.
/// </summary>
public sealed class VarstoreImage
{
    internal VarstoreImage(ReadOnlyMemory<byte> bytes)
    {
        Bytes = bytes;
    }

    /// <summary>The whole buffer parsed, including anything after the volume.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    public Guid FileSystemGuid { get; internal set; }

    public long FvLength { get; internal set; }

    public int FvHeaderLength { get; internal set; }

    public uint FvAttributes { get; internal set; }

    public bool FvChecksumValid { get; internal set; }

    public byte FvRevision { get; internal set; }

    public IReadOnlyList<FvBlockMapEntry> BlockMap { get; internal set; } = [];

    /// <summary>Offset of the VARIABLE_STORE_HEADER (the FV header length), or -1 when it could not be located.</summary>
    public int StoreOffset { get; internal set; } = -1;

    public Guid StoreGuid { get; internal set; }

    /// <summary>VARIABLE_STORE_HEADER.Size: header plus record area.</summary>
    public int StoreSize { get; internal set; }

    public byte StoreFormat { get; internal set; }

    public byte StoreState { get; internal set; }

    public bool IsAuthenticated => StoreGuid == VariableGuids.AuthenticatedVariableStore;

    /// <summary>Every record found, in store order, deleted and incomplete ones included.</summary>
    public IReadOnlyList<VariableRecord> Records { get; internal set; } = [];

    /// <summary>Offset of the first byte after the last record: where the firmware appends the next one.</summary>
    public int EndOfRecords { get; internal set; }

    public FtwWorkingBlock? Ftw { get; internal set; }

    /// <summary>True when the volume is followed by more firmware volumes (a unified OVMF.fd).</summary>
    public bool IsUnifiedImage { get; internal set; }

    /// <summary>Every problem found, with its offset and class, in the order the checks ran.</summary>
    public IReadOnlyList<VarstoreIssue> Issues { get; internal set; } = [];

    /// <summary>The <see cref="VarstoreIssueClass.Reject"/> issues: the firmware would not accept the store as it is.</summary>
    public IReadOnlyList<string> Errors { get; internal set; } = [];

    /// <summary>The repairs and notes: the firmware accepts the store, possibly rewriting part of it.</summary>
    public IReadOnlyList<string> Warnings { get; internal set; } = [];

    /// <summary>
    /// Records whose header follows a broken one: the firmware's walk never reaches them, and the
    /// reclaim it then runs drops them (found by scanning on for StartId 0x55AA headers).
    /// </summary>
    public IReadOnlyList<VariableRecord> UnreachableRecords { get; internal set; } = [];

    /// <summary>The FV and store headers were found, so records can be listed and written.</summary>
    public bool IsUsable => StoreOffset >= 0;

    /// <summary>The firmware accepts the store (it may still repair parts of it: <see cref="NeedsRepair"/>).</summary>
    public bool IsValid => IsUsable && Errors.Count == 0;

    /// <summary>The firmware would rewrite part of the store at its next boot.</summary>
    public bool NeedsRepair => Issues.Any(i => i.Class == VarstoreIssueClass.Repair);

    /// <summary>Everything after the last record up to the end of the store is 0xFF, where the firmware (and <c>vars set</c>) appends.</summary>
    public bool FreeSpaceErased { get; internal set; }

    public int StoreEnd => StoreOffset + StoreSize;

    public int FreeBytes => IsUsable ? StoreEnd - EndOfRecords : 0;

    /// <summary>Bytes held by deleted or incomplete records: what the firmware's reclaim would win back.</summary>
    public int ReclaimableBytes => Records.Where(r => !r.IsLive).Sum(r => r.AlignedLength);

    public IEnumerable<VariableRecord> LiveVariables => Records.Where(r => r.IsLive);

    /// <summary>Parses <paramref name="bytes"/>; the model refers to them without copying.</summary>
    public static VarstoreImage Parse(ReadOnlyMemory<byte> bytes) => VarstoreParser.Parse(bytes);

    /// <summary>The live variable with this name (and vendor GUID when given); null when none.</summary>
    /// <exception cref="InvalidOperationException">Several live variables share the name and no GUID was given.</exception>
    public VariableRecord? Find(string name, Guid? vendor)
    {
        var matches = LiveVariables.Where(r => r.Name == name && (vendor is null || r.VendorGuid == vendor)).ToList();
        if (matches.Count > 1)
        {
            throw new InvalidOperationException(
                $"{matches.Count} variables are named '{name}' ({string.Join(", ", matches.Select(m => m.VendorGuid))}): give the vendor GUID");
        }

        return matches.SingleOrDefault();
    }
}
