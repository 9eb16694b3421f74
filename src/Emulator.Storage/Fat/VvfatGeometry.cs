using System.Buffers.Binary;

namespace Emulator.Storage.Fat;

/// <summary>
/// The disk QEMU 7.2's vvfat presents for <c>fat:[rw:]DIR</c> as a hard disk (block/vvfat.c
/// vvfat_open, init_directories, init_mbr), so OVMF sees the same shape under emu as under QEMU:
/// <c>HD(1,MBR,0xBE1AFDFA,0x3F,0xFBFC1)</c>. Geometry 1024 cylinders × 16 heads × 63 sectors
/// (1,032,192 sectors, 504 MiB); an MBR with NT disk signature 0xBE1AFDFA and one bootable partition
/// of type 0x06 from LBA 63 to the end; a FAT16 boot sector ("MSWIN4.1", 16 sectors per cluster,
/// 1 reserved sector, 2 FATs of 252 sectors, 512 root entries, media 0xF8, serial 0xFABE1AFD,
/// label "QEMU VVFAT"). FAT16 whatever the folder's size, as QEMU: its FAT32 variant (<c>fat:32:</c>)
/// keeps a FAT16-shaped boot sector ("LATER TODO: if FAT32, this is wrong" in init_directories)
/// and warns it is untested, so emu does not offer it. Measured against qemu-img 7.2.22
/// (<c>qemu-img convert -f vvfat fat:DIR</c>): the MBR and boot sector are byte-identical
/// (tests/Emulator.Storage.Tests, docs/storage.md).
/// </summary>
internal static class VvfatGeometry
{
    public const int SectorSize = 512;
    public const int Cylinders = 1024, Heads = 16, SectorsPerTrack = 63;
    public const long TotalSectors = (long)Cylinders * Heads * SectorsPerTrack;
    public const long DiskBytes = TotalSectors * SectorSize;

    /// <summary>vvfat's offset_to_bootsector for a hard disk: the partition starts at LBA 63.</summary>
    public const int PartitionStart = 0x3F;
    public const int PartitionSectors = (int)TotalSectors - PartitionStart;

    public const int SectorsPerCluster = 16;
    public const int ClusterSize = SectorsPerCluster * SectorSize;
    public const int ReservedSectors = 1;
    public const int FatCount = 2;

    /// <summary>init_directories: <c>i = 1 + spc*512*8/16; sectors_per_fat = (sector_count + i) / i</c>.</summary>
    public const int SectorsPerFat = (PartitionSectors + (1 + ClusterSize * 8 / 16)) / (1 + ClusterSize * 8 / 16);

    /// <summary><c>root_entries = 0x02 * 0x10 * sectors_per_cluster</c>.</summary>
    public const int RootEntries = 2 * 16 * SectorsPerCluster;

    public const int FirstFatSector = PartitionStart + ReservedSectors;
    public const int RootDirectorySector = FirstFatSector + FatCount * SectorsPerFat;
    public const int FirstDataSector = RootDirectorySector + RootEntries * 32 / SectorSize;

    /// <summary>
    /// vvfat's cluster_count, <c>(sector_count - offset_to_root_dir) / sectors_per_cluster</c>:
    /// QEMU refuses a folder whose data would reach this cluster number ("Directory does not fit
    /// in FAT16"), so the last cluster it fills is one below. The boot sector lets the guest use
    /// clusters up to <see cref="LastCluster"/>.
    /// </summary>
    public const uint QemuClusterLimit = (PartitionSectors - RootDirectorySector) / SectorsPerCluster;

    /// <summary>The highest cluster number the boot sector's sizes give the guest (2 + data clusters − 1).</summary>
    public const uint LastCluster = 1 + (uint)((PartitionSectors - (FirstDataSector - PartitionStart)) / SectorsPerCluster);

    /// <summary>QEMU's own capacity figure in its refusal, <c>sector_count / 2000.0</c> "MB".</summary>
    public const double QemuCapacityMb = PartitionSectors / 2000.0;

    public const string VolumeLabel = "QEMU VVFAT ";
    public const uint DiskSignature = 0xBE1AFDFA;
    public const uint VolumeSerial = 0xFABE1AFD;
    public const byte MediaDescriptor = 0xF8;

    /// <summary>Byte offset of a data cluster on the disk.</summary>
    public static long ClusterOffset(uint cluster) => ((long)FirstDataSector + (long)(cluster - 2) * SectorsPerCluster) * SectorSize;

    /// <summary>init_mbr: NT signature, one bootable partition with CHS start and end (LBA types only past the geometry).</summary>
    public static void WriteMbr(Span<byte> sector)
    {
        sector[..SectorSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(sector[0x1B8..], DiskSignature);
        var p = sector.Slice(0x1BE, 16);
        p[0] = 0x80;
        bool lba = WriteChs(p[1..4], PartitionStart) | WriteChs(p[5..8], TotalSectors - 1);
        p[4] = (byte)(lba ? 0x0E : 0x06);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], PartitionStart);
        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], PartitionSectors);
        sector[510] = 0x55;
        sector[511] = 0xAA;
    }

    /// <summary>The FAT16 boot sector init_directories writes (no boot code; jump EB 3E 90).</summary>
    public static void WriteBootSector(Span<byte> sector)
    {
        sector[..SectorSize].Clear();
        sector[0] = 0xEB;
        sector[1] = 0x3E;
        sector[2] = 0x90;
        "MSWIN4.1"u8.CopyTo(sector[3..]);
        BinaryPrimitives.WriteUInt16LittleEndian(sector[11..], SectorSize);
        sector[13] = SectorsPerCluster;
        BinaryPrimitives.WriteUInt16LittleEndian(sector[14..], ReservedSectors);
        sector[16] = FatCount;
        BinaryPrimitives.WriteUInt16LittleEndian(sector[17..], RootEntries);
        // total_sectors16 stays 0: the count is over 0xFFFF.
        sector[21] = MediaDescriptor;
        BinaryPrimitives.WriteUInt16LittleEndian(sector[22..], SectorsPerFat);
        BinaryPrimitives.WriteUInt16LittleEndian(sector[24..], SectorsPerTrack);
        BinaryPrimitives.WriteUInt16LittleEndian(sector[26..], Heads);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[28..], PartitionStart);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[32..], PartitionSectors);
        sector[36] = 0x80; // drive number: a hard disk
        sector[38] = 0x29; // extended boot signature
        BinaryPrimitives.WriteUInt32LittleEndian(sector[39..], VolumeSerial);
        System.Text.Encoding.ASCII.GetBytes(VolumeLabel).CopyTo(sector[43..]);
        "FAT16   "u8.CopyTo(sector[54..]);
        sector[510] = 0x55;
        sector[511] = 0xAA;
    }

    /// <summary>sector2CHS: CHS of an LBA; past the geometry all three bytes are 0xFF and the result says "needs LBA".</summary>
    private static bool WriteChs(Span<byte> chs, long lba)
    {
        long sector = lba % SectorsPerTrack;
        lba /= SectorsPerTrack;
        long head = lba % Heads;
        long cylinder = lba / Heads;
        if (cylinder >= Cylinders)
        {
            chs.Fill(0xFF);
            return true;
        }

        chs[0] = (byte)head;
        chs[1] = (byte)((sector + 1) | ((cylinder >> 8) << 6));
        chs[2] = (byte)cylinder;
        return false;
    }
}
