using System.Buffers.Binary;

namespace Emulator.Storage.Fat;

/// <summary>
/// One 32-byte short directory entry (FAT spec 6, "Directory Structure"): name, attributes, the
/// NT case bits, times, first cluster and size; and the FAT date and time format (6.3: date =
/// day | month &lt;&lt; 5 | (year − 1980) &lt;&lt; 9, time = seconds/2 | minutes &lt;&lt; 5 | hours &lt;&lt; 11,
/// local time, as vvfat's fat_datetime converts with localtime_r).
/// </summary>
internal static class FatEntry
{
    public const int Size = 32;
    public const byte ReadOnly = 0x01, Hidden = 0x02, System = 0x04, VolumeId = 0x08, Directory = 0x10, Archive = 0x20;
    public const byte LongName = 0x0F;
    public const byte Free = 0xE5;

    public static void Write(Span<byte> entry, ReadOnlySpan<byte> name11, byte attributes, uint firstCluster, uint size, DateTime modifiedUtc, DateTime accessedUtc)
    {
        entry[..Size].Clear();
        name11[..11].CopyTo(entry);
        entry[11] = attributes;
        var (date, time) = ToFat(modifiedUtc);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[14..], time); // creation: vvfat uses st_ctime; emu the modification time
        BinaryPrimitives.WriteUInt16LittleEndian(entry[16..], date);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[18..], ToFat(accessedUtc).Date);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[20..], (ushort)(firstCluster >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(entry[22..], time);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[24..], date);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[26..], (ushort)firstCluster);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[28..], size);
    }

    public static uint FirstCluster(ReadOnlySpan<byte> entry, bool fat32) =>
        BinaryPrimitives.ReadUInt16LittleEndian(entry[26..]) | (fat32 ? (uint)BinaryPrimitives.ReadUInt16LittleEndian(entry[20..]) << 16 : 0);

    public static uint FileSize(ReadOnlySpan<byte> entry) => BinaryPrimitives.ReadUInt32LittleEndian(entry[28..]);

    /// <summary>The entry's modification time as UTC (local FAT time; an invalid stamp gives 1980-01-01).</summary>
    public static DateTime Modified(ReadOnlySpan<byte> entry)
    {
        ushort time = BinaryPrimitives.ReadUInt16LittleEndian(entry[22..]), date = BinaryPrimitives.ReadUInt16LittleEndian(entry[24..]);
        int day = date & 31, month = (date >> 5) & 15, year = 1980 + (date >> 9);
        int second = (time & 31) * 2, minute = (time >> 5) & 63, hour = time >> 11;
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return FatEpoch.ToUniversalTime();
        }

        return new DateTime(year, month, day, hour, minute, second, DateTimeKind.Local).ToUniversalTime();
    }

    private static readonly DateTime FatEpoch = new(1980, 1, 1, 0, 0, 0, DateTimeKind.Local);
    private static readonly DateTime FatEnd = new(2107, 12, 31, 23, 59, 58, DateTimeKind.Local);

    /// <summary>FAT date and time of a UTC instant in local time, clamped to 1980–2107 (vvfat would wrap).</summary>
    public static (ushort Date, ushort Time) ToFat(DateTime utc)
    {
        var t = utc.ToLocalTime();
        if (t < FatEpoch)
        {
            t = FatEpoch;
        }
        else if (t > FatEnd)
        {
            t = FatEnd;
        }

        return ((ushort)(t.Day | t.Month << 5 | (t.Year - 1980) << 9), (ushort)(t.Second / 2 | t.Minute << 5 | t.Hour << 11));
    }
}
