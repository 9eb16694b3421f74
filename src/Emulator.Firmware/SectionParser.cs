using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Emulator.Firmware;

/// <summary>Decodes section streams (PI spec Vol 3, 2.1.5 and 3.2.4/3.2.5).</summary>
internal static class SectionParser
{
    private const int CommonHeaderSize = 4;
    private const int CommonHeader2Size = 8;
    private const int ExtendedSizeMarker = 0xFFFFFF;

    // Sections start on 4-byte boundaries within the stream (PI spec Vol 3, 2.1.5).
    private const int Alignment = 4;

    // EFI_COMPRESSION_SECTION: UncompressedLength (4) then CompressionType (1) (PI spec Vol 3, 3.2.5.2).
    private const int CompressionFieldsSize = 5;
    private const byte NotCompressed = 0x00;

    // EFI_GUID_DEFINED_SECTION: SectionDefinitionGuid (16), DataOffset (2), Attributes (2) (PI spec Vol 3, 3.2.5.7).
    private const int GuidDefinedFieldsSize = 20;
    private const ushort ProcessingRequired = 0x0001;

    /// <summary>
    /// Parses every section in <paramref name="stream"/>. A malformed section ends the stream with a
    /// diagnostic; the sections before it are kept.
    /// </summary>
    public static List<FirmwareSection> ParseStream(ReadOnlyMemory<byte> stream, long? imageOffset, string owner, ParseContext context)
    {
        var sections = new List<FirmwareSection>();
        if (!context.TryEnter(owner))
        {
            return sections;
        }

        try
        {
            int offset = 0;
            while (stream.Length - offset >= CommonHeaderSize)
            {
                FirmwareSection section = ParseSection(stream, offset, imageOffset + offset, owner, context);
                sections.Add(section);
                offset = AlignUp(offset + section.Size);
            }
        }
        catch (FirmwareFormatException ex)
        {
            context.Report($"{owner}: section list stops: {ex.Message}");
        }
        finally
        {
            context.Leave();
        }

        return sections;
    }

    private static FirmwareSection ParseSection(ReadOnlyMemory<byte> stream, int offset, long? imageOffset, string owner, ParseContext context)
    {
        ReadOnlySpan<byte> header = stream.Span[offset..];
        int size = header[0] | (header[1] << 8) | (header[2] << 16);
        var type = (FirmwareSectionType)header[3];
        int headerLength = CommonHeaderSize;
        if (size == ExtendedSizeMarker)
        {
            if (header.Length < CommonHeader2Size)
            {
                throw new FirmwareFormatException("truncated EFI_COMMON_SECTION_HEADER2", offset);
            }

            headerLength = CommonHeader2Size;
            uint extended = BinaryPrimitives.ReadUInt32LittleEndian(header[CommonHeaderSize..]);
            size = extended > int.MaxValue ? int.MaxValue : (int)extended;
        }

        if (size < headerLength || size > header.Length)
        {
            throw new FirmwareFormatException($"{type} section size 0x{size:X} is invalid", offset);
        }

        ReadOnlyMemory<byte> data = stream.Slice(offset + headerLength, size - headerLength);
        long? dataImageOffset = imageOffset + headerLength;
        string where = $"{owner}, {type} section at 0x{offset:X}";
        IReadOnlyList<FirmwareSection> children = [];
        FirmwareVolume? volume = null;
        PeImageInfo? image = null;
        string? text = null;
        Guid? sectionGuid = null;
        ushort guidedAttributes = 0;
        bool decoded = true;

        switch (type)
        {
            case FirmwareSectionType.Compression:
                decoded = TryParseCompression(data, dataImageOffset, where, context, out children);
                break;
            case FirmwareSectionType.GuidDefined:
                if (data.Length < GuidDefinedFieldsSize)
                {
                    throw new FirmwareFormatException("truncated GUID_DEFINED section header", offset);
                }

                sectionGuid = new Guid(data.Span[..16]);
                guidedAttributes = BinaryPrimitives.ReadUInt16LittleEndian(data.Span[18..]);
                decoded = TryParseGuidDefined(data, dataImageOffset, headerLength, sectionGuid.Value, guidedAttributes, where, context, out children);
                break;
            case FirmwareSectionType.FirmwareVolumeImage:
                volume = ParseNestedVolume(data, dataImageOffset, where, context);
                decoded = volume is not null;
                break;
            case FirmwareSectionType.Pe32:
            case FirmwareSectionType.Te:
                if (!PeImageInfo.TryParse(data.Span, out image))
                {
                    context.Report($"{where}: not a valid {type} image");
                }

                break;
            case FirmwareSectionType.UserInterface:
                text = ReadUcs2(data.Span);
                break;
            case FirmwareSectionType.Version:
                // EFI_VERSION_SECTION: BuildNumber (2) then the version string (PI spec Vol 3, 3.2.5.15).
                text = data.Length >= 2 ? ReadUcs2(data.Span[2..]) : null;
                break;
            case FirmwareSectionType.FreeformSubtypeGuid:
                sectionGuid = data.Length >= 16 ? new Guid(data.Span[..16]) : null;
                break;
        }

        return new FirmwareSection
        {
            Type = type,
            Offset = offset,
            ImageOffset = imageOffset,
            Size = size,
            HeaderLength = headerLength,
            Data = data,
            SectionGuid = sectionGuid,
            GuidedAttributes = guidedAttributes,
            IsDecoded = decoded,
            Children = children,
            Volume = volume,
            Image = image,
            Text = text,
        };
    }

    private static bool TryParseCompression(ReadOnlyMemory<byte> data, long? imageOffset, string where, ParseContext context, out IReadOnlyList<FirmwareSection> children)
    {
        children = [];
        if (data.Length < CompressionFieldsSize)
        {
            context.Report($"{where}: truncated compression header");
            return false;
        }

        byte compressionType = data.Span[4];
        if (compressionType != NotCompressed)
        {
            // EFI_STANDARD_COMPRESSION (Tiano) is not used by the images this emulator boots.
            context.Report($"{where}: compression type {compressionType} left undecoded");
            return false;
        }

        children = ParseStream(data[CompressionFieldsSize..], imageOffset + CompressionFieldsSize, where, context);
        return true;
    }

    private static bool TryParseGuidDefined(ReadOnlyMemory<byte> data, long? imageOffset, int headerLength, Guid guid, ushort attributes, string where, ParseContext context, out IReadOnlyList<FirmwareSection> children)
    {
        children = [];

        // DataOffset counts from the start of the section, common header included.
        int dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(data.Span[16..]) - headerLength;
        if (dataOffset < GuidDefinedFieldsSize || dataOffset > data.Length)
        {
            context.Report($"{where}: DataOffset 0x{dataOffset + headerLength:X} is invalid");
            return false;
        }

        ReadOnlyMemory<byte> payload = data[dataOffset..];
        if (guid == FirmwareGuids.LzmaCustomDecompress)
        {
            byte[] inflated;
            try
            {
                inflated = LzmaSectionDecoder.Decode(payload, context);
            }
            catch (FirmwareFormatException ex)
            {
                context.Report($"{where}: {ex.Message}");
                return false;
            }

            children = ParseStream(inflated, null, where, context);
            return true;
        }

        if ((attributes & ProcessingRequired) == 0)
        {
            // The payload is usable as-is (e.g. a CRC32 section), so it is a plain section stream.
            children = ParseStream(payload, imageOffset + dataOffset, where, context);
            return true;
        }

        context.Report($"{where}: GUID {guid} needs processing this library does not implement; kept raw");
        return false;
    }

    private static FirmwareVolume? ParseNestedVolume(ReadOnlyMemory<byte> data, long? imageOffset, string where, ParseContext context)
    {
        if (!context.TryEnter(where))
        {
            return null;
        }

        try
        {
            List<FirmwareVolume> volumes = VolumeParser.FindVolumes(data, imageOffset, context);
            if (volumes.Count == 0)
            {
                context.Report($"{where}: no firmware volume inside");
                return null;
            }

            return volumes[0];
        }
        finally
        {
            context.Leave();
        }
    }

    /// <summary>Reads a NUL-terminated UCS-2 string (UEFI CHAR16).</summary>
    private static string ReadUcs2(ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<char> chars = MemoryMarshal.Cast<byte, char>(bytes[..(bytes.Length & ~1)]);
        int end = chars.IndexOf('\0');
        return new string(end >= 0 ? chars[..end] : chars);
    }

    private static int AlignUp(int value) => (int)(((long)value + (Alignment - 1)) & ~(long)(Alignment - 1));
}
