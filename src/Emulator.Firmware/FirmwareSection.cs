namespace Emulator.Firmware;

/// <summary>
/// One section of a file (PI spec Vol 3, 3.2.4: EFI_COMMON_SECTION_HEADER/HEADER2). Encapsulation
/// sections (COMPRESSION, GUID_DEFINED) expose their decoded content as <see cref="Children"/>;
/// FIRMWARE_VOLUME_IMAGE sections expose the nested <see cref="Volume"/>.
/// </summary>
public sealed class FirmwareSection
{
    internal FirmwareSection()
    {
    }

    public FirmwareSectionType Type { get; internal init; }

    /// <summary>Offset of the section header within its parent (file data or decoded payload).</summary>
    public int Offset { get; internal init; }

    /// <summary>
    /// Offset of the section header in the top-level image, or null when it sits in decompressed data.
    /// </summary>
    public long? ImageOffset { get; internal init; }

    /// <summary>Whole section size, header included; from ExtendedSize when Size is 0xFFFFFF.</summary>
    public int Size { get; internal init; }

    /// <summary>4 for EFI_COMMON_SECTION_HEADER, 8 for EFI_COMMON_SECTION_HEADER2.</summary>
    public int HeaderLength { get; internal init; }

    /// <summary>Bytes after the common header (type-specific fields included).</summary>
    public ReadOnlyMemory<byte> Data { get; internal init; }

    /// <summary>SectionDefinitionGuid for GUID_DEFINED, SubTypeGuid for FREEFORM_SUBTYPE_GUID.</summary>
    public Guid? SectionGuid { get; internal init; }

    /// <summary>EFI_GUID_DEFINED_SECTION.Attributes (bit 0 PROCESSING_REQUIRED, bit 1 AUTH_STATUS_VALID).</summary>
    public ushort GuidedAttributes { get; internal init; }

    /// <summary>
    /// False for encapsulation sections whose content could not be decoded (unknown GUID, unsupported
    /// compression, corrupt stream); their raw bytes are still in <see cref="Data"/>.
    /// </summary>
    public bool IsDecoded { get; internal init; } = true;

    public IReadOnlyList<FirmwareSection> Children { get; internal init; } = [];

    /// <summary>The volume inside a FIRMWARE_VOLUME_IMAGE section.</summary>
    public FirmwareVolume? Volume { get; internal init; }

    /// <summary>Header of a PE32 or TE section.</summary>
    public PeImageInfo? Image { get; internal init; }

    /// <summary>The string of a USER_INTERFACE or VERSION section.</summary>
    public string? Text { get; internal init; }

    /// <summary>This section followed by all sections nested in it (not descending into volumes).</summary>
    public IEnumerable<FirmwareSection> SelfAndDescendants()
    {
        yield return this;
        foreach (FirmwareSection child in Children)
        {
            foreach (FirmwareSection nested in child.SelfAndDescendants())
            {
                yield return nested;
            }
        }
    }

    public override string ToString() => $"{Type} (0x{Size:X} bytes)";
}
