using System.Buffers.Binary;

namespace Emulator.Core.Platform.Smbios;

/// <summary>
/// The SMBIOS 2.1 (32-bit) entry point structure, 31 bytes (DSP0134 5.2.1; edk2
/// SMBIOS_TABLE_ENTRY_POINT), as QEMU serves it in <c>etc/smbios/smbios-anchor</c>: anchors,
/// version, the structure table's length, largest structure and structure count filled in; both
/// checksums and the table address left 0, because the firmware copies the table and must
/// recompute them (hw/smbios/smbios.c smbios_entry_point_setup). OVMF's DetectSmbiosVersionLib
/// accepts it when it is 31 bytes, the major version is 2, the anchors match and the table length
/// equals the size of <c>etc/smbios/smbios-tables</c>.
/// </summary>
public static class SmbiosEntryPoint
{
    public const int Size = 31;

    public const int ChecksumOffset = 4;
    public const int LengthOffset = 5;
    public const int MajorVersionOffset = 6;
    public const int MinorVersionOffset = 7;
    public const int MaxStructureSizeOffset = 8;
    public const int RevisionOffset = 10;
    public const int FormattedAreaOffset = 11;
    public const int IntermediateAnchorOffset = 16;
    public const int IntermediateChecksumOffset = 21;
    public const int TableLengthOffset = 22;
    public const int TableAddressOffset = 24;
    public const int StructureCountOffset = 28;
    public const int BcdRevisionOffset = 30;

    /// <summary>QEMU's pc machines advertise SMBIOS 2.8 with the 32-bit entry point.</summary>
    public const byte MajorVersion = 2;
    public const byte MinorVersion = 8;

    public static ReadOnlySpan<byte> Anchor => "_SM_"u8;

    public static ReadOnlySpan<byte> IntermediateAnchor => "_DMI_"u8;

    /// <summary>The structure table length is a 16-bit field; QEMU refuses larger tables (smbios_validate_table, SMBIOS_21_MAX_TABLES_LEN).</summary>
    public const int MaxTableLength = ushort.MaxValue;

    public static byte[] Build(int tableLength, int maxStructureSize, int structureCount)
    {
        if (tableLength > MaxTableLength)
        {
            throw new SmbiosLimitException($"SMBIOS 2.1 table length {tableLength} exceeds {MaxTableLength}");
        }

        var ep = new byte[Size];
        Anchor.CopyTo(ep);
        ep[LengthOffset] = Size;
        ep[MajorVersionOffset] = MajorVersion;
        ep[MinorVersionOffset] = MinorVersion;
        BinaryPrimitives.WriteUInt16LittleEndian(ep.AsSpan(MaxStructureSizeOffset), (ushort)maxStructureSize);
        IntermediateAnchor.CopyTo(ep.AsSpan(IntermediateAnchorOffset));
        BinaryPrimitives.WriteUInt16LittleEndian(ep.AsSpan(TableLengthOffset), (ushort)tableLength);
        BinaryPrimitives.WriteUInt16LittleEndian(ep.AsSpan(StructureCountOffset), (ushort)structureCount);
        ep[BcdRevisionOffset] = (MajorVersion << 4) | MinorVersion;
        return ep;
    }
}
