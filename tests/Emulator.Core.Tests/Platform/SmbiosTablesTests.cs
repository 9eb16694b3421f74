using System.Buffers.Binary;
using Emulator.Core.Platform.Smbios;
using Emulator.Core.Tests.Support;

namespace Emulator.Core.Tests.Platform;

/// <summary>
/// The SMBIOS generator, read back structure by structure: QEMU 7.2's layout for the default pc
/// machine (sizes, handles, strings measured on QEMU, docs/smbios.md), the entry point OVMF
/// validates, and the size-dependent fields (capacity, devices, extended addresses, handle offsets).
/// </summary>
[Trait("Category", "Unit")]
public sealed class SmbiosTablesTests
{
    private const ulong MiB = 1UL << 20;
    private const ulong GiB = 1UL << 30;
    private const ulong TiB = 1UL << 40;

    private static SmbiosPlatform Pc(ulong ram, params (ulong, ulong)[] ranges) => new()
    {
        Manufacturer = "QEMU",
        Product = "Standard PC (i440FX + PIIX, 1996)",
        Version = "pc-i440fx-7.2",
        Uuid = Guid.Empty,
        ProcessorSignature = 0x00060FB1,
        ProcessorFeatures = 0x078BFBFD,
        ProcessorSpeedMhz = 2000,
        Sockets = 1,
        CoresPerSocket = 1,
        ThreadsPerSocket = 1,
        RamSize = ram,
        RamRanges = ranges.Length > 0 ? ranges : [(0, ram)],
    };

    [Fact]
    public void OemStringsComeAfterTheProcessorsWithQemusHandleAndCount()
    {
        var t = SmbiosTables.Build(Pc(256 * MiB) with { OemStrings = ["io.systemd.credential:foo=bar"u8.ToArray(), [], "from-file\n"u8.ToArray(), "second"u8.ToArray()] });
        var s = SmbiosReader.Read(t.Structures);
        Assert.Equal([1, 3, 4, 11, 16, 17, 19, 32, 127], s.Select(x => (int)x.Type));

        // The bytes QEMU 7.2 serves for the same -smbios options (the Shell's dump, Boot tests' Data/qemu72-smbiosview-oem-2m.txt).
        byte[] expected = [0x0B, 0x05, 0x00, 0x0E, 0x04, .. "io.systemd.credential:foo=bar\0from-file\n\0second\0\0"u8];
        int at = s.Take(3).Sum(x => x.Size);
        Assert.Equal(expected, t.Structures.AsSpan(at, expected.Length).ToArray());
        Assert.Equal(9, t.Count);
    }

    [Fact]
    public void OemStringsBeyondSmbiosLimitsAreRefused()
    {
        Assert.Throws<SmbiosLimitException>(() => SmbiosTables.Build(Pc(256 * MiB) with { OemStrings = [.. Enumerable.Repeat("x"u8.ToArray(), 256)] }));
        var e = Assert.Throws<SmbiosLimitException>(() => SmbiosTables.Build(Pc(256 * MiB) with { OemStrings = [new byte[0x10000].Select(_ => (byte)'a').ToArray()] }));
        Assert.StartsWith("SMBIOS 2.1 table length ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultPcTablesHaveQemusLayout()
    {
        var t = SmbiosTables.Build(Pc(256 * MiB));
        var s = SmbiosReader.Read(t.Structures);

        Assert.Equal([1, 3, 4, 16, 17, 19, 32, 127], s.Select(x => (int)x.Type));
        Assert.Equal([0x100, 0x300, 0x400, 0x1000, 0x1100, 0x1300, 0x2000, 0x7F00], s.Select(x => (int)x.Handle));
        Assert.Equal([27, 22, 42, 23, 40, 31, 11, 4], s.Select(x => x.Formatted.Length));
        Assert.Equal([81, 42, 68, 25, 53, 33, 13, 6], s.Select(x => x.Size));
        Assert.Equal(321, t.Structures.Length);
        Assert.Equal((8, 81), (t.Count, t.MaxStructureSize));

        Assert.Equal(["QEMU", "Standard PC (i440FX + PIIX, 1996)", "pc-i440fx-7.2"], s[0].Strings);
        Assert.Equal(new byte[16], s[0].Formatted[8..24]);
        Assert.Equal(0x06, s[0].Byte(24));                       // wake-up: power switch
        Assert.Equal(["QEMU", "pc-i440fx-7.2"], s[1].Strings);
        Assert.Equal(["CPU 0", "QEMU", "pc-i440fx-7.2"], s[2].Strings);
        Assert.Equal((0x00060FB1u, 0x078BFBFDu), (s[2].DWord(8), s[2].DWord(12)));
        Assert.Equal((2000, 2000, 0x41), (s[2].Word(20), s[2].Word(22), (int)s[2].Byte(24)));
        Assert.Equal((1, 1, 1), (s[2].Byte(35), s[2].Byte(36), s[2].Byte(37)));
        Assert.Equal(256UL * 1024, s[3].DWord(7));               // capacity in KiB
        Assert.Equal(1, s[3].Word(13));                          // one device
        Assert.Equal(["DIMM 0", "QEMU"], s[4].Strings);
        Assert.Equal(0x1000, s[4].Word(4));                      // its array is type 16's handle
        Assert.Equal(256, s[4].Word(12));                        // size in MiB
        Assert.Equal((0u, (256u * 1024) - 1), (s[5].DWord(4), s[5].DWord(8)));
        Assert.All(s.Where(x => x.Type is 16 or 19 or 32 or 127), x => Assert.Empty(x.Strings));
    }

    [Fact]
    public void StringSetsEndInADoubleNulAndUnusedStringFieldsAreZero()
    {
        var t = SmbiosTables.Build(Pc(256 * MiB));
        int at = 0;
        foreach (var x in SmbiosReader.Read(t.Structures))
        {
            Assert.Equal(0, t.Structures[at + x.Size - 1]);
            Assert.Equal(0, t.Structures[at + x.Size - 2]);
            at += x.Size;
        }

        var system = SmbiosReader.Read(t.Structures)[0];
        Assert.Equal(string.Empty, system.String(7));            // serial number: field 0, no empty string
        Assert.Equal((0, 0), (system.Byte(25), system.Byte(26))); // SKU, family
    }

    [Fact]
    public void EntryPointDescribesTheTableAsOvmfChecksIt()
    {
        var t = SmbiosTables.Build(Pc(256 * MiB));
        var ep = t.EntryPoint;
        var s = SmbiosReader.Read(t.Structures);

        Assert.Equal(SmbiosEntryPoint.Size, ep.Length);
        Assert.Equal("_SM_"u8.ToArray(), ep[..4]);
        Assert.Equal("_DMI_"u8.ToArray(), ep[16..21]);
        Assert.Equal(31, ep[SmbiosEntryPoint.LengthOffset]);
        Assert.Equal((2, 8), (ep[SmbiosEntryPoint.MajorVersionOffset], ep[SmbiosEntryPoint.MinorVersionOffset]));
        Assert.Equal(0x28, ep[SmbiosEntryPoint.BcdRevisionOffset]);
        Assert.Equal(s.Max(x => x.Size), BinaryPrimitives.ReadUInt16LittleEndian(ep.AsSpan(SmbiosEntryPoint.MaxStructureSizeOffset)));
        Assert.Equal(t.Structures.Length, BinaryPrimitives.ReadUInt16LittleEndian(ep.AsSpan(SmbiosEntryPoint.TableLengthOffset)));
        Assert.Equal(s.Count, BinaryPrimitives.ReadUInt16LittleEndian(ep.AsSpan(SmbiosEntryPoint.StructureCountOffset)));

        // Left for the firmware, which places the table: both checksums, the address, the revision and formatted area.
        Assert.Equal(0, ep[SmbiosEntryPoint.ChecksumOffset]);
        Assert.Equal(0, ep[SmbiosEntryPoint.IntermediateChecksumOffset]);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(ep.AsSpan(SmbiosEntryPoint.TableAddressOffset)));
        Assert.Equal(new byte[6], ep[SmbiosEntryPoint.RevisionOffset..SmbiosEntryPoint.IntermediateAnchorOffset]);
    }

    [Fact]
    public void RamAbove4GiBSplitsIntoSixteenGiBDevicesAndOneRangePerE820Entry()
    {
        ulong ram = 40 * GiB;
        var s = SmbiosReader.Read(SmbiosTables.Build(Pc(ram, (0, 3 * GiB), (4 * GiB, ram - (3 * GiB)))).Structures);

        var devices = s.Where(x => x.Type == 17).ToList();
        Assert.Equal([16384, 16384, 8192], devices.Select(d => (int)d.Word(12)));
        Assert.Equal(["DIMM 0", "DIMM 1", "DIMM 2"], devices.Select(d => d.String(16)));
        Assert.Equal([0x1100, 0x1101, 0x1102], devices.Select(d => (int)d.Handle));
        Assert.Equal(3, s.Single(x => x.Type == 16).Word(13));
        Assert.Equal(40UL * 1024 * 1024, s.Single(x => x.Type == 16).DWord(7));

        var ranges = s.Where(x => x.Type == 19).ToList();
        Assert.Equal([0x1300, 0x1301], ranges.Select(r => (int)r.Handle));
        Assert.Equal((4u * 1024 * 1024, (uint)(((ram + GiB) / 1024) - 1)), (ranges[1].DWord(4), ranges[1].DWord(8)));
    }

    [Fact]
    public void HugeRamUsesTheExtendedFieldsAndShiftsTheMappedAddressHandles()
    {
        // 9 TiB: 576 devices, more than the 0x200 handles between types 17 and 19; the capacity
        // needs type 16's byte field, each range end past 4 Ti KiB needs type 19's.
        ulong ram = 9 * TiB;
        var t = SmbiosTables.Build(Pc(ram, (0, 3 * GiB), (4 * GiB, ram - (3 * GiB))));
        var s = SmbiosReader.Read(t.Structures);

        var array = s.Single(x => x.Type == 16);
        Assert.Equal((0x8000_0000u, ram, 576), (array.DWord(7), array.QWord(15), (int)array.Word(13)));
        var devices = s.Where(x => x.Type == 17).ToList();
        Assert.Equal(576, devices.Count);
        Assert.All(devices, d => Assert.Equal((16384, 0u), (d.Word(12), d.DWord(28))));

        var ranges = s.Where(x => x.Type == 19).ToList();
        Assert.Equal([0x1340, 0x1341], ranges.Select(r => (int)r.Handle));
        Assert.Equal((0xFFFF_FFFFu, 0xFFFF_FFFFu), (ranges[1].DWord(4), ranges[1].DWord(8)));
        Assert.Equal((4 * GiB, ram + GiB - 1), (ranges[1].QWord(15), ranges[1].QWord(23)));
        Assert.Equal(s.Count, s.Select(x => x.Handle).Distinct().Count());
        Assert.Equal(127, s[^1].Type);
    }

    [Fact]
    public void EverySocketGetsAProcessorNamedAsQemuFormatsIt()
    {
        var p = Pc(256 * MiB) with { Sockets = 17, CoresPerSocket = 300, ThreadsPerSocket = 2 };
        var cpus = SmbiosReader.Read(SmbiosTables.Build(p).Structures).Where(x => x.Type == 4).ToList();

        Assert.Equal(17, cpus.Count);
        Assert.Equal("CPU 0", cpus[0].Strings[0]);
        Assert.Equal("CPU f", cpus[15].Strings[0]);              // "%2x": hex, padded to two
        Assert.Equal("CPU10", cpus[16].Strings[0]);
        Assert.Equal(0x410, cpus[16].Handle);
        Assert.Equal((255, 255, 2), (cpus[0].Byte(35), cpus[0].Byte(36), cpus[0].Byte(37)));   // counts saturate at 255
    }

    [Fact]
    public void TheUuidIsStoredInSmbiosWireOrder()
    {
        var uuid = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        var s = SmbiosReader.Read(SmbiosTables.Build(Pc(256 * MiB) with { Uuid = uuid }).Structures);
        Assert.Equal(Convert.FromHexString("33221100554477668899AABBCCDDEEFF"), s[0].Formatted[8..24]);
    }

    [Fact]
    public void TablesBeyondTheEntryPointsSixteenBitLengthAreRefused()
    {
        // 0x200 devices × 53 bytes stay below 64 KiB; 0x500 (20 TiB) do not.
        Assert.Throws<SmbiosLimitException>(() => SmbiosTables.Build(Pc(20 * TiB)));
        Assert.Throws<ArgumentException>(() => new SmbiosStructure(1, 0x100).String("caf\u00e9"));
        Assert.Throws<ArgumentException>(() => SmbiosTables.Build(Pc(256 * MiB) with { Sockets = 0 }));
    }
}
