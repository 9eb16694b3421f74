using System.Buffers.Binary;

namespace Emulator.Firmware;

/// <summary>The load-relevant fields of a PE32, PE32+ or TE image header.</summary>
public sealed class PeImageInfo
{
    // PE/COFF spec: "MS-DOS Stub", "Signature", "COFF File Header", "Optional Header".
    private const ushort DosSignature = 0x5A4D;       // "MZ"
    private const uint PeSignature = 0x00004550;      // "PE\0\0"
    private const int DosLfanewOffset = 0x3C;
    private const int CoffHeaderSize = 20;
    private const ushort Pe32Magic = 0x10B;
    private const ushort Pe32PlusMagic = 0x20B;
    private const int SectionHeaderSize = 40;
    private const int SubsystemOffset = 68;           // in the optional header, PE32 and PE32+ alike

    // PI spec Vol 1, "TE image": EFI_TE_IMAGE_HEADER is 40 bytes and starts with "VZ".
    private const ushort TeSignature = 0x5A56;

    /// <summary>Size of EFI_TE_IMAGE_HEADER; TE RVAs count from where the stripped PE headers began.</summary>
    public const int TeHeaderSize = 40;

    private PeImageInfo()
    {
    }

    public PeImageFormat Format { get; private init; }

    public PeMachine Machine { get; private init; }

    /// <summary>Preferred load address. For TE this is the base of the original PE image.</summary>
    public ulong ImageBase { get; private init; }

    public uint AddressOfEntryPoint { get; private init; }

    /// <summary>
    /// SizeOfImage from the optional header. TE drops that field, so for TE it is the end of the
    /// highest section (VirtualAddress + VirtualSize), which is where the loaded image ends.
    /// </summary>
    public uint SizeOfImage { get; private init; }

    public int NumberOfSections { get; private init; }

    /// <summary>
    /// The optional header's Subsystem (TE: the header's Subsystem byte): 10 an EFI application,
    /// 11 a boot service driver, 12 a runtime driver (PE/COFF spec, "Windows Subsystem"); 0 when
    /// a PE optional header is too short to hold it.
    /// </summary>
    public ushort Subsystem { get; private init; }

    /// <summary>Bytes of PE headers removed when the TE image was made; 0 for PE images.</summary>
    public ushort StrippedSize { get; private init; }

    /// <summary>
    /// Bytes from the header's first byte that <see cref="Parse"/> reads: through the optional
    /// header for PE (e_lfanew + signature + COFF header + SizeOfOptionalHeader), through the
    /// section table for TE. Where an image's DOS header puts its PE header (e_lfanew) is the
    /// linker's choice: 0x80 in most edk2 modules, 0xE58 in runtime drivers linked with 4 KiB
    /// section alignment.
    /// </summary>
    public int HeaderExtent { get; private init; }

    /// <summary>True when the machine is x64 (the image runs in long mode).</summary>
    public bool Is64Bit => Machine == PeMachine.Amd64;

    /// <summary>Linked virtual address of the entry point: ImageBase + AddressOfEntryPoint.</summary>
    public ulong EntryAddress => ImageBase + AddressOfEntryPoint;

    /// <summary>
    /// Virtual address at which the first byte of this header must sit for <see cref="ImageBase"/>
    /// to hold. For TE the header replaces the stripped PE headers, so it sits at
    /// ImageBase + StrippedSize - 40 (PI spec Vol 1, "TE image").
    /// </summary>
    public ulong HeaderAddress => unchecked(ImageBase + (ulong)HeaderRva);

    /// <summary>RVA of the first byte of the header: 0 for PE, StrippedSize - 40 for TE.</summary>
    public long HeaderRva => Format == PeImageFormat.Te ? StrippedSize - (long)TeHeaderSize : 0;

    /// <summary>Entry point when the header's first byte actually sits at <paramref name="headerAddress"/>.</summary>
    public ulong EntryAddressWhenHeaderAt(ulong headerAddress) =>
        unchecked(headerAddress - (ulong)HeaderRva + AddressOfEntryPoint);

    /// <summary>Parses a PE32, PE32+ or TE header at the start of <paramref name="image"/>.</summary>
    /// <exception cref="FirmwareFormatException">The bytes are not a PE or TE image.</exception>
    public static PeImageInfo Parse(ReadOnlySpan<byte> image)
    {
        if (image.Length < 2)
        {
            throw new FirmwareFormatException($"image of {image.Length} bytes is too short for a PE/TE header", 0);
        }

        ushort signature = BinaryPrimitives.ReadUInt16LittleEndian(image);
        if (signature == TeSignature)
        {
            return ParseTe(image);
        }

        int peOffset = 0;
        if (signature == DosSignature)
        {
            if (image.Length < DosLfanewOffset + 4)
            {
                throw new FirmwareFormatException("truncated DOS header", 0);
            }

            uint lfanew = BinaryPrimitives.ReadUInt32LittleEndian(image[DosLfanewOffset..]);
            if (lfanew > (uint)image.Length)
            {
                throw new FirmwareFormatException($"e_lfanew 0x{lfanew:X} points past the image", DosLfanewOffset);
            }

            peOffset = (int)lfanew;
        }

        // EDK II also accepts images whose PE signature is at offset 0 (no DOS stub).
        return ParsePe(image, peOffset);
    }

    /// <summary>Like <see cref="Parse"/> but returns false instead of throwing.</summary>
    public static bool TryParse(ReadOnlySpan<byte> image, out PeImageInfo? info)
    {
        try
        {
            info = Parse(image);
            return true;
        }
        catch (FirmwareFormatException)
        {
            info = null;
            return false;
        }
    }

    private static PeImageInfo ParsePe(ReadOnlySpan<byte> image, int peOffset)
    {
        if ((long)peOffset + 4 + CoffHeaderSize > image.Length
            || BinaryPrimitives.ReadUInt32LittleEndian(image[peOffset..]) != PeSignature)
        {
            throw new FirmwareFormatException("missing PE signature", peOffset);
        }

        ReadOnlySpan<byte> coff = image.Slice(peOffset + 4, CoffHeaderSize);
        var machine = (PeMachine)BinaryPrimitives.ReadUInt16LittleEndian(coff);
        ushort sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(coff[2..]);
        ushort optionalSize = BinaryPrimitives.ReadUInt16LittleEndian(coff[16..]);

        int optionalOffset = peOffset + 4 + CoffHeaderSize;
        if (optionalSize < 2 || (long)optionalOffset + optionalSize > image.Length)
        {
            throw new FirmwareFormatException($"optional header of {optionalSize} bytes does not fit", optionalOffset);
        }

        ReadOnlySpan<byte> optional = image.Slice(optionalOffset, optionalSize);
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(optional);

        // Optional header field offsets: AddressOfEntryPoint 16, ImageBase 28 (PE32, 4 bytes) or
        // 24 (PE32+, 8 bytes), SizeOfImage 56 in both.
        const int minimumOptionalSize = 60;
        if (optional.Length < minimumOptionalSize)
        {
            throw new FirmwareFormatException($"optional header of {optional.Length} bytes is too short", optionalOffset);
        }

        PeImageFormat format;
        ulong imageBase;
        switch (magic)
        {
            case Pe32Magic:
                format = PeImageFormat.Pe32;
                imageBase = BinaryPrimitives.ReadUInt32LittleEndian(optional[28..]);
                break;
            case Pe32PlusMagic:
                format = PeImageFormat.Pe32Plus;
                imageBase = BinaryPrimitives.ReadUInt64LittleEndian(optional[24..]);
                break;
            default:
                throw new FirmwareFormatException($"unknown optional header magic 0x{magic:X}", optionalOffset);
        }

        return new PeImageInfo
        {
            Format = format,
            Machine = machine,
            ImageBase = imageBase,
            AddressOfEntryPoint = BinaryPrimitives.ReadUInt32LittleEndian(optional[16..]),
            SizeOfImage = BinaryPrimitives.ReadUInt32LittleEndian(optional[56..]),
            NumberOfSections = sectionCount,
            Subsystem = optional.Length >= SubsystemOffset + 2 ? BinaryPrimitives.ReadUInt16LittleEndian(optional[SubsystemOffset..]) : (ushort)0,
            HeaderExtent = optionalOffset + optionalSize,
        };
    }

    private static PeImageInfo ParseTe(ReadOnlySpan<byte> image)
    {
        if (image.Length < TeHeaderSize)
        {
            throw new FirmwareFormatException($"TE header needs {TeHeaderSize} bytes, have {image.Length}", 0);
        }

        // EFI_TE_IMAGE_HEADER: Signature, Machine, NumberOfSections (1), Subsystem (1),
        // StrippedSize, AddressOfEntryPoint, BaseOfCode, ImageBase (8), DataDirectory[2].
        var machine = (PeMachine)BinaryPrimitives.ReadUInt16LittleEndian(image[2..]);
        int sectionCount = image[4];
        ushort strippedSize = BinaryPrimitives.ReadUInt16LittleEndian(image[6..]);
        uint entry = BinaryPrimitives.ReadUInt32LittleEndian(image[8..]);
        ulong imageBase = BinaryPrimitives.ReadUInt64LittleEndian(image[16..]);

        if (strippedSize < TeHeaderSize)
        {
            throw new FirmwareFormatException($"TE StrippedSize 0x{strippedSize:X} is smaller than the TE header", 6);
        }

        long tableEnd = TeHeaderSize + ((long)sectionCount * SectionHeaderSize);
        if (tableEnd > image.Length)
        {
            throw new FirmwareFormatException($"TE section table of {sectionCount} entries does not fit", TeHeaderSize);
        }

        // Section header: Name[8], VirtualSize, VirtualAddress, ... (PE/COFF spec, "Section Table").
        ulong end = 0;
        for (int i = 0; i < sectionCount; i++)
        {
            ReadOnlySpan<byte> header = image.Slice(TeHeaderSize + (i * SectionHeaderSize), SectionHeaderSize);
            ulong sectionEnd = (ulong)BinaryPrimitives.ReadUInt32LittleEndian(header[12..])
                + BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
            end = Math.Max(end, sectionEnd);
        }

        return new PeImageInfo
        {
            Format = PeImageFormat.Te,
            Machine = machine,
            ImageBase = imageBase,
            AddressOfEntryPoint = entry,
            SizeOfImage = (uint)Math.Min(end, uint.MaxValue),
            NumberOfSections = sectionCount,
            Subsystem = image[5],
            StrippedSize = strippedSize,
            HeaderExtent = (int)tableEnd,
        };
    }
}
