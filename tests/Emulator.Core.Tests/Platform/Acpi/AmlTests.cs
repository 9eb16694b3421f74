using Emulator.Core.Platform.Acpi;

namespace Emulator.Core.Tests.Platform.Acpi;

/// <summary>AML encodings checked against the ACPI 6.4 grammar (§20.2) and read back.</summary>
[Trait("Category", "Unit")]
public sealed class AmlTests
{
    [Theory]
    [InlineData(0, new byte[] { 0x01 })]
    [InlineData(62, new byte[] { 0x3F })]                  // 62 + 1 = 63: the largest one-byte form
    [InlineData(63, new byte[] { 0x41, 0x04 })]            // 63 + 2 = 65: lead 0x40 | low nibble 1, then 65 >> 4
    [InlineData(4093, new byte[] { 0x4F, 0xFF })]          // 4093 + 2 = 4095: the largest two-byte form
    [InlineData(4094, new byte[] { 0x81, 0x00, 0x01 })]    // 4094 + 3 = 4097
    public void PkgLengthCountsItsOwnBytes(int body, byte[] expected)
    {
        var encoded = Aml.PkgLength(body);
        var (value, size) = AmlReader.PkgLength(encoded, 0);
        Assert.Equal(body + size, value);
        Assert.Equal(encoded.Length, size);
        Assert.Equal(expected, encoded);
    }

    [Fact]
    public void NameStringsTakeRootParentDualAndMultiForms()
    {
        Assert.Equal("_SB_"u8.ToArray(), Aml.NameString("_SB"));
        Assert.Equal(new byte[] { 0x5C, 0x00 }, Aml.NameString("\\"));
        Assert.Equal([0x5C, 0x2E, .. "_SB_PCI0"u8.ToArray()], Aml.NameString("\\_SB.PCI0"));
        Assert.Equal([0x5C, 0x2F, 3, .. "_SB_PCI0S08_"u8.ToArray()], Aml.NameString("\\_SB.PCI0.S08"));
        Assert.Equal([0x5E, .. "DBGB"u8.ToArray()], Aml.NameString("^DBGB"));
        Assert.Throws<ArgumentException>(() => Aml.NameSeg("1ABC"));
        Assert.Throws<ArgumentException>(() => Aml.NameSeg("ABCDE"));
    }

    [Fact]
    public void IntegersUseTheShortestForm()
    {
        Assert.Equal(new byte[] { 0x00 }, Aml.Integer(0));
        Assert.Equal(new byte[] { 0x01 }, Aml.Integer(1));
        Assert.Equal(new byte[] { 0xFF }, Aml.Integer(ulong.MaxValue));
        Assert.Equal(new byte[] { 0x0A, 0x0F }, Aml.Integer(0x0F));
        Assert.Equal(new byte[] { 0x0B, 0x10, 0x05 }, Aml.Integer(0x510));
        Assert.Equal(new byte[] { 0x0C, 0x00, 0x00, 0x01, 0x00 }, Aml.Integer(0x10000));
        Assert.Equal(new byte[] { 0x0E, 0, 0, 0, 0, 1, 0, 0, 0 }, Aml.Integer(1UL << 32));
    }

    [Fact]
    public void EisaIdCompressesTheVendorLetters()
    {
        // PNP0A03: "PNP" = 0x41D0 in 5-bit letters, product 0x0A03; stored as bytes 41 D0 0A 03.
        Assert.Equal(new byte[] { 0x0C, 0x41, 0xD0, 0x0A, 0x03 }, Aml.EisaId("PNP0A03"));
        Assert.Throws<ArgumentException>(() => Aml.EisaId("pnp0a03"));
    }

    [Fact]
    public void FieldElementsEncodeTheirBitWidth()
    {
        var field = Aml.Field("DBG", Aml.ByteAcc, ("DBGB", 8), ("WIDE", 100));
        var reader = AmlReader.Read(field);
        Assert.Contains("\\DBGB", reader.Objects);
        Assert.Contains("\\WIDE", reader.Objects);
        int wide = field.AsSpan().IndexOf("WIDE"u8) + 4;
        Assert.Equal((100, 2), AmlReader.PkgLength(field, wide));
    }

    [Fact]
    public void NestedObjectsReadBackWithConsistentLengths()
    {
        var big = Enumerable.Range(0, 40).Select(i => Aml.Name($"N{i:X3}", Aml.Integer((ulong)i * 1000))).ToArray();
        var aml = Aml.Scope("\\_SB", Aml.Device("DEV0", [Aml.Name("_HID", Aml.EisaId("PNP0C0F")), .. big]), Aml.Method("MTHD", 1, true, Aml.Return(Aml.Arg(0))));
        var reader = AmlReader.Read(aml);
        Assert.Contains("\\_SB_.DEV0", reader.Objects);
        Assert.Contains("\\_SB_.MTHD", reader.Objects);
        Assert.Equal(Aml.Integer(39000), reader.Names["\\_SB_.DEV0.N027"]);
    }
}
