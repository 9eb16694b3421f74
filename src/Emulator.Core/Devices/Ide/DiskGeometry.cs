using Emulator.Core.Storage;

namespace Emulator.Core.Devices.Ide;

/// <summary>What a BIOS is told about translating a disk's CHS geometry (QEMU BIOS_ATA_TRANSLATION_*; CMOS 0x39 holds it minus one).</summary>
public enum BiosTranslation
{
    None = 1,
    Lba = 2,
    Large = 3,
}

/// <summary>
/// The CHS geometry QEMU gives an IDE disk created without explicit cyls/heads/secs
/// (hw/block/hd-geometry.c hd_geometry_guess via blkconf_geometry): from the MBR's partition
/// table when one ends on a cylinder boundary with at most 16 heads, else 16 heads, 63 sectors
/// and as many cylinders as fit (2 to 16383), with the BIOS translation QEMU picks alongside.
/// </summary>
public readonly record struct DiskGeometry(int Cylinders, int Heads, int SectorsPerTrack, BiosTranslation Translation)
{
    private const int MaxCylinders = 16383;
    private const int PartitionTable = 0x1BE;
    private const int PartitionEntrySize = 16;

    /// <summary>No geometry: a CD-ROM or an empty position.</summary>
    public static DiskGeometry None => default;

    /// <summary>QEMU hd_geometry_guess for the medium in <paramref name="backend"/>.</summary>
    public static DiskGeometry Guess(IBlockBackend backend)
    {
        long sectors = backend.Length / IdeDevice.SectorSize;
        var (cylinders, heads, perTrack) = ForSize(sectors);
        if (GuessFromPartitionTable(backend, sectors) is not { } logical)
        {
            return new(cylinders, heads, perTrack, cylinders <= 1024 ? BiosTranslation.None : BiosTranslation.Lba);
        }

        if (logical.Heads > 16)
        {
            // A BIOS LBA translation was in use: the standard physical geometry is right.
            return new(cylinders, heads, perTrack, cylinders * heads <= 131072 ? BiosTranslation.Large : BiosTranslation.Lba);
        }

        return new(logical.Cylinders, logical.Heads, logical.SectorsPerTrack, BiosTranslation.None);
    }

    /// <summary>QEMU guess_chs_for_size.</summary>
    private static (int Cylinders, int Heads, int SectorsPerTrack) ForSize(long sectors) =>
        ((int)Math.Clamp(sectors / (16 * 63), 2, MaxCylinders), 16, 63);

    /// <summary>QEMU guess_disk_lchs: the first partition entry with sectors and an end head gives heads and sectors per track.</summary>
    private static DiskGeometry? GuessFromPartitionTable(IBlockBackend backend, long sectors)
    {
        if (backend.Length < IdeDevice.SectorSize)
        {
            return null;
        }

        Span<byte> mbr = stackalloc byte[IdeDevice.SectorSize];
        try
        {
            backend.Read(0, mbr);
        }
        catch (BlockBackendException)
        {
            return null;
        }

        if (mbr[510] != 0x55 || mbr[511] != 0xAA)
        {
            return null;
        }

        for (int i = 0; i < 4; i++)
        {
            var entry = mbr.Slice(PartitionTable + (i * PartitionEntrySize), PartitionEntrySize);
            uint count = BitConverter.ToUInt32(entry[12..]);
            byte endHead = entry[5];
            int perTrack = entry[6] & 63;
            if (count == 0 || endHead == 0 || perTrack == 0)
            {
                continue;
            }

            long cylinders = sectors / ((endHead + 1) * perTrack);
            if (cylinders is >= 1 and <= MaxCylinders)
            {
                return new((int)cylinders, endHead + 1, perTrack, BiosTranslation.None);
            }
        }

        return null;
    }
}
