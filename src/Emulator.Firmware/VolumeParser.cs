using System.Buffers.Binary;

namespace Emulator.Firmware;

/// <summary>Finds and decodes firmware volumes and their FFS files (PI spec Vol 3, 3.2.1 and 3.2.3).</summary>
internal static class VolumeParser
{
    // EFI_FIRMWARE_VOLUME_HEADER field offsets (PI spec Vol 3, 3.2.1.1).
    private const int FileSystemGuidOffset = 0x10;
    private const int FvLengthOffset = 0x20;
    private const int SignatureOffset = 0x28;
    private const int AttributesOffset = 0x2C;
    private const int HeaderLengthOffset = 0x30;
    private const int ExtHeaderOffsetOffset = 0x34;
    private const int RevisionOffset = 0x37;
    private const int BlockMapOffset = 0x38;
    private const int BlockMapEntrySize = 8;
    private const uint FvhSignature = 0x4856465F; // "_FVH"

    // EFI_FIRMWARE_VOLUME_EXT_HEADER: FvName GUID then ExtHeaderSize (PI spec Vol 3, 3.2.1.2).
    private const int ExtHeaderMinimumSize = 20;

    // EFI_FFS_FILE_HEADER is 24 bytes; EFI_FFS_FILE_HEADER2 appends a UINT64 ExtendedSize.
    private const int FileHeaderSize = 24;
    private const int FileHeader2Size = 32;

    // Volumes and files are 8-byte aligned (PI spec Vol 3, 3.2.1 and 3.2.3).
    private const int Alignment = 8;

    /// <summary>
    /// Scans <paramref name="buffer"/> for volume headers at 8-byte aligned offsets and parses each.
    /// Volumes sit back to back in flash, so scanning resumes after each volume found.
    /// </summary>
    public static List<FirmwareVolume> FindVolumes(ReadOnlyMemory<byte> buffer, long? imageOffset, ParseContext context)
    {
        var volumes = new List<FirmwareVolume>();
        ReadOnlySpan<byte> span = buffer.Span;
        long offset = 0;
        while (offset + BlockMapOffset <= span.Length)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(offset + SignatureOffset)..]) != FvhSignature)
            {
                offset += Alignment;
                continue;
            }

            try
            {
                FirmwareVolume volume = ParseVolume(buffer, (int)offset, imageOffset + offset, context);
                volumes.Add(volume);
                offset += AlignUp(volume.Length);
            }
            catch (FirmwareFormatException ex)
            {
                context.Report($"skipped firmware volume candidate: {ex.Message}");
                offset += Alignment;
            }
        }

        return volumes;
    }

    private static FirmwareVolume ParseVolume(ReadOnlyMemory<byte> buffer, int offset, long? imageOffset, ParseContext context)
    {
        ReadOnlySpan<byte> header = buffer.Span[offset..];
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header[FvLengthOffset..]);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(header[HeaderLengthOffset..]);
        if (headerLength < BlockMapOffset + BlockMapEntrySize || headerLength > header.Length)
        {
            throw new FirmwareFormatException($"volume HeaderLength 0x{headerLength:X} is invalid", offset + HeaderLengthOffset);
        }

        if (length < (ulong)headerLength || length > (ulong)header.Length)
        {
            throw new FirmwareFormatException($"volume FvLength 0x{length:X} does not fit in the remaining 0x{header.Length:X} bytes", offset + FvLengthOffset);
        }

        ReadOnlyMemory<byte> data = buffer.Slice(offset, (int)length);
        ReadOnlySpan<byte> fv = data.Span;
        uint attributes = BinaryPrimitives.ReadUInt32LittleEndian(fv[AttributesOffset..]);
        Guid? name = ReadExtendedHeaderName(fv, headerLength, offset, out int filesStart);

        var volume = new FirmwareVolume
        {
            Offset = offset,
            ImageOffset = imageOffset,
            FileSystemGuid = new Guid(fv.Slice(FileSystemGuidOffset, 16)),
            Length = (long)length,
            Attributes = attributes,
            HeaderLength = headerLength,
            ChecksumValid = Checksum16(fv[..headerLength]) == 0,
            Revision = fv[RevisionOffset],
            BlockMap = ReadBlockMap(fv[..headerLength]),
            Name = name,
            Data = data,
        };

        if (volume.IsFfs && context.TryEnter($"volume at 0x{offset:X}"))
        {
            try
            {
                volume.Files = ParseFiles(volume, filesStart, context);
            }
            finally
            {
                context.Leave();
            }
        }

        return volume;
    }

    private static Guid? ReadExtendedHeaderName(ReadOnlySpan<byte> fv, int headerLength, int volumeOffset, out int filesStart)
    {
        filesStart = headerLength;
        int extOffset = BinaryPrimitives.ReadUInt16LittleEndian(fv[ExtHeaderOffsetOffset..]);
        if (extOffset == 0)
        {
            return null;
        }

        if (extOffset < headerLength || extOffset + ExtHeaderMinimumSize > fv.Length)
        {
            throw new FirmwareFormatException($"volume ExtHeaderOffset 0x{extOffset:X} is invalid", volumeOffset + ExtHeaderOffsetOffset);
        }

        uint extSize = BinaryPrimitives.ReadUInt32LittleEndian(fv[(extOffset + 16)..]);
        if (extSize < ExtHeaderMinimumSize || extSize > (uint)(fv.Length - extOffset))
        {
            throw new FirmwareFormatException($"volume ExtHeaderSize 0x{extSize:X} is invalid", volumeOffset + extOffset + 16);
        }

        // The first file follows the extended header (PI spec Vol 3, 3.2.1.2).
        filesStart = extOffset + (int)extSize;
        return new Guid(fv.Slice(extOffset, 16));
    }

    private static List<FvBlockMapEntry> ReadBlockMap(ReadOnlySpan<byte> header)
    {
        var map = new List<FvBlockMapEntry>();
        for (int at = BlockMapOffset; at + BlockMapEntrySize <= header.Length; at += BlockMapEntrySize)
        {
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(header[at..]);
            uint blockLength = BinaryPrimitives.ReadUInt32LittleEndian(header[(at + 4)..]);
            if (count == 0 && blockLength == 0)
            {
                break;
            }

            map.Add(new FvBlockMapEntry(count, blockLength));
        }

        return map;
    }

    private static List<FfsFile> ParseFiles(FirmwareVolume volume, int filesStart, ParseContext context)
    {
        var files = new List<FfsFile>();
        ReadOnlySpan<byte> fv = volume.Data.Span;
        byte erased = volume.ErasePolarity ? (byte)0xFF : (byte)0x00;
        long offset = AlignUp(filesStart);
        try
        {
            while (offset + FileHeaderSize <= fv.Length)
            {
                ReadOnlySpan<byte> header = fv.Slice((int)offset, FileHeaderSize);

                // Free space: the rest of the volume is erased flash.
                if (!header.ContainsAnyExcept(erased))
                {
                    break;
                }

                FfsFile file = ParseFile(volume, (int)offset, erased, context);
                files.Add(file);
                offset = AlignUp(offset + file.Size);
            }
        }
        catch (FirmwareFormatException ex)
        {
            context.Report($"volume at 0x{volume.Offset:X}: file list stops: {ex.Message}");
        }

        return files;
    }

    private static FfsFile ParseFile(FirmwareVolume volume, int offset, byte erased, ParseContext context)
    {
        ReadOnlySpan<byte> fv = volume.Data.Span;
        ReadOnlySpan<byte> header = fv[offset..];
        var attributes = (FfsFileAttributes)header[0x13];
        long size = header[0x14] | (header[0x15] << 8) | (header[0x16] << 16);
        int headerLength = FileHeaderSize;
        if ((attributes & FfsFileAttributes.LargeFile) != 0)
        {
            if (header.Length < FileHeader2Size)
            {
                throw new FirmwareFormatException("truncated EFI_FFS_FILE_HEADER2", volume.Offset + offset);
            }

            headerLength = FileHeader2Size;
            ulong extended = BinaryPrimitives.ReadUInt64LittleEndian(header[FileHeaderSize..]);
            size = extended > int.MaxValue ? long.MaxValue : (long)extended;
        }

        if (size < headerLength || size > header.Length)
        {
            throw new FirmwareFormatException($"file size 0x{size:X} is invalid", volume.Offset + offset);
        }

        var type = (FfsFileType)header[0x12];
        ReadOnlyMemory<byte> data = volume.Data.Slice(offset + headerLength, (int)size - headerLength);
        var file = new FfsFile
        {
            Name = new Guid(header[..16]),
            Type = type,
            Attributes = attributes,

            // With erase polarity 1 a state bit is set by clearing it (PI spec Vol 3, 3.2.3.1).
            State = (FfsFileState)(header[0x17] ^ erased),
            Size = size,
            HeaderLength = headerLength,
            Offset = offset,
            Data = data,
        };

        if (HasSections(type))
        {
            long? dataImageOffset = volume.ImageOffset + offset + headerLength;
            file.Sections = SectionParser.ParseStream(data, dataImageOffset, $"file {file.Name}", context);
        }

        return file;
    }

    /// <summary>Types whose data is a section stream rather than opaque bytes (PI spec Vol 3, 2.1.4.1).</summary>
    private static bool HasSections(FfsFileType type) =>
        type >= FfsFileType.Freeform && type <= FfsFileType.MmCoreStandalone;

    private static ushort Checksum16(ReadOnlySpan<byte> header)
    {
        ushort sum = 0;
        for (int i = 0; i + 1 < header.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(header[i..]);
        }

        return sum;
    }

    private static long AlignUp(long value) => (value + (Alignment - 1)) & ~(long)(Alignment - 1);
}
