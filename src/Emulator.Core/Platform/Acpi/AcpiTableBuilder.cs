using System.Buffers.Binary;
using System.Text;

namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// Builds the three fw_cfg files of QEMU's ACPI interface from platform facts (layout and
/// command order as QEMU 7.2's pc machine, hw/i386/acpi-build.c acpi_build; docs/acpi-tables.md):
/// <c>etc/acpi/tables</c> — FACS, DSDT, FADT, MADT, HPET (when there is one), WAET, RSDT, back to
/// back and zero-padded to 128 KiB —, <c>etc/acpi/rsdp</c> — a 20-byte revision-0 RSDP pointing
/// at the RSDT — and <c>etc/table-loader</c>, the script that allocates both, links the pointers
/// and fills the checksums (every checksum byte is served as 0). Tables are ACPI 1.0 forms:
/// revision-1 FADT (QEMU's choice for PIIX4), RSDT only, no XSDT.
/// </summary>
public static class AcpiTableBuilder
{
    public const string TablesFile = "etc/acpi/tables";
    public const string RsdpFile = "etc/acpi/rsdp";
    public const string LoaderFile = "etc/table-loader";

    /// <summary>QEMU's ACPI_BUILD_TABLE_SIZE: the tables blob is padded to this so its size stays put across rebuilds.</summary>
    public const int TablesPadding = 0x20000;

    /// <summary>QEMU's ACPI_BUILD_ALIGN_SIZE, to which the loader script is padded.</summary>
    public const int LoaderPadding = 0x1000;

    public const int HeaderLength = 36;
    public const int ChecksumOffset = 9;
    public const int RsdpLength = 20;
    public const int RsdpChecksumOffset = 8;
    public const int RsdpRsdtAddressOffset = 16;
    public const int FacsLength = 64;

    /// <summary>FADT (ACPI 1.0 layout, 116 bytes) field offsets used by the loader.</summary>
    public const int FadtLength = 116;
    public const int FadtFirmwareCtrlOffset = 36;
    public const int FadtDsdtOffset = 40;

    /// <summary>The revision-3 FADT (ACPI 2.0, 244 bytes) and its 64-bit DSDT pointer.</summary>
    public const int Fadt3Length = 244;
    public const int FadtXDsdtOffset = 140;

    /// <summary>FADT flag RESET_REG_SUP (bit 10), set with a reset register (QEMU acpi_get_pm_info for ICH9).</summary>
    public const uint FadtResetRegisterSupported = 1u << 10;

    /// <summary>ALLOCATE alignments: the RSDP on a 16-byte boundary (ACPI 6.4 §5.2.5.1), the tables blob on 64 for the FACS (§5.2.10).</summary>
    public const uint RsdpAlignment = 16;
    public const uint TablesAlignment = 64;

    /// <summary>
    /// FADT flags: WBINVD (bit 0), PROC_C1 (2), SLP_BUTTON — no fixed sleep button (5), RTC_S4 (7),
    /// USE_PLATFORM_CLOCK (15); TMR_VAL_EXT (8) clear: the PM timer is 24 bits wide.
    /// </summary>
    public const uint FadtFlags = 0x0000_80A5;

    /// <summary>FADT P_LVL2/P_LVL3 latencies above 100/1000 µs: C2 and C3 not supported.</summary>
    public const ushort NoC2C3Latency = 0x0FFF;

    /// <summary>The CMOS index of the RTC century byte (FADT CENTURY).</summary>
    public const byte RtcCenturyIndex = 0x32;

    /// <summary>HPET table event timer block ID: QEMU's HPET (vendor 8086, 3 comparators, legacy routing, rev 1).</summary>
    public const uint HpetEventTimerBlockId = 0x8086_A201;

    /// <summary>WAET flags: bit 1, "ACPI PM timer good" (one read gives a consistent value).</summary>
    public const uint WaetPmTimerGood = 0x2;

    private const int PmTimerLength = 4;
    private const int Pm1EventLength = 4;
    private const int Pm1ControlLength = 2;
    private const int Gpe0Length = 4;
    private const ushort Pm1ControlOffset = 4;
    private const ushort PmTimerOffset = 8;

    /// <summary>Builds the tables blob, the RSDP and the loader script for a PM I/O block at <paramref name="pmBase"/> and no ECAM window.</summary>
    public static AcpiBuild Build(AcpiPlatform p, ushort pmBase) => Build(p, new AcpiBoardRegisters(pmBase, null));

    /// <summary>Builds the tables blob, the RSDP and the loader script for the registers the firmware programmed.</summary>
    public static AcpiBuild Build(AcpiPlatform p, AcpiBoardRegisters registers)
    {
        ushort pmBase = registers.PmBase;
        var ecam = p.PciExpress ? registers.Ecam : null;
        var blob = new List<byte>();
        var loader = new TableLoader();
        loader.Allocate(TablesFile, TablesAlignment, TableLoader.ZoneHigh);

        int facs = Append(blob, Facs());
        int dsdt = AppendChecksummed(blob, loader, Table("DSDT", 1, p, DsdtBuilder.Build(p, ecam)));

        var fadtTable = Table("FACP", p.FadtRevision, p, FadtBody(p, pmBase));
        BinaryPrimitives.WriteUInt32LittleEndian(fadtTable.AsSpan(FadtFirmwareCtrlOffset), (uint)facs);
        BinaryPrimitives.WriteUInt32LittleEndian(fadtTable.AsSpan(FadtDsdtOffset), (uint)dsdt);
        int fadt = blob.Count;
        loader.AddPointer(TablesFile, (uint)(fadt + FadtFirmwareCtrlOffset), 4, TablesFile);
        loader.AddPointer(TablesFile, (uint)(fadt + FadtDsdtOffset), 4, TablesFile);
        if (p.FadtRevision >= 3)
        {
            // build_fadt: X_FIRMWARE_CTRL stays 0 (the FACS has a 32-bit pointer), X_DSDT is linked.
            BinaryPrimitives.WriteUInt64LittleEndian(fadtTable.AsSpan(FadtXDsdtOffset), (ulong)dsdt);
            loader.AddPointer(TablesFile, (uint)(fadt + FadtXDsdtOffset), 8, TablesFile);
        }

        AppendChecksummed(blob, loader, fadtTable);

        var listed = new List<int> { fadt };
        listed.Add(AppendChecksummed(blob, loader, Table("APIC", 1, p, MadtBody(p))));
        if (p.HpetAddress is { } hpet)
        {
            listed.Add(AppendChecksummed(blob, loader, Table("HPET", 1, p, HpetBody(hpet))));
        }

        if (ecam != null)
        {
            listed.Add(AppendChecksummed(blob, loader, Table("MCFG", 1, p, McfgBody(ecam))));
        }

        listed.Add(AppendChecksummed(blob, loader, Table("WAET", 1, p, BitConverter.GetBytes(WaetPmTimerGood))));

        int rsdt = blob.Count;
        var rsdtBody = new byte[4 * listed.Count];
        for (int i = 0; i < listed.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(rsdtBody.AsSpan(4 * i), (uint)listed[i]);
            loader.AddPointer(TablesFile, (uint)(rsdt + HeaderLength + (4 * i)), 4, TablesFile);
        }

        AppendChecksummed(blob, loader, Table("RSDT", 1, p, rsdtBody));

        // The RSDP is its own file (QEMU places it in the F-segment for SeaBIOS's sake).
        loader.Allocate(RsdpFile, RsdpAlignment, TableLoader.ZoneFSeg);
        var rsdp = new byte[RsdpLength];
        "RSD PTR "u8.CopyTo(rsdp);
        Ascii(p.OemId, 6).CopyTo(rsdp, 9);
        BinaryPrimitives.WriteUInt32LittleEndian(rsdp.AsSpan(RsdpRsdtAddressOffset), (uint)rsdt);
        loader.AddPointer(RsdpFile, RsdpRsdtAddressOffset, 4, TablesFile);
        loader.AddChecksum(RsdpFile, RsdpChecksumOffset, 0, RsdpLength);

        if (blob.Count > TablesPadding)
        {
            throw new InvalidOperationException($"ACPI tables take {blob.Count} bytes, more than the {TablesPadding}-byte fw_cfg file");
        }

        var tables = new byte[TablesPadding];
        blob.CopyTo(tables);
        return new AcpiBuild(tables, rsdp, loader.Encode(LoaderPadding), blob.Count);
    }

    /// <summary>A table: the 36-byte header (signature, length, revision, checksum 0, OEM and creator IDs, revisions 1) then the body.</summary>
    public static byte[] Table(string signature, byte revision, AcpiPlatform p, byte[] body)
    {
        var t = new byte[HeaderLength + body.Length];
        Ascii(signature, 4).CopyTo(t, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(4), (uint)t.Length);
        t[8] = revision;
        Ascii(p.OemId, 6).CopyTo(t, 10);
        Ascii(p.OemTableId, 8).CopyTo(t, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(24), 1);
        Ascii(p.CreatorId, 4).CopyTo(t, 28);
        BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(32), 1);
        body.CopyTo(t, HeaderLength);
        return t;
    }

    /// <summary>The FACS: signature and length only; version 0 and a zero hardware signature, as QEMU serves it.</summary>
    private static byte[] Facs()
    {
        var f = new byte[FacsLength];
        "FACS"u8.CopyTo(f);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(4), FacsLength);
        return f;
    }

    /// <summary>
    /// The FADT after its header: the ACPI 1.0 fields (ACPI 1.0b §5.2.5), and for revision 3 the
    /// ACPI 2.0 tail — reset register, IAPC_BOOT_ARCH and the X_ register blocks as System I/O
    /// GAS entries whose bit width is the block's length (QEMU hw/acpi/aml-build.c build_fadt).
    /// FIRMWARE_CTRL and the DSDT pointers are linked by the loader.
    /// </summary>
    private static byte[] FadtBody(AcpiPlatform p, ushort pmBase)
    {
        bool acpi2 = p.FadtRevision >= 3;
        var f = new byte[(acpi2 ? Fadt3Length : FadtLength) - HeaderLength];
        var s = f.AsSpan();
        uint gpe0 = p.Gpe0PmOffset is { } gpeOffset ? (uint)(pmBase + gpeOffset) : p.Gpe0Port;
        s[44 - HeaderLength] = 1;                                        // INT_MODEL: 1 (APIC); ignored since ACPI 2.0
        BinaryPrimitives.WriteUInt16LittleEndian(s[(46 - HeaderLength)..], p.SciIrq);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(48 - HeaderLength)..], p.SmiCommandPort ?? 0);
        s[52 - HeaderLength] = p.SmiCommandPort is null ? (byte)0 : p.AcpiEnableValue;
        s[53 - HeaderLength] = p.SmiCommandPort is null ? (byte)0 : p.AcpiDisableValue;
        BinaryPrimitives.WriteUInt32LittleEndian(s[(56 - HeaderLength)..], pmBase);                        // PM1a_EVT_BLK
        BinaryPrimitives.WriteUInt32LittleEndian(s[(64 - HeaderLength)..], (uint)(pmBase + Pm1ControlOffset)); // PM1a_CNT_BLK
        BinaryPrimitives.WriteUInt32LittleEndian(s[(76 - HeaderLength)..], (uint)(pmBase + PmTimerOffset));    // PM_TMR_BLK
        BinaryPrimitives.WriteUInt32LittleEndian(s[(80 - HeaderLength)..], gpe0);                               // GPE0_BLK
        s[88 - HeaderLength] = Pm1EventLength;
        s[89 - HeaderLength] = Pm1ControlLength;
        s[91 - HeaderLength] = PmTimerLength;
        s[92 - HeaderLength] = p.Gpe0Length;
        BinaryPrimitives.WriteUInt16LittleEndian(s[(96 - HeaderLength)..], NoC2C3Latency);
        BinaryPrimitives.WriteUInt16LittleEndian(s[(98 - HeaderLength)..], NoC2C3Latency);
        s[108 - HeaderLength] = RtcCenturyIndex;
        uint flags = FadtFlags;
        if (acpi2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(s[(109 - HeaderLength)..], p.IapcBootArch);
            if (p.ResetRegister is { } reset)
            {
                flags |= FadtResetRegisterSupported;
                SystemIoGas(s[(116 - HeaderLength)..], reset.Port, 1);
                s[128 - HeaderLength] = reset.Value;
            }

            SystemIoGas(s[(148 - HeaderLength)..], pmBase, Pm1EventLength);                       // X_PM1a_EVT_BLK
            SystemIoGas(s[(172 - HeaderLength)..], (ushort)(pmBase + Pm1ControlOffset), Pm1ControlLength); // X_PM1a_CNT_BLK
            SystemIoGas(s[(208 - HeaderLength)..], (ushort)(pmBase + PmTimerOffset), PmTimerLength);      // X_PM_TMR_BLK
            SystemIoGas(s[(220 - HeaderLength)..], (ushort)gpe0, p.Gpe0Length);                          // X_GPE0_BLK
        }

        BinaryPrimitives.WriteUInt32LittleEndian(s[(112 - HeaderLength)..], flags);
        return f;
    }

    /// <summary>A Generic Address Structure for <paramref name="length"/> bytes of System I/O at <paramref name="port"/>: address space 1, bit width, offset 0, access size 0 (undefined), as QEMU writes them.</summary>
    private static void SystemIoGas(Span<byte> gas, ushort port, int length)
    {
        gas[0] = 1;
        gas[1] = (byte)(length * 8);
        BinaryPrimitives.WriteUInt64LittleEndian(gas[4..], port);
    }

    /// <summary>The MCFG after its header (PCI Firmware 3.0 §4.1.2): 8 reserved bytes, then one allocation — base, segment 0, buses 0 to the window's end (QEMU hw/acpi/pci.c build_mcfg).</summary>
    private static byte[] McfgBody(EcamWindow ecam)
    {
        var m = new byte[8 + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(8), ecam.Base);
        m[8 + 11] = ecam.EndBus;
        return m;
    }

    /// <summary>
    /// The MADT after its header (ACPI 6.4 §5.2.12): local APIC address, PCAT_COMPAT (dual 8259s
    /// present), a local APIC per CPU (ID = index, enabled), the I/O APIC and its overrides, and
    /// the local APIC NMI on LINT1 of every processor (ID 0xFF).
    /// </summary>
    private static byte[] MadtBody(AcpiPlatform p)
    {
        var m = new List<byte>();
        m.AddRange(BitConverter.GetBytes(p.LocalApicAddress));
        m.AddRange(BitConverter.GetBytes(1u));
        for (int id = 0; id < p.CpuCount; id++)
        {
            m.AddRange([0, 8, (byte)id, (byte)id, 1, 0, 0, 0]);
        }

        if (p.IoApic is { } io)
        {
            m.AddRange([1, 12, io.Id, 0]);
            m.AddRange(BitConverter.GetBytes(io.Address));
            m.AddRange(BitConverter.GetBytes(io.GsiBase));
            foreach (var o in io.Overrides)
            {
                m.AddRange([2, 10, 0, o.Source]);
                m.AddRange(BitConverter.GetBytes(o.Gsi));
                m.AddRange(BitConverter.GetBytes(o.Flags));
            }
        }

        m.AddRange([4, 6, 0xFF, 0, 0, 1]);
        return [.. m];
    }

    /// <summary>The HPET table after its header (IA-PC HPET 1.0a §3.2.4): block ID, the base as a SystemMemory GAS, number 0, no minimum tick, no page protection.</summary>
    private static byte[] HpetBody(ulong address)
    {
        var h = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(h, HpetEventTimerBlockId);
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(8), address);
        return h;
    }

    private static int Append(List<byte> blob, byte[] table)
    {
        int offset = blob.Count;
        blob.AddRange(table);
        return offset;
    }

    /// <summary>Appends a table and the ADD_CHECKSUM command that covers it (each table's pointers are added before it, as QEMU orders them).</summary>
    private static int AppendChecksummed(List<byte> blob, TableLoader loader, byte[] table)
    {
        int offset = Append(blob, table);
        loader.AddChecksum(TablesFile, (uint)(offset + ChecksumOffset), (uint)offset, (uint)table.Length);
        return offset;
    }

    private static byte[] Ascii(string value, int length)
    {
        if (value.Length != length || !Ascii7(value))
        {
            throw new ArgumentException($"'{value}' must be {length} ASCII characters", nameof(value));
        }

        return Encoding.ASCII.GetBytes(value);
    }

    private static bool Ascii7(string value) => value.All(c => c < 0x80);
}
