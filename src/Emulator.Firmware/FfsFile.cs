namespace Emulator.Firmware;

/// <summary>One file in a firmware file system (PI spec Vol 3, 3.2.3: EFI_FFS_FILE_HEADER/HEADER2).</summary>
public sealed class FfsFile
{
    internal FfsFile()
    {
    }

    public Guid Name { get; internal init; }

    public FfsFileType Type { get; internal init; }

    public FfsFileAttributes Attributes { get; internal init; }

    /// <summary>State bits normalised for the volume's erase polarity.</summary>
    public FfsFileState State { get; internal init; }

    /// <summary>Whole file size, header included; from ExtendedSize for FFS_ATTRIB_LARGE_FILE files.</summary>
    public long Size { get; internal init; }

    /// <summary>24 for EFI_FFS_FILE_HEADER, 32 for EFI_FFS_FILE_HEADER2 (large files).</summary>
    public int HeaderLength { get; internal init; }

    /// <summary>Offset of the file header from the start of its volume.</summary>
    public long Offset { get; internal init; }

    /// <summary>Offset of the file data (just past the header) from the start of its volume.</summary>
    public long DataOffset => Offset + HeaderLength;

    /// <summary>File data after the header.</summary>
    public ReadOnlyMemory<byte> Data { get; internal init; }

    /// <summary>Sections of section-structured file types; empty for RAW and pad files.</summary>
    public IReadOnlyList<FirmwareSection> Sections { get; internal set; } = [];

    public override string ToString() => $"{Type} {Name} (0x{Size:X} bytes)";
}
