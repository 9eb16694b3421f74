using System.Buffers.Binary;
using Emulator.Firmware;
using SharpCompress.Compressors.LZMA;

namespace Emulator.Boot.Tests.Compare;

/// <summary>
/// Damages one DXE driver of an OVMF code image the way a bad build would: the driver's entry point
/// becomes <c>mov rax, EFI_UNSUPPORTED; ret</c>, so the DXE core sees its entry fail, unloads it, and
/// every driver whose depex waits for its protocols never starts. DXE drivers sit inside the
/// LZMA-compressed GUID-defined section of FVMAIN_COMPACT, so the section is decompressed, patched,
/// re-compressed and written back in place; the section and file sizes and the FFS header checksum
/// follow the new stream's length.
/// </summary>
public static class FirmwareDamage
{
    /// <summary>EFI_UNSUPPORTED (UEFI spec, Appendix D: high bit set, code 3).</summary>
    private const ulong EfiUnsupported = 0x8000_0000_0000_0003;

    /// <summary>EDK II LZMA header: 5 property bytes and the 8-byte little-endian uncompressed size.</summary>
    private const int LzmaHeaderSize = 5 + 8;

    /// <summary>FFS_ATTRIB_CHECKSUM (PI spec Vol 3, 2.2.3): the file checksum covers the data.</summary>
    private const byte FfsAttribChecksum = 0x40;

    /// <summary>A copy of <paramref name="code"/> whose DXE driver <paramref name="module"/> returns EFI_UNSUPPORTED at once.</summary>
    public static byte[] FailDxeDriver(byte[] code, string module)
    {
        var image = FirmwareImage.Parse(code);
        var target = image.Modules.FirstOrDefault(m => m.Name == module && m.Type == FfsFileType.Driver)
            ?? throw new InvalidOperationException($"no DXE driver '{module}' in the image");

        // The top-level LZMA section whose decoded payload holds the driver's PE32 section bytes.
        byte[] pe = target.ImageSection.Data.ToArray();
        foreach (var (volume, file, section) in TopLevelLzmaSections(image))
        {
            int sectionStart = (int)section.ImageOffset!.Value;
            int dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(code.AsSpan(sectionStart + section.HeaderLength + 16));
            int payloadStart = sectionStart + dataOffset;
            int payloadLength = section.Size - dataOffset;
            byte[] decoded = Decompress(code.AsSpan(payloadStart, payloadLength));
            int at = decoded.AsSpan().IndexOf(pe);
            if (at < 0)
            {
                continue;
            }

            PatchEntry(decoded.AsSpan(at, pe.Length));
            FixInnerFileChecksum(decoded, target.File);
            byte[] packed = Compress(decoded, code.AsSpan(payloadStart, 5));
            if (packed.Length > payloadLength)
            {
                throw new InvalidOperationException($"re-compressed section is 0x{packed.Length:X} bytes, more than the 0x{payloadLength:X} it replaces");
            }

            // The section and its file shrink to the new stream; the freed bytes become free space
            // (erase polarity 1: 0xFF) at the end of the volume. That needs the section to end its
            // file, the file to end its volume, and the 24-bit sizes (no FFS_ATTRIB_LARGE_FILE).
            if (file.Sections[^1] != section || volume.Files[^1] != file || file.HeaderLength != 24 || section.HeaderLength != 4)
            {
                throw new InvalidOperationException("the LZMA section is not the last of the volume's last file, or has extended sizes");
            }

            byte[] damaged = (byte[])code.Clone();
            packed.CopyTo(damaged, payloadStart);
            damaged.AsSpan(payloadStart + packed.Length, payloadLength - packed.Length).Fill(0xFF);
            int fileStart = (int)(volume.Offset + file.Offset);
            int shrink = payloadLength - packed.Length;
            WriteSize24(damaged.AsSpan(sectionStart), section.Size - shrink);
            WriteSize24(damaged.AsSpan(fileStart + 0x14), (int)file.Size - shrink);
            if ((file.Attributes & (FfsFileAttributes)FfsAttribChecksum) != 0)
            {
                UpdateDataChecksum(damaged, fileStart, file.HeaderLength, (int)file.Size - shrink);
            }

            UpdateHeaderChecksum(damaged.AsSpan(fileStart, file.HeaderLength));
            return damaged;
        }

        throw new InvalidOperationException($"'{module}' is not inside a top-level LZMA section");
    }

    /// <summary>The driver's entry bytes (in a PE32 image, RVA mapped through the section table).</summary>
    public static ReadOnlySpan<byte> EntryBytes(byte[] code, string module, int count)
    {
        var target = FirmwareImage.Parse(code).Modules.First(m => m.Name == module);
        byte[] pe = target.ImageSection.Data.ToArray();
        return pe.AsSpan(RawOffset(pe, target.Image.AddressOfEntryPoint), count);
    }

    private static IEnumerable<(FirmwareVolume Volume, FfsFile File, FirmwareSection Section)> TopLevelLzmaSections(FirmwareImage image) =>
        from volume in image.Volumes
        where volume.ImageOffset is not null
        from file in volume.Files
        from section in file.Sections
        where section.SectionGuid == FirmwareGuids.LzmaCustomDecompress && section.ImageOffset is not null
        select (volume, file, section);

    /// <summary>mov rax, EFI_UNSUPPORTED; ret (48 B8 imm64; C3) over the first 11 bytes of the entry.</summary>
    private static void PatchEntry(Span<byte> pe)
    {
        uint entry = BinaryPrimitives.ReadUInt32LittleEndian(pe[(BinaryPrimitives.ReadInt32LittleEndian(pe[0x3C..]) + 24 + 16)..]);
        Span<byte> at = pe[RawOffset(pe, entry)..];
        at[0] = 0x48;
        at[1] = 0xB8;
        BinaryPrimitives.WriteUInt64LittleEndian(at[2..], EfiUnsupported);
        at[10] = 0xC3;
    }

    /// <summary>File offset of an RVA: PE/COFF section table (PE spec 3.3/4), VirtualAddress to PointerToRawData.</summary>
    private static int RawOffset(ReadOnlySpan<byte> pe, uint rva)
    {
        int nt = BinaryPrimitives.ReadInt32LittleEndian(pe[0x3C..]);
        int sections = BinaryPrimitives.ReadUInt16LittleEndian(pe[(nt + 6)..]);
        int optional = BinaryPrimitives.ReadUInt16LittleEndian(pe[(nt + 20)..]);
        int table = nt + 24 + optional;
        for (int i = 0; i < sections; i++)
        {
            var s = pe[(table + (i * 40))..];
            uint va = BinaryPrimitives.ReadUInt32LittleEndian(s[12..]);
            uint raw = BinaryPrimitives.ReadUInt32LittleEndian(s[16..]);
            if (rva >= va && rva < va + raw)
            {
                return (int)(BinaryPrimitives.ReadUInt32LittleEndian(s[20..]) + (rva - va));
            }
        }

        throw new InvalidOperationException($"RVA 0x{rva:X} is in no section");
    }

    /// <summary>The inner driver's FFS file: its data checksum, when the file has one, follows the patch.</summary>
    private static void FixInnerFileChecksum(byte[] decoded, FfsFile file)
    {
        if ((file.Attributes & (FfsFileAttributes)FfsAttribChecksum) == 0)
        {
            return;
        }

        int dataAt = decoded.AsSpan().IndexOf(file.Data.Span[..Math.Min(file.Data.Length, 64)]);
        UpdateDataChecksum(decoded, dataAt - file.HeaderLength, file.HeaderLength, (int)file.Size);
    }

    private static void WriteSize24(Span<byte> at, int size)
    {
        at[0] = (byte)size;
        at[1] = (byte)(size >> 8);
        at[2] = (byte)(size >> 16);
    }

    /// <summary>
    /// IntegrityCheck.Checksum.Header (PI spec Vol 3, 2.2.3): the header bytes sum to 0 with State
    /// (offset 0x17) and the file checksum (0x11) counted as 0.
    /// </summary>
    private static void UpdateHeaderChecksum(Span<byte> header)
    {
        header[0x10] = 0;
        byte sum = 0;
        for (int i = 0; i < header.Length; i++)
        {
            sum += i is 0x11 or 0x17 ? (byte)0 : header[i];
        }

        header[0x10] = (byte)-sum;
    }

    /// <summary>IntegrityCheck.Checksum.File (PI spec Vol 3, 2.2.3): the data bytes and this byte sum to 0.</summary>
    private static void UpdateDataChecksum(byte[] buffer, int header, int headerLength, int size)
    {
        byte sum = 0;
        foreach (byte b in buffer.AsSpan(header + headerLength, size - headerLength))
        {
            sum += b;
        }

        buffer[header + 0x11] = (byte)-sum;
    }

    private static byte[] Decompress(ReadOnlySpan<byte> payload)
    {
        long size = BinaryPrimitives.ReadInt64LittleEndian(payload[5..]);
        using var input = new MemoryStream(payload[LzmaHeaderSize..].ToArray());
        using var lzma = LzmaStream.Create(payload[..5].ToArray(), input, input.Length, size, leaveOpen: false);
        byte[] output = new byte[size];
        lzma.ReadExactly(output);
        return output;
    }

    /// <summary>The EDK II layout again, with the original dictionary size and lc=3 lp=0 pb=2 (BaseTools LzmaCompress).</summary>
    private static byte[] Compress(byte[] data, ReadOnlySpan<byte> originalProperties)
    {
        int dictionary = BinaryPrimitives.ReadInt32LittleEndian(originalProperties[1..]);
        using var output = new MemoryStream();
        output.Write(new byte[LzmaHeaderSize]);
        using (var lzma = LzmaStream.Create(new LzmaEncoderProperties(eos: false, dictionary, numFastBytes: 273), false, output))
        {
            lzma.Write(data);
            lzma.Properties.CopyTo(output.GetBuffer(), 0);
        }

        byte[] packed = output.ToArray();
        BinaryPrimitives.WriteInt64LittleEndian(packed.AsSpan(5), data.Length);
        return packed;
    }
}
