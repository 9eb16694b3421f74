using System.Buffers.Binary;
using System.Text;
using Emulator.Core.Storage;
using Emulator.Firmware.Varstore;

namespace Emulator.Storage.Inspection;

/// <summary>
/// Looks at the first sectors of an image: ISO 9660 (ECMA-119 8.4: volume descriptors from byte
/// 32 KiB, "CD001" at offset 1 of each), El Torito (its boot record descriptor and catalog, the
/// records edk2's MdeModulePkg PartitionDxe ElTorito.c reads), and the MBR or GPT partition table
/// (UEFI 2.9 sections 5.2 and 5.3, the checks PartitionDxe Mbr.c and Gpt.c make). Reads at most a
/// few dozen sectors; a damaged structure is reported as absent, never thrown.
/// </summary>
public static class DiskImageInspector
{
    private const int CdSector = 2048;
    private const int DiskSector = 512;
    private const long FirstVolumeDescriptor = 16 * CdSector;
    private const int MaxVolumeDescriptors = 64;
    private const int MaxGptEntries = 1024;

    private static readonly byte[] s_cd001 = "CD001"u8.ToArray();
    private static readonly byte[] s_elTorito = "EL TORITO SPECIFICATION"u8.ToArray();
    private static readonly byte[] s_gptSignature = "EFI PART"u8.ToArray();

    private static readonly Dictionary<byte, string> s_mbrTypes = new()
    {
        [0x01] = "FAT12", [0x04] = "FAT16 <32M", [0x06] = "FAT16", [0x0B] = "FAT32", [0x0C] = "FAT32 LBA",
        [0x0E] = "FAT16 LBA", [0x83] = "Linux", [0xCD] = "ISO 9660 (hybrid)", [0xEE] = "GPT protective", [0xEF] = "EFI system",
    };

    private static readonly Dictionary<Guid, string> s_gptTypes = new()
    {
        [new Guid("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")] = "EFI system",
        [new Guid("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")] = "Basic data",
        [new Guid("0FC63DAF-8483-4772-8E79-3D69D8477DE4")] = "Linux filesystem",
        [new Guid("21686148-6449-6E6F-744E-656564454649")] = "BIOS boot",
    };

    public static DiskImageFacts Inspect(IBlockBackend image)
    {
        var (iso, volumeId, catalog) = ReadIso(image);
        var (table, partitions) = ReadPartitionTable(image);
        return new DiskImageFacts(iso, volumeId, catalog, table, partitions);
    }

    private static (bool Iso, string? VolumeId, ElToritoCatalog? Catalog) ReadIso(IBlockBackend image)
    {
        byte[] descriptor = new byte[CdSector];
        bool iso = false;
        string? volumeId = null;
        ElToritoCatalog? catalog = null;
        for (int i = 0; i < MaxVolumeDescriptors; i++)
        {
            if (!TryRead(image, FirstVolumeDescriptor + (long)i * CdSector, descriptor) || !descriptor.AsSpan(1, 5).SequenceEqual(s_cd001))
            {
                break;
            }

            byte type = descriptor[0];
            if (type == 255)
            {
                break; // set terminator
            }

            if (type == 1 && !iso)
            {
                iso = true;
                volumeId = Encoding.ASCII.GetString(descriptor, 40, 32).TrimEnd(' ', '\0');
            }
            else if (type == 0 && catalog == null && descriptor.AsSpan(7, s_elTorito.Length).SequenceEqual(s_elTorito))
            {
                catalog = ReadCatalog(image, BinaryPrimitives.ReadUInt32LittleEndian(descriptor.AsSpan(0x47)));
            }
        }

        return (iso, volumeId, catalog);
    }

    /// <summary>The catalog: a validation entry (header 1, key bytes 55 AA, words summing to 0), the default entry, then sections.</summary>
    private static ElToritoCatalog? ReadCatalog(IBlockBackend image, uint sector)
    {
        byte[] c = new byte[CdSector];
        if (!TryRead(image, (long)sector * CdSector, c) || c[0] != 1 || c[30] != 0x55 || c[31] != 0xAA)
        {
            return null;
        }

        ushort sum = 0;
        for (int i = 0; i < 32; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(c.AsSpan(i));
        }

        if (sum != 0)
        {
            return null;
        }

        var entries = new List<ElToritoEntry> { Entry(c.AsSpan(32, 32), c[1]) };
        int at = 64;
        while (at + 32 <= CdSector && (c[at] == 0x90 || c[at] == 0x91))
        {
            bool last = c[at] == 0x91;
            byte platform = c[at + 1];
            int count = BinaryPrimitives.ReadUInt16LittleEndian(c.AsSpan(at + 2));
            at += 32;
            for (int n = 0; n < count && at + 32 <= CdSector; n++)
            {
                entries.Add(Entry(c.AsSpan(at, 32), platform));
                at += 32;
                while (at + 32 <= CdSector && c[at] == 0x44)
                {
                    at += 32; // section entry extension
                }
            }

            if (last)
            {
                break;
            }
        }

        return new ElToritoCatalog(sector, entries);
    }

    private static ElToritoEntry Entry(ReadOnlySpan<byte> e, byte platform) => new(
        platform, e[0] == 0x88, (byte)(e[1] & 0x0F), BinaryPrimitives.ReadUInt16LittleEndian(e[6..]), BinaryPrimitives.ReadUInt32LittleEndian(e[8..]));

    private static (PartitionTableKind, IReadOnlyList<PartitionEntry>) ReadPartitionTable(IBlockBackend image)
    {
        byte[] mbr = new byte[DiskSector];
        if (!TryRead(image, 0, mbr) || mbr[510] != 0x55 || mbr[511] != 0xAA)
        {
            return (PartitionTableKind.None, []);
        }

        var primary = new List<PartitionEntry>();
        bool protective = false;
        for (int i = 0; i < 4; i++)
        {
            var e = mbr.AsSpan(446 + 16 * i, 16);
            byte type = e[4];
            uint first = BinaryPrimitives.ReadUInt32LittleEndian(e[8..]), count = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
            if (type == 0 || count == 0)
            {
                continue;
            }

            // PartitionDxe Gpt.c: a protective entry of type 0xEE starting at LBA 1.
            protective |= type == 0xEE && first == 1;
            primary.Add(new PartitionEntry(i + 1, first, count, $"0x{type:X2}", s_mbrTypes.GetValueOrDefault(type), e[0] == 0x80, null));
        }

        if (protective && ReadGpt(image) is { } gpt)
        {
            return (PartitionTableKind.Gpt, gpt);
        }

        return primary.Count == 0 ? (PartitionTableKind.None, []) : (PartitionTableKind.Mbr, primary);
    }

    /// <summary>The primary GPT header at LBA 1 and its entry array, both CRC-checked (UEFI 2.9 5.3.2).</summary>
    private static List<PartitionEntry>? ReadGpt(IBlockBackend image)
    {
        byte[] header = new byte[DiskSector];
        if (!TryRead(image, DiskSector, header) || !header.AsSpan(0, 8).SequenceEqual(s_gptSignature))
        {
            return null;
        }

        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
        if (headerSize < 92 || headerSize > DiskSector)
        {
            return null;
        }

        uint headerCrc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(16));
        byte[] zeroed = header[..(int)headerSize];
        zeroed.AsSpan(16, 4).Clear();
        if (Crc32.Compute(zeroed) != headerCrc)
        {
            return null;
        }

        long entriesLba = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(72));
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(80));
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(84));
        if (count > MaxGptEntries || size < 128 || size > 1024 || size % 8 != 0 || entriesLba < 2)
        {
            return null;
        }

        byte[] entries = new byte[count * size];
        if (!TryRead(image, entriesLba * DiskSector, entries) || Crc32.Compute(entries) != BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(88)))
        {
            return null;
        }

        var found = new List<PartitionEntry>();
        for (int i = 0; i < count; i++)
        {
            var e = entries.AsSpan((int)(i * size), (int)size);
            var type = new Guid(e[..16]);
            if (type == Guid.Empty)
            {
                continue;
            }

            long first = BinaryPrimitives.ReadInt64LittleEndian(e[32..]), last = BinaryPrimitives.ReadInt64LittleEndian(e[40..]);
            string name = Encoding.Unicode.GetString(e.Slice(56, 72)).TrimEnd('\0');
            found.Add(new PartitionEntry(i + 1, first, last - first + 1, type.ToString().ToUpperInvariant(), s_gptTypes.GetValueOrDefault(type), false, name));
        }

        return found;
    }

    private static bool TryRead(IBlockBackend image, long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > image.Length - destination.Length)
        {
            return false;
        }

        image.Read(offset, destination);
        return true;
    }
}
