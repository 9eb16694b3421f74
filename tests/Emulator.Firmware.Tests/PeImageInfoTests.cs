using System.Buffers.Binary;

namespace Emulator.Firmware.Tests;

[Trait("Category", "Fixture")]
public class PeImageInfoTests
{
    [Fact]
    public void TeAddressesCountFromTheStrippedPeImageBase()
    {
        byte[] te = new byte[PeImageInfo.TeHeaderSize + 40];
        BinaryPrimitives.WriteUInt16LittleEndian(te, 0x5A56);
        BinaryPrimitives.WriteUInt16LittleEndian(te.AsSpan(2), (ushort)PeMachine.I386);
        te[4] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(te.AsSpan(6), 0x1E0);
        BinaryPrimitives.WriteUInt32LittleEndian(te.AsSpan(8), 0x2345);
        BinaryPrimitives.WriteUInt64LittleEndian(te.AsSpan(16), 0xFFF0_0000);
        BinaryPrimitives.WriteUInt32LittleEndian(te.AsSpan(PeImageInfo.TeHeaderSize + 8), 0x3000);
        BinaryPrimitives.WriteUInt32LittleEndian(te.AsSpan(PeImageInfo.TeHeaderSize + 12), 0x240);

        PeImageInfo info = PeImageInfo.Parse(te);

        Assert.Equal(PeImageFormat.Te, info.Format);
        Assert.Equal(PeMachine.I386, info.Machine);
        Assert.False(info.Is64Bit);
        Assert.Equal(0xFFF0_2345UL, info.EntryAddress);
        Assert.Equal(0xFFF0_0000UL + 0x1E0 - 40, info.HeaderAddress);
        Assert.Equal(0x3240U, info.SizeOfImage);
        Assert.Equal(PeImageInfo.TeHeaderSize + 40, info.HeaderExtent);
        Assert.Equal(0x1_0000UL + 0x2345 - (0x1E0 - 40), info.EntryAddressWhenHeaderAt(0x1_0000));
    }

    [Fact]
    public void RealPe32PlusSecHeaderIsDecoded()
    {
        FirmwareModule sec = FirmwareFixtures.Parse(FirmwareFixtures.Code).Modules.Single(m => m.Type == FfsFileType.SecurityCore);

        Assert.Equal(PeImageFormat.Pe32Plus, sec.Image.Format);
        Assert.Equal(PeMachine.Amd64, sec.Image.Machine);
        Assert.True(sec.Image.NumberOfSections > 0);
        Assert.Equal(sec.Image.ImageBase, sec.Image.HeaderAddress);
        Assert.Equal(sec.Image.EntryAddress, sec.Image.EntryAddressWhenHeaderAt(sec.Image.ImageBase));

        // e_lfanew, then "PE\0\0", the 20-byte COFF header and SizeOfOptionalHeader bytes.
        ReadOnlySpan<byte> pe = sec.ImageSection.Data.Span;
        int lfanew = BinaryPrimitives.ReadInt32LittleEndian(pe[0x3C..]);
        int optionalSize = BinaryPrimitives.ReadUInt16LittleEndian(pe[(lfanew + 4 + 16)..]);
        Assert.Equal(lfanew + 4 + 20 + optionalSize, sec.Image.HeaderExtent);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x4D, 0x5A })]
    [InlineData(new byte[] { 0x56, 0x5A, 0, 0 })]
    [InlineData(new byte[] { 0x50, 0x45, 0, 0, 0x4C, 0x01 })]
    public void TruncatedHeadersAreFormatErrors(byte[] bytes)
    {
        Assert.Throws<FirmwareFormatException>(() => PeImageInfo.Parse(bytes));
        Assert.False(PeImageInfo.TryParse(bytes, out PeImageInfo? info));
        Assert.Null(info);
    }
}
