using System.Buffers.Binary;
using System.Text;
using Emulator.Core.Devices.FwCfg;
using Emulator.Core.Machine;
using Emulator.Core.Platform;
using Emulator.Core.Platform.Acpi;
using Emulator.Core.Tests.Platform.Acpi;
using static Emulator.Core.Tests.Support.FwCfgGuest;

namespace Emulator.Core.Tests.Platform;

/// <summary>
/// What fw_cfg tells a guest on <c>-machine q35</c>, against QEMU 7.2 (Debian 1:7.2+dfsg-7+deb12u18).
/// Measured with tools/fw-cfg-dump (docs/fw-cfg.md "q35"): a 64 KiB <c>-bios</c> that programs
/// PMBASE 0x601/ACPI_CNTL 0x80 and PCIEXBAR 0xB0000001 as OVMF does, then copies the directory and
/// every file to COM1; run as <c>qemu-system-x86_64 -machine q35,accel=tcg -nodefaults -m 256 -smp 1
/// -display none -serial file:out.bin -bios fw-cfg-dump.bin</c>, also with <c>smm=off</c> and
/// <c>-global ICH9-LPC.disable_s3=1</c>, and with SMI feature probes before the dump. Each machine
/// here is programmed the same way first (<see cref="ProgramLikeOvmf"/>), so the tables see the PM
/// base and the ECAM window QEMU saw.
/// </summary>
[Trait("Category", "Unit")]
public sealed class Q35FwCfgTests : IDisposable
{
    private const ulong Buffer = 0x20000;

    // QEMU 7.2's tables, taken from the measured etc/acpi/tables (checksums served as 0).
    private const string QemuFadt =
        "46414350f40000000300424f434853204258504320202020010000004258504301000000000000004000000001000900b2000000020300000006000000000000040600000000000000000000080600002006000000000000040200041000"
        + "0000ff0fff0f000000000000000032020000a584000001080000f90c0000000000000f00000000000000000000004000000000000000012000000006000000000000000000000000000000000000011000000406000000000000000000"
        + "000000000000000000000000000000000000000000012000000806000000000000018000002006000000000000000000000000000000000000";

    private const string QemuMadt =
        "41504943780000000100424f4348532042585043202020200100000042585043010000000000e0fe010000000008000001000000010c00000000c0fe00000000020a0000020000000000020a0005050000000d00020a00090900"
        + "00000d00020a000a0a0000000d00020a000b0b0000000d000406ff000001";

    private const string QemuHpet = "48504554380000000100424f43485320425850432020202001000000425850430100000001a28680000000000000d0fe0000000000000000";
    private const string QemuMcfg = "4d4346473c0000000100424f4348532042585043202020200100000042585043010000000000000000000000000000b000000000000000ff00000000";
    private const string QemuWaet = "57414554280000000100424f43485320425850432020202001000000425850430100000002000000";

    private const string QemuSmbiosAnchor = "5f534d5f001f02084b000000000000005f444d495f00350100000000080028";

    private const string QemuSmbiosTables =
        "011b0001010203000000000000000000000000000000000006000051454d55005374616e646172642050432028513335202b20494348392c2032303039290070632d7133352d372e3200000316000301010200000303030200000000"
        + "000000000051454d550070632d7133352d372e320000042a000401030102b10f0600fdfb8b0703000000d007d0074101ffffffffffff0000000101010200010043505520300051454d550070632d7133352d372e3200001017001001"
        + "030600000400feff010000000000000000000000112800110010feffffffffff0001090001000702000000020000000000000000000000000000000044494d4d20300051454d550000131f001300000000ffff03000010010000"
        + "00000000000000000000000000000000200b00200000000000000000007f04007f0000";

    private readonly PcMachine _m = NewMachine();

    public void Dispose() => _m.Dispose();

    private static PcMachine NewMachine(bool smm = true, bool disableS3 = false)
    {
        var m = new PcMachine(new MachineOptions
        {
            Chipset = PcChipset.Q35,
            Smm = smm,
            DisableS3 = disableS3,
            Flash = [new("code", new byte[0x200000], true)],
        });
        ProgramLikeOvmf(m);
        return m;
    }

    /// <summary>What OVMF's SEC and PlatformPei (and the measuring -bios) program before fw_cfg's ACPI files are read: PMBASE 0x601, ACPI_CNTL 0x80, PCIEXBAR 0xB0000001.</summary>
    private static void ProgramLikeOvmf(PcMachine m)
    {
        m.Lpc.WriteConfig(0x40, 4, 0x601);
        m.Lpc.WriteConfig(0x44, 1, 0x80);
        m.Mch.WriteConfig(0x64, 4, 0);
        m.Mch.WriteConfig(0x60, 4, 0xB000_0001);
    }

    /// <summary>The tables in the served blob after the FACS, by signature.</summary>
    private static Dictionary<string, byte[]> Tables(PcMachine m)
    {
        var blob = ReadFile(m, AcpiTableBuilder.TablesFile)!;
        var tables = new Dictionary<string, byte[]>();
        for (int at = AcpiTableBuilder.FacsLength; at + 8 <= blob.Length && blob[at] != 0;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(at + 4));
            tables[Encoding.ASCII.GetString(blob, at, 4)] = blob[at..(at + length)];
            at += length;
        }

        return tables;
    }

    /// <summary>DMA-writes <paramref name="requested"/> to etc/smi/requested-features; returns the DMA status.</summary>
    private static uint Request(PcMachine m, ulong requested, int length = sizeof(ulong))
    {
        var bytes = new byte[length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, requested);
        m.Bus.WriteBlock(Buffer, bytes);
        ushort key = m.FwCfg.FileKey(SmiFeatureNegotiation.RequestedFile)!.Value;
        return Dma(m, ((uint)key << 16) | FwCfgDmaPort.ControlSelect | FwCfgDmaPort.ControlWrite, (uint)length, Buffer);
    }

    private static byte FeaturesOk(PcMachine m) => ReadFile(m, SmiFeatureNegotiation.FeaturesOkFile)![0];

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private static byte[] Window32(uint min, uint max)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(b, min);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), max);
        return b;
    }

    [Fact]
    public void DirectoryIsQemusNameForName()
    {
        // QEMU 7.2 lists 15 files; the 15th, genroms/kvmvapic.bin (9216 bytes, QEMU's own option
        // ROM), is not served, as on pc (docs/fw-cfg.md), so every other selector is the same.
        (string, uint, ushort)[] qemu =
        [
            ("bios-geometry", 0, 0x20), ("bootorder", 0, 0x21), ("etc/acpi/rsdp", 20, 0x22), ("etc/acpi/tables", 131072, 0x23),
            ("etc/boot-fail-wait", 4, 0x24), ("etc/e820", 40, 0x25), ("etc/smbios/smbios-anchor", 31, 0x26),
            ("etc/smbios/smbios-tables", 309, 0x27), ("etc/smi/features-ok", 1, 0x28), ("etc/smi/requested-features", 8, 0x29),
            ("etc/smi/supported-features", 8, 0x2A), ("etc/system-states", 6, 0x2B), ("etc/table-loader", 4096, 0x2C), ("etc/tpm/log", 0, 0x2D),
        ];
        Assert.Equal(qemu, Directory(_m));

        // smm=off keeps the SMI files (lpc_ich9.c adds them for any smi_host_features; measured).
        using var noSmm = NewMachine(smm: false);
        Assert.Equal(qemu, Directory(noSmm));

        // pc has none of them.
        using var pc = new PcMachine(new MachineOptions { Flash = [new("code", new byte[0x200000], true)] });
        Assert.DoesNotContain(Directory(pc), f => f.Name.StartsWith("etc/smi/", StringComparison.Ordinal));
    }

    [Fact]
    public void SmbiosAndE820AreQemus()
    {
        Assert.Equal(QemuSmbiosAnchor, Convert.ToHexStringLower(ReadFile(_m, "etc/smbios/smbios-anchor")!));
        Assert.Equal(QemuSmbiosTables, Convert.ToHexStringLower(ReadFile(_m, "etc/smbios/smbios-tables")!));
        Assert.Equal(
            "00000000fd0000000000000003000000020000000000000000000000000000100000000001000000",
            Convert.ToHexStringLower(ReadFile(_m, "etc/e820")!));
        Assert.Equal("pc-q35-7.2", _m.MachineType);
    }

    [Fact]
    public void SystemStatesOfferS3UnlessDisabled()
    {
        Assert.Equal([0x80, 0x00, 0x00, 0x81, 0x82, 0x80], ReadFile(_m, "etc/system-states"));
        Assert.True(Contains(Tables(_m)["DSDT"], "_S3_"u8.ToArray()));

        using var noS3 = NewMachine(disableS3: true);
        Assert.Equal([0x80, 0x00, 0x00, 0x01, 0x82, 0x80], ReadFile(noS3, "etc/system-states"));
        var dsdt = Tables(noS3)["DSDT"];
        Assert.False(Contains(dsdt, "_S3_"u8.ToArray()));
        Assert.True(Contains(dsdt, "_S4_"u8.ToArray()));
    }

    [Fact]
    public void SupportedFeaturesAreBroadcastAndCpuHotplugAndReadOnly()
    {
        Assert.Equal([0x07, 0, 0, 0, 0, 0, 0, 0], ReadFile(_m, SmiFeatureNegotiation.SupportedFile));
        ushort key = _m.FwCfg.FileKey(SmiFeatureNegotiation.SupportedFile)!.Value;
        _m.Bus.WriteBlock(Buffer, new byte[8]);
        Assert.Equal(FwCfgDmaPort.ControlError, Dma(_m, ((uint)key << 16) | FwCfgDmaPort.ControlSelect | FwCfgDmaPort.ControlWrite, 8, Buffer));
        Assert.Equal([0x07, 0, 0, 0, 0, 0, 0, 0], ReadFile(_m, SmiFeatureNegotiation.SupportedFile));
    }

    /// <summary>Each request first thing after reset, then features-ok selected: QEMU 7.2's answers, measured one run per row.</summary>
    [Theory]
    [InlineData(0x8UL, 0)]  // not offered
    [InlineData(0x2UL, 0)]  // hotplug without broadcast
    [InlineData(0x4UL, 0)]  // unplug without broadcast
    [InlineData(0x6UL, 0)]  // hotplug and unplug without broadcast
    [InlineData(0x5UL, 0)]  // unplug without hotplug
    [InlineData(0x3UL, 1)]
    [InlineData(0x7UL, 1)]
    [InlineData(0x1UL, 1)]
    [InlineData(0x0UL, 1)]
    public void FeaturesOkValidatesTheRequest(ulong requested, byte ok)
    {
        Assert.Equal(0u, Request(_m, requested));
        Assert.Equal(ok, FeaturesOk(_m));
        Assert.Equal(ok == 1 ? requested : 0, _m.SmiFeatures!.Negotiated);
    }

    [Fact]
    public void AFailedRequestCanBeRetriedAndASuccessLocksUntilReset()
    {
        Request(_m, 0x2);
        Assert.Equal(0, FeaturesOk(_m));
        Request(_m, 0x3);
        Assert.Equal(1, FeaturesOk(_m));

        // Locked: a new request is stored (the file stays writable) but changes nothing.
        Assert.Equal(0u, Request(_m, 0x8));
        Assert.Equal(1, FeaturesOk(_m));
        Assert.Equal(0x3UL, _m.SmiFeatures!.Negotiated);
        Assert.Equal([0x08, 0, 0, 0, 0, 0, 0, 0], ReadFile(_m, SmiFeatureNegotiation.RequestedFile));

        // More bytes than the file holds: the DMA write fails (fw_cfg_dma_transfer: len != length).
        Assert.Equal(FwCfgDmaPort.ControlError, Request(_m, 0x1, 9));

        _m.Reset();
        Assert.Equal(new byte[8], ReadFile(_m, SmiFeatureNegotiation.RequestedFile));
        Assert.Equal(0UL, _m.SmiFeatures.Negotiated);
        Request(_m, 0x1);
        Assert.Equal(1, FeaturesOk(_m));
        Assert.Equal(0x1UL, _m.SmiFeatures.Negotiated);
    }

    [Fact]
    public void FixedTablesAreQemusByteForByte()
    {
        var tables = Tables(_m);
        Assert.Equal(QemuFadt, Convert.ToHexStringLower(tables["FACP"]));
        Assert.Equal(QemuMadt, Convert.ToHexStringLower(tables["APIC"]));
        Assert.Equal(QemuHpet, Convert.ToHexStringLower(tables["HPET"]));
        Assert.Equal(QemuMcfg, Convert.ToHexStringLower(tables["MCFG"]));
        Assert.Equal(QemuWaet, Convert.ToHexStringLower(tables["WAET"]));
    }

    [Fact]
    public void WithoutSmmTheFadtHasNoSmiCommand()
    {
        using var noSmm = NewMachine(smm: false);
        var fadt = Tables(noSmm)["FACP"];
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(fadt.AsSpan(48)));
        Assert.Equal(0, fadt[52]);
        Assert.Equal(0, fadt[53]);

        // QEMU's smm=off FADT differs from the default one in those six bytes only (measured).
        var expected = Convert.FromHexString(QemuFadt);
        expected.AsSpan(48, 6).Clear();
        Assert.Equal(expected, fadt);
    }

    [Fact]
    public void LoaderInstallsQemusTablesInQemusOrder()
    {
        var files = new Dictionary<string, byte[]?>();
        var loader = new TableLoaderInterpreter(name => files.TryGetValue(name, out var data) ? data : files[name] = ReadFile(_m, name));
        var installed = loader.Run(ReadFile(_m, AcpiTableBuilder.LoaderFile)!);

        // QEMU 7.2's script (measured): ALLOCATE rsdp, ALLOCATE tables, CKSUM DSDT, PTR FADT+36,
        // +40 (4 bytes), +140 (X_DSDT, 8 bytes), CKSUM FADT, MADT, HPET, MCFG, WAET, five RSDT
        // pointers, CKSUM RSDT, PTR and CKSUM RSDP.
        Assert.Equal([1u, 1, 3, 2, 2, 2, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 3, 2, 3], loader.Commands.TakeWhile(c => c != 0));
        Assert.Equal(["FACS", "DSDT", "FACP", "APIC", "HPET", "MCFG", "WAET"], installed.Select(t => t.Signature));
        foreach (var (signature, address) in installed.Where(t => t.Signature != "FACS"))
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(loader.At(address, 8)[4..]);
            Assert.True(loader.At(address, length).ToArray().Aggregate(0, (s, b) => (s + b) & 0xFF) == 0, $"{signature} does not sum to 0");
        }

        // The FADT's DSDT and X_DSDT hold the same loaded address.
        var fadt = installed.Single(t => t.Signature == "FACP").Address;
        var dsdt = installed.Single(t => t.Signature == "DSDT").Address;
        Assert.Equal((uint)dsdt, BinaryPrimitives.ReadUInt32LittleEndian(loader.At(fadt + 40, 4)));
        Assert.Equal(dsdt, BinaryPrimitives.ReadUInt64LittleEndian(loader.At(fadt + 140, 8)));
    }

    [Fact]
    public void DsdtDescribesAPciExpressRootAroundTheEcamWindow()
    {
        var dsdt = Tables(_m)["DSDT"];
        Assert.True(Contains(dsdt, [0x0C, 0x41, 0xD0, 0x0A, 0x08]));      // EisaId("PNP0A08")
        Assert.True(Contains(dsdt, "DRAC"u8.ToArray()));
        Assert.True(Contains(dsdt, "PNP0C01"u8.ToArray()));
        Assert.True(Contains(dsdt, "SF8_"u8.ToArray()));
        Assert.True(Contains(dsdt, Window32(0xB000_0000, 0xBFFF_FFFF)));  // DRAC
        Assert.True(Contains(dsdt, Window32(0x1000_0000, 0xAFFF_FFFF)));  // PCI0 below the ECAM window
        Assert.True(Contains(dsdt, Window32(0xC000_0000, 0xFEBF_FFFF)));  // and above it
        Assert.False(Contains(dsdt, Window32(0x1000_0000, 0xFEBF_FFFF)));
    }

    /// <summary>The window the MCH decodes from PCIEXBAR (QEMU mch_update_pciexbar) is the one MCFG describes.</summary>
    [Theory]
    [InlineData(0xB000_0000UL, null, 0UL)]                        // enable clear: no window, no MCFG
    [InlineData(0xB000_0001UL, 0xB000_0000UL, 256UL << 20)]
    [InlineData(0xE800_0003UL, 0xE800_0000UL, 128UL << 20)]       // bit 27 is address with 128 MiB
    [InlineData(0xE800_0001UL, 0xE000_0000UL, 256UL << 20)]       // but not with 256 MiB
    [InlineData(0xEC00_0005UL, 0xE400_0000UL, 64UL << 20)]       // QEMU 7.2 adds only 64ADMSK (bit 26) with 64 MiB: bit 27 drops
    [InlineData(0xE000_0007UL, 0xB000_0000UL, 256UL << 20)]       // reserved length: logged, the window stays as it was
    public void PciExBarDecodesAsQemusMch(ulong bar, ulong? expectedBase, ulong expectedSize)
    {
        _m.Mch.WriteConfig(0x60, 4, (uint)bar);
        _m.Mch.WriteConfig(0x64, 4, (uint)(bar >> 32));
        Assert.Equal(expectedBase, _m.Mch.EcamEnabled ? _m.Mch.EcamBase : null);
        Assert.Equal(expectedSize, _m.Mch.EcamEnabled ? _m.Mch.EcamSize : 0);
        var mcfg = Tables(_m).GetValueOrDefault("MCFG");
        Assert.Equal(expectedBase, mcfg == null ? null : BinaryPrimitives.ReadUInt64LittleEndian(mcfg.AsSpan(44)));
    }

    [Fact]
    public void McfgBusCountFollowsTheWindowSize() => Assert.Equal(0x64, new EcamWindow(0, 100UL << 20).EndBus + 1);
}
