using static Emulator.Core.Platform.Acpi.Aml;

namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// The q35 DSDT's PCI interrupt routing, term for term as QEMU 7.2 builds it (hw/i386/acpi-build.c
/// build_q35_pci0_int, build_q35_routing_table, build_irq_status_method, build_iqcr_method,
/// build_link_dev, build_gsi_link_dev; hw/isa/lpc_ich9.c build_ich9_isa_aml for the PIRQ field):
/// \PICF and \_PIC (the OS says PIC or APIC mode); \_SB.PCI0.PRTP and PRTA, 128 _PRT entries for
/// slots 0–31 in PIC and APIC mode, and _PRT picking one; the links LNKA–LNKH, whose _STA/_CRS/
/// _SRS/_DIS read and write the ICH9 LPC's PIRQx routing bytes (config 0x60–0x63, 0x68–0x6B),
/// choosing among IRQ 5, 10 and 11; the fixed links GSIA–GSIH on GSI 16–23 for APIC mode.
/// </summary>
public static class Q35InterruptRouting
{
    /// <summary>The PIRQ routing bytes in the LPC's configuration space: A–D at 0x60, E–H at 0x68.</summary>
    public const ulong PirqRegionOffset = 0x60;
    public const ulong PirqRegionLength = 0x0C;

    /// <summary>A PIRQx byte with bit 7 set routes nothing to the 8259s (ICH9 PIRQ_ROUT IRQEN#).</summary>
    private const ulong PirqDisabled = 0x80;

    /// <summary>The ISA IRQs a PIC-mode link may take (QEMU build_link_dev).</summary>
    private static readonly uint[] LinkIrqs = [5, 10, 11];

    /// <summary>GSIA–GSIH: the I/O APIC inputs PIRQA–H always reach (ICH9: GSI 16 + n).</summary>
    private const uint FirstPirqGsi = 16;

    /// <summary>IQST's answers: _STA "present, enabled, functioning, not shown" for a routed link, "present, functioning, disabled" otherwise.</summary>
    private const ulong LinkDisabledStatus = 0x09;
    private const ulong LinkEnabledStatus = 0x0B;

    /// <summary>Byte offset of the first interrupt number in an extended interrupt descriptor (what _SRS and IQCR patch).</summary>
    private const ulong InterruptNumberOffset = 5;

    private const int Links = 8;
    private const int Slots = 32;
    private const int Pins = 4;

    /// <summary>The root-level terms: \PICF, \_PIC and the \_SB scope with PCI0's tables, IQST, IQCR and the sixteen links.</summary>
    public static byte[][] RootTerms()
    {
        var sb = new List<byte[]>
        {
            Scope(
                "PCI0",
                Name("PRTP", RoutingTable("LNK")),
                Name("PRTA", RoutingTable("GSI")),
                Method(
                    "_PRT",
                    0,
                    false,
                    If(LEqual(NameString("PICF"), Integer(0)), Return(NameString("PRTP"))),
                    Else(Return(NameString("PRTA"))))),
            Method(
                "IQST",
                1,
                false,
                If(And(Integer(PirqDisabled), Arg(0), NameString("")), Return(Integer(LinkDisabledStatus))),
                Return(Integer(LinkEnabledStatus))),
            Method(
                "IQCR",
                1,
                true,
                Name("PRR0", AmlResources.Template(AmlResources.Interrupt(0))),
                CreateDWordField(NameString("PRR0"), Integer(InterruptNumberOffset), "PRRI"),
                Store(And(Arg(0), Integer(0x0F), NameString("")), NameString("PRRI")),
                Return(NameString("PRR0"))),
        };
        for (int link = 0; link < Links; link++)
        {
            sb.Add(PicLink(link));
        }

        for (int link = 0; link < Links; link++)
        {
            sb.Add(GsiLink(link));
        }

        return
        [
            Name("PICF", Integer(0)),
            Method("_PIC", 1, false, Store(Arg(0), NameString("PICF"))),
            Scope("_SB", [.. sb]),
        ];
    }

    /// <summary>What the LPC bridge's device holds before its ISA devices: the PIRQ region and, in \_SB, the PRQA–PRQH fields over it.</summary>
    /// <param name="bridgePath">The bridge's path from \_SB, e.g. "PCI0.SF8".</param>
    public static byte[][] LpcPirqTerms(string bridgePath) =>
    [
        OperationRegion("PIRQ", PciConfig, PirqRegionOffset, PirqRegionLength),
        Scope(
            "\\_SB",
            Field(
                bridgePath + ".PIRQ",
                ByteAcc | Preserve,
                ("PRQA", 8),
                ("PRQB", 8),
                ("PRQC", 8),
                ("PRQD", 8),
                ("", 32),
                ("PRQE", 8),
                ("PRQF", 8),
                ("PRQG", 8),
                ("PRQH", 8))),
    ];

    /// <summary>
    /// One of PRTP/PRTA: {slot address, pin, link, 0} for every slot and pin. Slots 0–0x18 and
    /// 0x1E rotate over links E–H by slot + pin; 0x19–0x1D and 0x1F (the ICH9 functions) use A–D
    /// by pin (QEMU build_q35_routing_table).
    /// </summary>
    private static byte[] RoutingTable(string prefix)
    {
        var entries = new List<byte[]>();
        for (int slot = 0; slot < Slots; slot++)
        {
            bool ich9 = slot is >= 0x19 and <= 0x1D or 0x1F;
            for (int pin = 0; pin < Pins; pin++)
            {
                char link = ich9 ? (char)('A' + pin) : slot == 0x1E ? (char)('E' + pin) : (char)('E' + ((slot + pin) & 3));
                entries.Add(Package(Integer(((ulong)slot << 16) | 0xFFFF), Integer((ulong)pin), NameString(prefix + link), Integer(0)));
            }
        }

        return Package([.. entries]);
    }

    /// <summary>LNKA–LNKH: a PIC-mode link over PRQx (QEMU build_link_dev).</summary>
    private static byte[] PicLink(int link)
    {
        string register = $"PRQ{(char)('A' + link)}";
        return Device(
            $"LNK{(char)('A' + link)}",
            Name("_HID", EisaId("PNP0C0F")),
            Name("_UID", Integer((ulong)link)),
            Name("_PRS", AmlResources.Template(AmlResources.Interrupt(LinkIrqs))),
            Method("_STA", 0, false, Return(Call("IQST", NameString(register)))),
            Method("_DIS", 0, false, Or(NameString(register), Integer(PirqDisabled), NameString(register))),
            Method("_CRS", 0, false, Return(Call("IQCR", NameString(register)))),
            Method(
                "_SRS",
                1,
                false,
                CreateDWordField(Arg(0), Integer(InterruptNumberOffset), "PRRI"),
                Store(NameString("PRRI"), NameString(register))));
    }

    /// <summary>GSIA–GSIH: an APIC-mode link fixed on GSI 16 + n; _DIS and _SRS do nothing (QEMU build_gsi_link_dev).</summary>
    private static byte[] GsiLink(int link)
    {
        var resources = AmlResources.Template(AmlResources.Interrupt(FirstPirqGsi + (uint)link));
        return Device(
            $"GSI{(char)('A' + link)}",
            Name("_HID", EisaId("PNP0C0F")),
            Name("_UID", Integer(FirstPirqGsi + (ulong)link)),
            Name("_PRS", resources),
            Name("_CRS", resources),
            Method("_DIS", 0, false),
            Method("_SRS", 1, false));
    }
}
