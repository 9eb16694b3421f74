using System.Buffers.Binary;
using System.Text;
using Emulator.Core.Storage;
using Emulator.Firmware.Varstore;
using Emulator.Storage.Inspection;

namespace Emulator.Storage.Tests;

[Trait("Category", "Unit")]
public sealed class DiskImageInspectorTests
{
    /// <summary>An ISO 9660 image: PVD at sector 16, an El Torito boot record at 17, the terminator at 18, the catalog at 19.</summary>
    private static byte[] Iso(Action<byte[]>? catalog = null)
    {
        byte[] image = new byte[32 * 2048];
        void Descriptor(int sector, byte type)
        {
            int at = sector * 2048;
            image[at] = type;
            Encoding.ASCII.GetBytes("CD001").CopyTo(image, at + 1);
            image[at + 6] = 1;
        }

        Descriptor(16, 1);
        Encoding.ASCII.GetBytes("DEBIAN 12 AMD64".PadRight(32)).CopyTo(image, 16 * 2048 + 40);
        Descriptor(17, 0);
        Encoding.ASCII.GetBytes("EL TORITO SPECIFICATION").CopyTo(image, 17 * 2048 + 7);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(17 * 2048 + 0x47), 19);
        Descriptor(18, 255);

        var c = image.AsSpan(19 * 2048, 2048);
        c[0] = 1; // validation entry, platform x86
        c[30] = 0x55;
        c[31] = 0xAA;
        ushort sum = 0;
        for (int i = 0; i < 32; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(c[i..]);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(c[28..], (ushort)-sum);
        c[32] = 0x88; // default entry: bootable, no emulation, 4 sectors at RBA 20
        BinaryPrimitives.WriteUInt16LittleEndian(c[38..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(c[40..], 20);
        c[64] = 0x91; // final section header: EFI, one entry
        c[65] = 0xEF;
        c[66] = 1;
        c[96] = 0x88; // its entry: no emulation, count 0 ("to the end", edk2), RBA 24
        BinaryPrimitives.WriteUInt32LittleEndian(c[104..], 24);
        catalog?.Invoke(image);
        return image;
    }

    [Fact]
    public void AnIsoWithAnEfiBootEntryIsRecognised()
    {
        var facts = DiskImageInspector.Inspect(new MemoryBlockBackend(Iso()));
        Assert.True(facts.Iso9660);
        Assert.Equal("DEBIAN 12 AMD64", facts.VolumeId);
        Assert.NotNull(facts.ElTorito);
        Assert.True(facts.ElTorito.HasEfiEntry);
        Assert.Equal(2, facts.ElTorito.Entries.Count);
        Assert.Equal(new ElToritoEntry(0, true, 0, 4, 20), facts.ElTorito.Entries[0]);
        Assert.Equal(new ElToritoEntry(0xEF, true, 0, 0, 24), facts.ElTorito.Entries[1]);
        Assert.Equal(PartitionTableKind.None, facts.PartitionTable);
        Assert.Equal("ISO 9660 'DEBIAN 12 AMD64', El Torito: x86 BIOS (no emulation, LBA 20), EFI (no emulation, LBA 24), no partition table", facts.Summary());
    }

    [Fact]
    public void ACatalogWithABadChecksumIsNoCatalog()
    {
        var facts = DiskImageInspector.Inspect(new MemoryBlockBackend(Iso(image => image[19 * 2048 + 4] ^= 1)));
        Assert.True(facts.Iso9660);
        Assert.Null(facts.ElTorito);
    }

    [Fact]
    public void AnIsoWithoutEfiEntrySaysSo()
    {
        var facts = DiskImageInspector.Inspect(new MemoryBlockBackend(Iso(image => image[19 * 2048 + 65] = 0)));
        Assert.False(facts.ElTorito!.HasEfiEntry);
    }

    [Fact]
    public void AnMbrListsItsPartitions()
    {
        byte[] disk = new byte[64 * 512];
        WriteMbrEntry(disk, 0, 0x80, 0xEF, 2048, 4096);
        WriteMbrEntry(disk, 2, 0x00, 0x83, 8192, 100);
        disk[510] = 0x55;
        disk[511] = 0xAA;
        var facts = DiskImageInspector.Inspect(new MemoryBlockBackend(disk));
        Assert.False(facts.Iso9660);
        Assert.Equal(PartitionTableKind.Mbr, facts.PartitionTable);
        Assert.Equal([new PartitionEntry(1, 2048, 4096, "0xEF", "EFI system", true, null), new PartitionEntry(3, 8192, 100, "0x83", "Linux", false, null)], facts.Partitions);
    }

    [Fact]
    public void AGptBehindAProtectiveMbrIsReadAndCrcChecked()
    {
        byte[] disk = Gpt();
        var facts = DiskImageInspector.Inspect(new MemoryBlockBackend(disk));
        Assert.Equal(PartitionTableKind.Gpt, facts.PartitionTable);
        var p = Assert.Single(facts.Partitions);
        Assert.Equal(new PartitionEntry(1, 34, 100, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI system", false, "ESP"), p);

        disk[512 + 60] ^= 1; // damage the header: its CRC no longer matches, so only the protective MBR is left
        var damaged = DiskImageInspector.Inspect(new MemoryBlockBackend(disk));
        Assert.Equal(PartitionTableKind.Mbr, damaged.PartitionTable);
        Assert.Equal("GPT protective", Assert.Single(damaged.Partitions).TypeName);
    }

    [Fact]
    public void ABlankOrTinyImageHasNothing()
    {
        Assert.Equal("no partition table", DiskImageInspector.Inspect(new MemoryBlockBackend(new byte[4096])).Summary());
        Assert.Equal(PartitionTableKind.None, DiskImageInspector.Inspect(new MemoryBlockBackend(new byte[512])).PartitionTable);
    }

    private static void WriteMbrEntry(byte[] disk, int index, byte status, byte type, uint first, uint count)
    {
        var e = disk.AsSpan(446 + 16 * index, 16);
        e[0] = status;
        e[4] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(e[8..], first);
        BinaryPrimitives.WriteUInt32LittleEndian(e[12..], count);
    }

    private static byte[] Gpt()
    {
        byte[] disk = new byte[256 * 512];
        WriteMbrEntry(disk, 0, 0, 0xEE, 1, 255);
        disk[510] = 0x55;
        disk[511] = 0xAA;
        var entries = disk.AsSpan(2 * 512, 128 * 128);
        new Guid("C12A7328-F81F-11D2-BA4B-00A0C93EC93B").TryWriteBytes(entries);
        Guid.NewGuid().TryWriteBytes(entries[16..]);
        BinaryPrimitives.WriteInt64LittleEndian(entries[32..], 34);
        BinaryPrimitives.WriteInt64LittleEndian(entries[40..], 133);
        Encoding.Unicode.GetBytes("ESP").CopyTo(entries[56..]);
        var h = disk.AsSpan(512, 92);
        Encoding.ASCII.GetBytes("EFI PART").CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], 0x00010000);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 92);
        BinaryPrimitives.WriteInt64LittleEndian(h[24..], 1);
        BinaryPrimitives.WriteInt64LittleEndian(h[72..], 2);
        BinaryPrimitives.WriteUInt32LittleEndian(h[80..], 128);
        BinaryPrimitives.WriteUInt32LittleEndian(h[84..], 128);
        BinaryPrimitives.WriteUInt32LittleEndian(h[88..], Crc32.Compute(entries));
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], Crc32.Compute(h));
        return disk;
    }
}
