namespace Emulator.Firmware;

/// <summary>A firmware volume: EFI_FIRMWARE_VOLUME_HEADER plus its FFS files (PI spec Vol 3, 3.2.1).</summary>
public sealed class FirmwareVolume
{
    /// <summary>EFI_FVB2_ERASE_POLARITY: erased flash reads as 1 bits (PI spec Vol 3, 3.2.1.1).</summary>
    public const uint ErasePolarityAttribute = 0x0000_0800;

    internal FirmwareVolume()
    {
    }

    /// <summary>Offset of the volume header in the buffer it was found in.</summary>
    public long Offset { get; internal init; }

    /// <summary>
    /// Offset of the volume header in the top-level image, or null when the volume lives inside a
    /// decompressed section and so has no location in flash.
    /// </summary>
    public long? ImageOffset { get; internal init; }

    /// <summary>FileSystemGuid, e.g. <see cref="FirmwareGuids.FirmwareFileSystem2"/>.</summary>
    public Guid FileSystemGuid { get; internal init; }

    /// <summary>FvLength: the whole volume including its header.</summary>
    public long Length { get; internal init; }

    public uint Attributes { get; internal init; }

    public int HeaderLength { get; internal init; }

    /// <summary>True when the 16-bit sum of the HeaderLength header bytes is zero.</summary>
    public bool ChecksumValid { get; internal init; }

    public byte Revision { get; internal init; }

    public IReadOnlyList<FvBlockMapEntry> BlockMap { get; internal init; } = [];

    /// <summary>FvName from EFI_FIRMWARE_VOLUME_EXT_HEADER (PI spec Vol 3, 3.2.1.2), if present.</summary>
    public Guid? Name { get; internal init; }

    /// <summary>Files, in flash order. Empty for volumes that are not FFS2/FFS3 (e.g. a variable store).</summary>
    public IReadOnlyList<FfsFile> Files { get; internal set; } = [];

    /// <summary>The volume's bytes, header included.</summary>
    public ReadOnlyMemory<byte> Data { get; internal init; }

    public bool ErasePolarity => (Attributes & ErasePolarityAttribute) != 0;

    /// <summary>True for the file systems whose files this library decodes (FFS2 and FFS3).</summary>
    public bool IsFfs =>
        FileSystemGuid == FirmwareGuids.FirmwareFileSystem2 || FileSystemGuid == FirmwareGuids.FirmwareFileSystem3;

    public override string ToString() =>
        $"FV {Name?.ToString() ?? FileSystemGuid.ToString()} at 0x{Offset:X}, 0x{Length:X} bytes, {Files.Count} files";
}
