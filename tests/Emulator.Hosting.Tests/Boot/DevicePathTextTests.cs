using System.Buffers.Binary;
using System.Text;
using Emulator.Hosting.Boot;

namespace Emulator.Hosting.Tests.Boot;

/// <summary>
/// Device paths as edk2's DevicePathToText prints them (MdePkg UefiDevicePathLib
/// DevicePathToText.c, DisplayOnly and AllowShortcuts FALSE): the strings OVMF itself prints on
/// QEMU's console for the same nodes ("BdsDxe: loading Boot0001 ... from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0)"),
/// upper-case hexadecimal, generic nodes in DevPathToTextNodeGeneric's form, and malformed paths cut short, never an exception.
/// </summary>
[Trait("Category", "Unit")]
public class DevicePathTextTests
{
    [Fact]
    public void TheNodesOfAnAhciCdBootPrintAsOvmfPrintsThem()
    {
        byte[] path = Path(
            Acpi(0x0A0341D0, 0), Pci(0x1F, 2), Node(3, 0x12, U16(0), U16(0xFFFF), U16(0)),
            Node(4, 2, U32(0), U64(0x200DC), U64(0x20258)), FilePath(@"\EFI\BOOT\BOOTX64.EFI"), End());

        Assert.Equal(@"PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0)/CDROM(0x0,0x200DC,0x20258)/\EFI\BOOT\BOOTX64.EFI", DevicePathText.Format(path));
        Assert.False(DevicePathText.IsFirmwareVolumeFile(path));
    }

    [Fact]
    public void IdeScsiAndHardDrivePartitionsPrintTheirFields()
    {
        byte[] mbr = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(mbr, 0x1234ABCD);
        byte[] path = Path(
            Acpi(0x0A0341D0, 0), Pci(1, 1), Node(3, 1, [1, 0], U16(0)),
            Node(4, 1, U32(2), U64(0x800), U64(0x100000), mbr, [1, 1]), End());

        Assert.Equal("PciRoot(0x0)/Pci(0x1,0x1)/Ata(Secondary,Master,0x0)/HD(2,MBR,0x1234ABCD,0x800,0x100000)", DevicePathText.Format(path));
        var gpt = Guid.Parse("0fc63daf-8483-4772-8e79-3d69d8477de4");
        byte[] gptPath = Path(Pci(4, 0), Node(3, 2, U16(0), U16(1)), Node(4, 1, U32(1), U64(34), U64(2048), gpt.ToByteArray(), [2, 2]), End());
        Assert.Equal("Pci(0x4,0x0)/Scsi(0x0,0x1)/HD(1,GPT,0FC63DAF-8483-4772-8E79-3D69D8477DE4,0x22,0x800)", DevicePathText.Format(gptPath));
    }

    [Fact]
    public void FirmwareVolumeFilesVendorNodesMacAndUnknownNodes()
    {
        var fv = Guid.Parse("7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1");
        var file = Guid.Parse("462caa21-7614-4503-836e-8ab6f4662331");
        byte[] shell = Path(Node(4, 7, fv.ToByteArray()), Node(4, 6, file.ToByteArray()), End());
        Assert.Equal("Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)/FvFile(462CAA21-7614-4503-836E-8AB6F4662331)", DevicePathText.Format(shell));
        Assert.True(DevicePathText.IsFirmwareVolumeFile(shell));

        byte[] vendor = Path(Node(1, 4, file.ToByteArray(), [0xAB, 0x01]), End());
        Assert.Equal("VenHw(462CAA21-7614-4503-836E-8AB6F4662331,AB01)", DevicePathText.Format(vendor));

        byte[] mac = new byte[33];
        mac[0] = 0x52;
        mac[1] = 0x54;
        mac[5] = 0x12;
        mac[32] = 1;
        Assert.Equal("Pci(0x3,0x0)/MAC(525400000012,0x1)", DevicePathText.Format(Path(Pci(3, 0), Node(3, 11, mac), End())));

        Assert.Equal("Msg(99,0102)/Path(9,1)", DevicePathText.Format(Path(Node(3, 99, [1, 2]), Node(9, 1), End())));
        Assert.Equal("Pci(0x2,0x0),Pci(0x3,0x0)", DevicePathText.Format(Path(Pci(2, 0), Node(0x7F, 1), Pci(3, 0), End())));
    }

    [Fact]
    public void MalformedPathsAreCutShortOrRefused()
    {
        // A node shorter than its 4-byte header, or one running past the data, ends the text; a read refuses it.
        byte[] zeroLength = Path(Pci(1, 0), [1, 1, 0, 0]);
        Assert.Equal("Pci(0x1,0x0)", DevicePathText.Format(zeroLength));
        Assert.Equal("Pci(0x1,0x0)", DevicePathText.Format(Path(Pci(1, 0), [1, 1, 0xFF, 0xFF, 0])));
        Assert.Null(DevicePathText.Read(Reader(zeroLength), 0));

        // Without an end node the read gives up after MaxNodes nodes instead of walking memory.
        byte[] endless = Enumerable.Repeat(Pci(1, 0), DevicePathText.MaxNodes + 1).SelectMany(b => b).ToArray();
        Assert.Null(DevicePathText.Read(Reader(endless), 0));
        Assert.Null(DevicePathText.Read((_, _) => false, 0));

        byte[] good = Path(Pci(1, 0), End());
        Assert.Equal(good, DevicePathText.Read(Reader([.. good, 0xEE, 0xEE]), 0));
    }

    internal static GuestMemoryRead Reader(byte[] memory) => (address, destination) =>
    {
        if (address > (ulong)memory.Length || (ulong)memory.Length - address < (ulong)destination.Length)
        {
            return false;
        }

        memory.AsSpan((int)address, destination.Length).CopyTo(destination);
        return true;
    };

    private static byte[] Path(params byte[][] nodes) => nodes.SelectMany(n => n).ToArray();

    private static byte[] Node(byte type, byte subtype, params byte[][] data)
    {
        byte[] body = data.SelectMany(d => d).ToArray();
        return [type, subtype, .. U16((ushort)(body.Length + 4)), .. body];
    }

    private static byte[] Acpi(uint hid, uint uid) => Node(2, 1, U32(hid), U32(uid));

    private static byte[] Pci(byte device, byte function) => Node(1, 1, [function, device]);

    private static byte[] FilePath(string name) => Node(4, 4, Encoding.Unicode.GetBytes(name + "\0"));

    private static byte[] End() => Node(0x7F, 0xFF);

    private static byte[] U16(ushort v) => BitConverter.GetBytes(v);

    private static byte[] U32(uint v) => BitConverter.GetBytes(v);

    private static byte[] U64(ulong v) => BitConverter.GetBytes(v);
}
