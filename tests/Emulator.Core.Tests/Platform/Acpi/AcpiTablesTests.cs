using System.Buffers.Binary;
using System.Text;
using Emulator.Core.Cpu;
using Emulator.Core.Devices.FwCfg;
using Emulator.Core.Machine;
using Emulator.Core.Memory;
using Emulator.Core.Platform.Acpi;

namespace Emulator.Core.Tests.Platform.Acpi;

/// <summary>
/// The ACPI files the pc machine serves through fw_cfg, read through the fw_cfg ports as the
/// firmware reads them and loaded by <see cref="TableLoaderInterpreter"/> as OVMF would load them.
/// </summary>
[Trait("Category", "Unit")]
public sealed class AcpiTablesTests : IDisposable
{
    private readonly PcMachine _m = new(new MachineOptions { Flash = [new("code", new byte[0x200000], true)] });

    public void Dispose() => _m.Dispose();

    /// <summary>OVMF's SEC: PIIX4 PM base 0xB000 (PCI 00:01.3 register 0x40) and I/O space on (0x80 bit 0).</summary>
    private static void ProgramPmBase(PcMachine m, ushort pmBase)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0B40);
        m.Ports.Write(0xCFC, 4, pmBase | 1u);
        m.Ports.Write(0xCF8, 4, 0x8000_0B80);
        m.Ports.Write(0xCFC, 1, 1);
    }

    /// <summary>A fw_cfg file's contents read through the directory and the data port, or null when it is not listed.</summary>
    private static byte[]? ReadFile(PcMachine m, string name)
    {
        m.Ports.Write(0x510, 2, FwCfg.FileDirKey);
        var count = BinaryPrimitives.ReadUInt32BigEndian(ReadData(m, 4));
        for (int i = 0; i < count; i++)
        {
            var e = ReadData(m, FwCfg.FileEntrySize);
            if (Encoding.ASCII.GetString(e, 8, FwCfg.FileNameLength).TrimEnd('\0') == name)
            {
                m.Ports.Write(0x510, 2, BinaryPrimitives.ReadUInt16BigEndian(e.AsSpan(4)));
                return ReadData(m, (int)BinaryPrimitives.ReadUInt32BigEndian(e));
            }
        }

        return null;
    }

    private static byte[] ReadData(PcMachine m, int count)
    {
        var b = new byte[count];
        for (int i = 0; i < count; i++)
        {
            b[i] = (byte)m.Ports.Read(0x511, 1);
        }

        return b;
    }

    private static List<(string Signature, ulong Address)> Load(PcMachine m, out TableLoaderInterpreter loader)
    {
        var files = new Dictionary<string, byte[]?>();
        loader = new TableLoaderInterpreter(name => files.TryGetValue(name, out var data) ? data : files[name] = ReadFile(m, name));
        return loader.Run(ReadFile(m, AcpiTableBuilder.LoaderFile)!);
    }

    private static uint U32(Span<byte> s, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(s[offset..]);

    [Fact]
    public void FilesHaveQemusNamesAndSizes()
    {
        Assert.Equal(131072, ReadFile(_m, "etc/acpi/tables")!.Length);
        Assert.Equal(20, ReadFile(_m, "etc/acpi/rsdp")!.Length);
        Assert.Equal(4096, ReadFile(_m, "etc/table-loader")!.Length);
        Assert.Empty(ReadFile(_m, "etc/tpm/log")!);
    }

    [Fact]
    public void LoaderScriptLoadsLikeOvmfAndEveryTableSumsToZero()
    {
        ProgramPmBase(_m, 0xB000);
        var installed = Load(_m, out var loader);

        // QEMU's order: ALLOCATE rsdp, ALLOCATE tables, then pointers and checksums (16 commands).
        Assert.Equal([1u, 1, 3, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2, 3, 2, 3], loader.Commands.TakeWhile(c => c != 0));
        Assert.Equal(["FACS", "DSDT", "FACP", "APIC", "HPET", "WAET"], installed.Select(t => t.Signature));

        // The RSDP: rev 0, sums to 0 over 20 bytes, its RSDT lists FACP, APIC, HPET, WAET, all summing to 0.
        var (rsdpBase, rsdp) = loader.Blobs["etc/acpi/rsdp"];
        Assert.Equal("RSD PTR "u8.ToArray(), rsdp[..8]);
        Assert.Equal(0, rsdp[15]);
        Assert.Equal(0, rsdp.Aggregate(0, (s, b) => (s + b) & 0xFF));
        Assert.Equal(0UL, rsdpBase & 15);
        ulong rsdt = U32(rsdp, 16);
        var rsdtHeader = loader.At(rsdt, 36);
        Assert.Equal("RSDT", Encoding.ASCII.GetString(rsdtHeader[..4]));
        int rsdtLength = (int)U32(rsdtHeader, 4);
        var rsdtTable = loader.At(rsdt, rsdtLength).ToArray();
        Assert.Equal(0, rsdtTable.Aggregate(0, (s, b) => (s + b) & 0xFF));
        var listed = new List<string>();
        for (int at = 36; at < rsdtLength; at += 4)
        {
            var header = loader.At(U32(rsdtTable, at), 36);
            var table = loader.At(U32(rsdtTable, at), (int)U32(header, 4)).ToArray();
            Assert.Equal(0, table.Aggregate(0, (s, b) => (s + b) & 0xFF));
            listed.Add(Encoding.ASCII.GetString(table, 0, 4));
        }

        Assert.Equal(["FACP", "APIC", "HPET", "WAET"], listed);
    }

    [Fact]
    public void FadtPointsAtThePmBlockTheGuestProgrammedBeforeTheFirstRead()
    {
        ProgramPmBase(_m, 0xC000);
        Load(_m, out var loader);
        var fadt = Fadt(loader);
        Assert.Equal(1, fadt[8]);                            // revision 1, 116 bytes (ACPI 1.0 for PIIX4)
        Assert.Equal(116u, U32(fadt, 4));
        Assert.Equal(0xC000u, U32(fadt, 56));                // PM1a_EVT_BLK
        Assert.Equal(0xC004u, U32(fadt, 64));                // PM1a_CNT_BLK
        Assert.Equal(0xC008u, U32(fadt, 76));                // PM_TMR_BLK
        Assert.Equal(0xAFE0u, U32(fadt, 80));                // GPE0_BLK: QEMU's fixed GPE_BASE, not PM base + 0x0C
        Assert.Equal(4, fadt[92]);                           // GPE0_BLK_LEN
        Assert.Equal(9, BinaryPrimitives.ReadUInt16LittleEndian(fadt.AsSpan(46)));
        Assert.Equal(0x80A5u, U32(fadt, 112));
        Assert.Equal("FACS", Encoding.ASCII.GetString(loader.At(U32(fadt, 36), 4)));

        // ACPI mode as an OS enters it: ACPI_ENABLE to SMI_CMD, then SCI_EN reads back in PM1a_CNT.
        Assert.Equal((0xB2u, 0xF1, 0xF0), (U32(fadt, 48), fadt[52], fadt[53]));
        Assert.Equal(0u, _m.Ports.Read(0xC004, 2) & 1);
        _m.Ports.Write((ushort)U32(fadt, 48), 1, fadt[52]);
        Assert.Equal(1u, _m.Ports.Read(0xC004, 2) & 1);
        _m.Ports.Write((ushort)U32(fadt, 48), 1, fadt[53]);
        Assert.Equal(0u, _m.Ports.Read(0xC004, 2) & 1);
        Assert.Equal("DSDT", Encoding.ASCII.GetString(loader.At(U32(fadt, 40), 4)));

        // Built once per boot: a later PM base change shows only after a machine reset.
        ProgramPmBase(_m, 0xD000);
        Load(_m, out loader);
        Assert.Equal(0xC000u, U32(Fadt(loader), 56));
        Assert.Equal(1, _m.Acpi.Rebuilds);
        _m.Reset();
        ProgramPmBase(_m, 0xD000);
        Load(_m, out loader);
        Assert.Equal(0xD000u, U32(Fadt(loader), 56));
        Assert.Equal(2, _m.Acpi.Rebuilds);
    }

    [Fact]
    public void S5FromTheDsdtPowersTheMachineOffThroughTheFadtsControlBlock()
    {
        ProgramPmBase(_m, 0xB000);
        Load(_m, out var loader);
        var fadt = Fadt(loader);
        var dsdtHeader = loader.At(U32(fadt, 40), 36);
        var dsdt = AmlReader.Read(loader.At(U32(fadt, 40), (int)U32(dsdtHeader, 4))[36..].ToArray());
        var s5 = AmlReader.IntegerPackage(dsdt.Names["\\_S5_"]);
        Assert.Equal([0UL, 0, 0, 0], s5);
        Assert.Equal([1UL, 1, 0, 0], AmlReader.IntegerPackage(dsdt.Names["\\_S3_"]));
        Assert.Equal([2UL, 2, 0, 0], AmlReader.IntegerPackage(dsdt.Names["\\_S4_"]));

        // What an OS does: SLP_TYPa from \_S5 with SLP_EN (bit 13) into PM1a_CNT, here from guest
        // code at the reset vector: mov dx, PM1a_CNT; mov ax, value; out dx, ax; hlt.
        ushort control = (ushort)U32(fadt, 64);
        ushort value = (ushort)((s5[0] << 10) | 0x2000);
        var code = new byte[0x200000];
        byte[] program = [0xBA, (byte)control, (byte)(control >> 8), 0xB8, (byte)value, (byte)(value >> 8), 0xEF, 0xF4];
        program.CopyTo(code, code.Length - 16);
        using var m = new PcMachine(new MachineOptions { Flash = [new("code", code, true)] });
        ProgramPmBase(m, 0xB000);
        Assert.Equal(StopReason.PowerOff, m.Run(1000));
    }

    [Fact]
    public void Gpe0AnswersAtTheFadtPortWhetherOrNotThePmBlockIsEnabled()
    {
        // QEMU maps "acpi-gpe0" straight into the I/O space at machine creation, not under PMBA.
        _m.Ports.Write(0xAFE2, 2, 0x8001);
        Assert.Equal(0x8001_0000u, _m.Ports.Read(0xAFE0, 4));
        Assert.DoesNotContain(_m.Ports.Unassigned.Entries, e => e.Space == UnassignedSpace.Port && e.Address >= 0xAFE0 && e.Address < 0xAFE4);

        ProgramPmBase(_m, 0xC000);
        Load(_m, out var loader);
        ushort gpe0 = (ushort)U32(Fadt(loader), 80);
        Assert.Equal(0x8001u, _m.Ports.Read((ushort)(gpe0 + 2), 2));
        _m.Ports.Write(gpe0, 2, 0xFFFF);                     // status is write-1-to-clear: nothing sets
        Assert.Equal(0u, _m.Ports.Read(gpe0, 2));
        Assert.Equal(0xFFFF_FFFFu, _m.Ports.Read(0xC00C, 4)); // the PM block no longer decodes +0x0C..+0x0F

        _m.Reset();
        Assert.Equal(0u, _m.Ports.Read(gpe0, 4));            // acpi_gpe_reset
    }

    [Fact]
    public void DsdtDescribesTheModelledDevices()
    {
        var facts = _m.AcpiFacts();
        var dsdt = AmlReader.Read(DsdtBuilder.Build(facts));
        Assert.Equal(Aml.EisaId("PNP0A03"), dsdt.Names["\\_SB_.PCI0._HID"]);
        Assert.Contains("\\_SB_.CPUS.C000", dsdt.Objects);
        Assert.Contains("\\DBUG", dsdt.Objects);
        Assert.Equal(Aml.String("QEMU0002"), dsdt.Names["\\_SB_.PCI0.FWCF._HID"]);
        Assert.Equal(AmlResources.Io(0x510, 0x510, 1, 12)[..8], AmlReader.BufferContents(dsdt.Names["\\_SB_.PCI0.FWCF._CRS"])[..8]);

        // COM1 under the ISA bridge S08 (00:01.0): 0x3F8, 8 ports, IRQ 4, then the End Tag.
        Assert.Equal(Aml.EisaId("PNP0501"), dsdt.Names["\\_SB_.PCI0.S08_.COM1._HID"]);
        var com1 = AmlReader.BufferContents(dsdt.Names["\\_SB_.PCI0.S08_.COM1._CRS"]);
        Assert.Equal(new byte[] { 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x00, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00 }, com1);
        Assert.Contains("\\_SB_.PCI0.S08_.KBD_", dsdt.Objects);
        Assert.Contains("\\_SB_.PCI0.S08_.RTC_", dsdt.Objects);
        Assert.Contains("\\_SB_.HPET", dsdt.Objects);

        // PCI0's windows: 256 MiB of RAM, so the 32-bit hole is 0x10000000-0xFEBFFFFF; the
        // 64-bit one is 2 GiB from 4 GiB.
        var crs = AmlReader.BufferContents(dsdt.Names["\\_SB_.PCI0._CRS"]);
        int hole32 = IndexOf(crs, [0x87, 0x17, 0x00, 0x00, 0x0C, 0x01]);
        Assert.Equal(0x1000_0000u, U32(crs, hole32 + 10));
        Assert.Equal(0xFEBF_FFFFu, U32(crs, hole32 + 14));
        int hole64 = IndexOf(crs, [0x8A, 0x2B, 0x00]);
        Assert.Equal(1UL << 32, BinaryPrimitives.ReadUInt64LittleEndian(crs.AsSpan(hole64 + 14)));
        Assert.Equal(2UL << 30, BinaryPrimitives.ReadUInt64LittleEndian(crs.AsSpan(hole64 + 38)));
    }

    [Fact]
    public void IoApicAndHpetInputsAddMadtEntriesAndTheHpetTable()
    {
        var facts = _m.AcpiFacts() with
        {
            IoApic = new AcpiIoApic(0, 0xFEC0_0000, 0, PcMachine.IsaInterruptOverrides),
            HpetAddress = 0xFED0_0000,
        };
        var build = AcpiTableBuilder.Build(facts, 0xB000);
        var files = new Dictionary<string, byte[]> { ["etc/acpi/tables"] = build.Tables, ["etc/acpi/rsdp"] = build.Rsdp, ["etc/table-loader"] = build.Loader };
        var loader = new TableLoaderInterpreter(name => files.GetValueOrDefault(name));
        var installed = loader.Run(build.Loader);
        Assert.Equal(["FACS", "DSDT", "FACP", "APIC", "HPET", "WAET"], installed.Select(t => t.Signature));

        var madt = loader.At(installed.Single(t => t.Signature == "APIC").Address, 36).ToArray();
        var body = loader.At(installed.Single(t => t.Signature == "APIC").Address, (int)U32(madt, 4)).ToArray();
        Assert.Equal(0xFEE0_0000u, U32(body, 36));
        Assert.Equal(1u, U32(body, 40));                                 // PCAT_COMPAT
        Assert.Equal(new byte[] { 0, 8, 0, 0, 1, 0, 0, 0 }, body[44..52]); // CPU 0's local APIC
        Assert.Equal(new byte[] { 1, 12, 0, 0, 0x00, 0x00, 0xC0, 0xFE, 0, 0, 0, 0 }, body[52..64]);
        Assert.Equal(new byte[] { 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 }, body[64..74]);       // IRQ0 -> GSI 2
        Assert.Equal(new byte[] { 2, 10, 0, 5, 5, 0, 0, 0, 0x0D, 0 }, body[74..84]);    // IRQ5 level, active high
        Assert.Equal(120, body.Length);                                                 // QEMU's size: 3 more overrides (9, 10, 11)
        Assert.Equal(new byte[] { 4, 6, 0xFF, 0, 0, 1 }, body[^6..]);                   // NMI on LINT1

        var hpet = loader.At(installed.Single(t => t.Signature == "HPET").Address, 56).ToArray();
        Assert.Equal(0x8086_A201u, U32(hpet, 36));
        Assert.Equal(0xFED0_0000UL, BinaryPrimitives.ReadUInt64LittleEndian(hpet.AsSpan(44)));
        Assert.Contains("\\_SB_.HPET", AmlReader.Read(DsdtBuilder.Build(facts)).Objects);
    }

    [Fact]
    public void WritePointerEncodesQemusLayout()
    {
        var loader = new TableLoader();
        loader.WritePointer("etc/vmgenid_addr", 0, 8, "etc/vmgenid_guid", 40);
        var e = loader.Encode(TableLoader.EntrySize);
        Assert.Equal(4u, U32(e, 0));
        Assert.Equal("etc/vmgenid_addr", Encoding.ASCII.GetString(e, 4, 16));
        Assert.Equal("etc/vmgenid_guid", Encoding.ASCII.GetString(e, 60, 16));
        Assert.Equal(0u, U32(e, 116));
        Assert.Equal(40u, U32(e, 120));
        Assert.Equal(8, e[124]);
    }

    private static byte[] Fadt(TableLoaderInterpreter loader)
    {
        var (_, rsdp) = loader.Blobs["etc/acpi/rsdp"];
        ulong fadt = U32(loader.At(U32(rsdp, 16), 40), 36);
        return loader.At(fadt, 116).ToArray();
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        int at = haystack.AsSpan().IndexOf(needle);
        Assert.True(at >= 0);
        return at;
    }
}
