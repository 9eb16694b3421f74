namespace Emulator.Storage.Inspection;

/// <summary>What an image holds, as far as booting it goes: for a report, and for choosing disk or CD-ROM.</summary>
/// <param name="Iso9660">An ISO 9660 primary volume descriptor ("CD001" at byte 0x8001).</param>
/// <param name="VolumeId">The ISO volume identifier, trimmed; null when not ISO 9660.</param>
/// <param name="ElTorito">The El Torito boot catalog; null when there is none (or it is invalid).</param>
/// <param name="PartitionTable">The partition table in the first 512-byte sectors.</param>
/// <param name="Partitions">Its used entries, in table order.</param>
public sealed record DiskImageFacts(
    bool Iso9660,
    string? VolumeId,
    ElToritoCatalog? ElTorito,
    PartitionTableKind PartitionTable,
    IReadOnlyList<PartitionEntry> Partitions)
{
    /// <summary>One line for a report, e.g. "ISO 9660 'DEBIAN', El Torito: EFI (no emulation, LBA 1234), MBR: 2 partitions".</summary>
    public string Summary()
    {
        var parts = new List<string>();
        if (Iso9660)
        {
            parts.Add(string.IsNullOrEmpty(VolumeId) ? "ISO 9660" : $"ISO 9660 '{VolumeId}'");
        }

        if (ElTorito != null)
        {
            parts.Add("El Torito: " + (ElTorito.Entries.Count == 0 ? "no entries" : string.Join(", ", ElTorito.Entries.Select(e => e.Describe()))));
        }

        parts.Add(PartitionTable switch
        {
            PartitionTableKind.None => "no partition table",
            _ => $"{PartitionTable}: {Partitions.Count} partition{(Partitions.Count == 1 ? "" : "s")}",
        });
        return string.Join(", ", parts);
    }
}

/// <summary>Which partition table the image carries (edk2 PartitionDxe tries GPT, then El Torito/UDF, then MBR).</summary>
public enum PartitionTableKind
{
    None,
    Mbr,
    Gpt,
}

/// <summary>A used MBR or GPT entry: where it is (512-byte LBAs) and what it says it is.</summary>
/// <param name="Number">1-based, as firmware device paths number partitions.</param>
/// <param name="Type">MBR type as "0xEF" or the GPT type GUID.</param>
/// <param name="TypeName">A well-known name for the type ("EFI system"), or null.</param>
public sealed record PartitionEntry(int Number, long FirstLba, long Sectors, string Type, string? TypeName, bool Bootable, string? Name);

/// <summary>An El Torito boot catalog (El Torito Bootable CD-ROM Format Specification 1.0, section 2).</summary>
/// <param name="Entries">The default entry and every section entry, in catalog order.</param>
public sealed record ElToritoCatalog(long CatalogSector, IReadOnlyList<ElToritoEntry> Entries)
{
    /// <summary>Platform 0xEF: what OVMF boots from a CD (its \EFI\BOOT\BOOTX64.EFI lives in the image the entry names).</summary>
    public const byte EfiPlatform = 0xEF;

    public bool HasEfiEntry => Entries.Any(e => e.Platform == EfiPlatform);
}

/// <summary>One boot entry: the platform of its section (or of the validation entry, for the default entry).</summary>
/// <param name="MediaType">0 no emulation, 1–3 floppy emulation, 4 hard disk emulation.</param>
/// <param name="SectorCount">Virtual (512-byte) sectors to load; 0 for EFI entries means "to the end" to edk2 (ElTorito.c).</param>
/// <param name="LoadRba">The image's first 2048-byte CD sector.</param>
public sealed record ElToritoEntry(byte Platform, bool Bootable, byte MediaType, ushort SectorCount, uint LoadRba)
{
    public string Describe()
    {
        string platform = Platform switch
        {
            0 => "x86 BIOS",
            1 => "PowerPC",
            2 => "Mac",
            ElToritoCatalog.EfiPlatform => "EFI",
            _ => $"platform 0x{Platform:X2}",
        };
        string media = MediaType switch
        {
            0 => "no emulation",
            1 or 2 or 3 => "floppy emulation",
            4 => "hard disk emulation",
            _ => $"media 0x{MediaType:X2}",
        };
        return $"{platform} ({media}, LBA {LoadRba}{(Bootable ? "" : ", not bootable")})";
    }
}
