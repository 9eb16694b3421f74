using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Emulator.Hosting.Boot;

/// <summary>
/// A UEFI device path as text, the way edk2's DevicePathToText prints it when the firmware
/// shows a path (ConvertDevicePathToText with DisplayOnly and AllowShortcuts FALSE, as BdsDxe's
/// "loading Boot0001 ... from ..." does): MdePkg/Library/UefiDevicePathLib/DevicePathToText.c.
/// PrintLib prints hexadecimal digits and GUIDs in upper case. The nodes a boot goes through are
/// spelled out — PciRoot/PcieRoot/Acpi, Pci, Ata, Scsi, Sata, MAC, HD, CDROM, file paths,
/// Fv/FvFile, the vendor nodes — and every other node takes DevPathToTextNodeGeneric's form
/// (<c>HardwarePath(subtype,data)</c>, <c>AcpiPath</c>, <c>Msg</c>, <c>MediaPath</c>,
/// <c>BbsPath</c>, or <c>Path(type,subtype,data)</c>). Instances are separated by ','.
/// A path is bounded (<see cref="MaxLength"/>, <see cref="MaxNodes"/>) and a node whose length
/// is below its header's 4 bytes ends it: guest memory is the guest's.
/// </summary>
internal static class DevicePathText
{
    /// <summary>The most bytes of one device path read from guest memory.</summary>
    public const int MaxLength = 4096;

    /// <summary>The most nodes of one device path.</summary>
    public const int MaxNodes = 64;

    // UEFI spec 10.3 "Device Path Nodes": types and the subtypes spelled out here.
    private const byte HardwareType = 1, AcpiType = 2, MessagingType = 3, MediaType = 4, BbsType = 5, EndType = 0x7F;
    private const byte EndEntireSubtype = 0xFF;
    private const byte PciSubtype = 1, HardwareVendorSubtype = 4;
    private const byte AcpiSubtype = 1;
    private const byte AtapiSubtype = 1, ScsiSubtype = 2, MacSubtype = 11, MessagingVendorSubtype = 10, SataSubtype = 0x12;
    private const byte HardDriveSubtype = 1, CdRomSubtype = 2, MediaVendorSubtype = 3, FilePathSubtype = 4, FvFileSubtype = 6, FvSubtype = 7;

    /// <summary>Reads a device path at <paramref name="address"/> node by node up to its end node; null when a node cannot be read or is malformed.</summary>
    public static byte[]? Read(GuestMemoryRead read, ulong address)
    {
        var bytes = new List<byte>();
        Span<byte> header = stackalloc byte[4];
        for (int nodes = 0; nodes < MaxNodes; nodes++)
        {
            ulong node = address + (ulong)bytes.Count;
            if (!read(node, header))
            {
                return null;
            }

            int length = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
            if (length < 4 || bytes.Count + length > MaxLength)
            {
                return null;
            }

            var body = new byte[length];
            if (!read(node, body))
            {
                return null;
            }

            bytes.AddRange(body);
            if (header[0] == EndType && header[1] == EndEntireSubtype)
            {
                return [.. bytes];
            }
        }

        return null;
    }

    /// <summary>The text of <paramref name="path"/> (its nodes up to the end node or its last complete node).</summary>
    public static string Format(ReadOnlySpan<byte> path)
    {
        var text = new StringBuilder();
        foreach (var (type, subtype, data) in Nodes(path))
        {
            if (type == EndType)
            {
                if (subtype != EndEntireSubtype)
                {
                    text.Append(',');
                }

                continue;
            }

            if (text.Length > 0 && text[^1] != ',')
            {
                text.Append('/');
            }

            AppendNode(text, type, subtype, data);
        }

        return text.ToString();
    }

    /// <summary>Whether the path names a file in a firmware volume (a PI FvFile node: the image came from the flash, not from a disk or the network).</summary>
    public static bool IsFirmwareVolumeFile(ReadOnlySpan<byte> path)
    {
        foreach (var (type, subtype, _) in Nodes(path))
        {
            if (type == MediaType && subtype == FvFileSubtype)
            {
                return true;
            }
        }

        return false;
    }

    private static List<(byte Type, byte Subtype, byte[] Data)> Nodes(ReadOnlySpan<byte> path)
    {
        var nodes = new List<(byte, byte, byte[])>();
        int offset = 0;
        while (offset + 4 <= path.Length && nodes.Count < MaxNodes)
        {
            byte type = path[offset], subtype = path[offset + 1];
            int length = BinaryPrimitives.ReadUInt16LittleEndian(path[(offset + 2)..]);
            if (length < 4 || offset + length > path.Length)
            {
                break;
            }

            nodes.Add((type, subtype, path.Slice(offset + 4, length - 4).ToArray()));
            offset += length;
            if (type == EndType && subtype == EndEntireSubtype)
            {
                break;
            }
        }

        return nodes;
    }

    private static void AppendNode(StringBuilder text, byte type, byte subtype, byte[] d)
    {
        var inv = CultureInfo.InvariantCulture;
        switch ((type, subtype))
        {
            case (HardwareType, PciSubtype) when d.Length >= 2:
                text.Append(inv, $"Pci(0x{d[1]:X},0x{d[0]:X})");          // PCI_DEVICE_PATH: Function, Device
                return;
            case (AcpiType, AcpiSubtype) when d.Length >= 8:
                AppendAcpi(text, U32(d, 0), U32(d, 4));
                return;
            case (MessagingType, AtapiSubtype) when d.Length >= 4:
                text.Append(inv, $"Ata({(d[0] == 1 ? "Secondary" : "Primary")},{(d[1] == 1 ? "Slave" : "Master")},0x{U16(d, 2):X})");
                return;
            case (MessagingType, ScsiSubtype) when d.Length >= 4:
                text.Append(inv, $"Scsi(0x{U16(d, 0):X},0x{U16(d, 2):X})");
                return;
            case (MessagingType, SataSubtype) when d.Length >= 6:
                text.Append(inv, $"Sata(0x{U16(d, 0):X},0x{U16(d, 2):X},0x{U16(d, 4):X})");
                return;
            case (MessagingType, MacSubtype) when d.Length >= 33:
                // MAC_ADDR_DEVICE_PATH: a 32-byte address of which Ethernet (IfType 0 or 1) uses 6.
                int size = d[32] <= 1 ? 6 : 32;
                text.Append("MAC(").Append(Convert.ToHexString(d, 0, size)).Append(inv, $",0x{d[32]:X})");
                return;
            case (MediaType, HardDriveSubtype) when d.Length >= 38:
                AppendHardDrive(text, d);
                return;
            case (MediaType, CdRomSubtype) when d.Length >= 20:
                text.Append(inv, $"CDROM(0x{U32(d, 0):X},0x{U64(d, 4):X},0x{U64(d, 12):X})");
                return;
            case (MediaType, FilePathSubtype):
                text.Append(Utf16String(d));
                return;
            case (MediaType, FvFileSubtype) when d.Length >= 16:
                text.Append(inv, $"FvFile({GuidText(d, 0)})");
                return;
            case (MediaType, FvSubtype) when d.Length >= 16:
                text.Append(inv, $"Fv({GuidText(d, 0)})");
                return;
            case (HardwareType, HardwareVendorSubtype) or (MessagingType, MessagingVendorSubtype) or (MediaType, MediaVendorSubtype) when d.Length >= 16:
                string kind = type switch { HardwareType => "Hw", MessagingType => "Msg", _ => "Media" };
                text.Append(inv, $"Ven{kind}({GuidText(d, 0)}").Append(DataSuffix(d.AsSpan(16))).Append(')');
                return;
            default:
                AppendGeneric(text, type, subtype, d);
                return;
        }
    }

    private static void AppendAcpi(StringBuilder text, uint hid, uint uid)
    {
        // PNP_EISA_ID_CONST 0x41D0 ("PNP") in the low half, the device number in the high half.
        if ((hid & 0xFFFF) != 0x41D0)
        {
            text.Append(CultureInfo.InvariantCulture, $"Acpi(0x{hid:X8},0x{uid:X})");
            return;
        }

        uint number = hid >> 16;
        string? name = number switch
        {
            0x0A03 => "PciRoot", 0x0A08 => "PcieRoot", 0x0604 => "Floppy", 0x0301 => "Keyboard", 0x0501 => "Serial", 0x0401 => "ParallelPort", _ => null,
        };
        if (name != null)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}(0x{uid:X})");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"Acpi(PNP{number:X4},0x{uid:X})");
        }
    }

    private static void AppendHardDrive(StringBuilder text, byte[] d)
    {
        // HARDDRIVE_DEVICE_PATH: PartitionNumber, PartitionStart, PartitionSize, Signature[16], MBRType, SignatureType.
        var inv = CultureInfo.InvariantCulture;
        uint number = U32(d, 0);
        byte signatureType = d[37];
        if (signatureType == 1)
        {
            text.Append(inv, $"HD({number},MBR,0x{U32(d, 20):X8},");
        }
        else if (signatureType == 2)
        {
            text.Append(inv, $"HD({number},GPT,{GuidText(d, 20)},");
        }
        else
        {
            text.Append(inv, $"HD({number},{signatureType},0,");
        }

        text.Append(inv, $"0x{U64(d, 4):X},0x{U64(d, 12):X})");
    }

    private static void AppendGeneric(StringBuilder text, byte type, byte subtype, byte[] d)
    {
        var inv = CultureInfo.InvariantCulture;
        string prefix = type switch
        {
            HardwareType => "HardwarePath(",
            AcpiType => "AcpiPath(",
            MessagingType => "Msg(",
            MediaType => "MediaPath(",
            BbsType => "BbsPath(",
            _ => string.Create(inv, $"Path({type},"),
        };
        text.Append(prefix).Append(inv, $"{subtype}");
        text.Append(DataSuffix(d)).Append(')');
    }

    /// <summary>",XXXX…": a node's remaining bytes, two hexadecimal digits each; nothing when there are none.</summary>
    private static string DataSuffix(ReadOnlySpan<byte> data) => data.IsEmpty ? "" : "," + Convert.ToHexString(data);

    /// <summary>A FILEPATH_DEVICE_PATH's PathName: UTF-16 up to its terminating NUL or the node's end.</summary>
    private static string Utf16String(byte[] d)
    {
        var s = Encoding.Unicode.GetString(d, 0, d.Length & ~1);
        int nul = s.IndexOf('\0', StringComparison.Ordinal);
        return nul >= 0 ? s[..nul] : s;
    }

    /// <summary>PrintLib's %g: 8-4-4-4-12 hexadecimal digits, upper case.</summary>
    private static string GuidText(byte[] d, int offset) => new Guid(d.AsSpan(offset, 16)).ToString("D").ToUpperInvariant();

    private static ushort U16(byte[] d, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(offset));

    private static uint U32(byte[] d, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(offset));

    private static ulong U64(byte[] d, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(offset));
}
