using static Emulator.Core.Platform.Acpi.Aml;

namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// The DSDT's AML body for a PIIX-style PC, laid out the way QEMU 7.2's pc DSDT is
/// (hw/i386/acpi-build.c build_dsdt; see docs/acpi-tables.md): \DBUG, \_SB.PCI0 (PNP0A03), the
/// HPET, the CPUs under \_SB.CPUS, PCI0's _CRS windows, the sleep-state packages, the fw_cfg
/// device, then the PCI functions with the ISA devices under the ISA bridge. Only what the
/// platform facts describe is emitted; QEMU's PCI and CPU hotplug, PCI interrupt links and
/// _DSM methods are left out because the machine they describe is not the one modelled here.
/// On q35 (<see cref="AcpiPlatform.PciExpress"/>) PCI0 is a PCI Express root (PNP0A08, _CID
/// PNP0A03), \_SB.DRAC reserves the ECAM window the firmware enabled and PCI0's 32-bit window
/// leaves it out, and the ISA devices sit under the LPC bridge SF8 (00:1f.0), as in QEMU 7.2's
/// q35 DSDT (build_dsdt, build_q35_dram_controller; docs/acpi-tables.md "q35").
/// </summary>
public static class DsdtBuilder
{
    /// <summary>_STA value "present, enabled, functioning" without "shown in UI" (0x0B), as QEMU's FWCF.</summary>
    private const ulong StatusHidden = 0x0B;

    /// <summary>_STA value "present, enabled, shown in UI, functioning".</summary>
    private const ulong StatusPresent = 0x0F;

    /// <summary>The HPET register block is 1 KiB (IA-PC HPET specification 1.0a §2.3).</summary>
    private const uint HpetRegisterSize = 0x400;

    /// <summary>MADT processor local APIC entry: type 0, length 8 (ACPI 6.4 §5.2.12.2), returned by _MAT.</summary>
    private const byte MadtLocalApic = 0;
    private const byte MadtLocalApicLength = 8;

    /// <summary>The DSDT's definition block body (everything after the 36-byte table header).</summary>
    /// <param name="ecam">The PCI Express ECAM window enabled when the tables are built, or null.</param>
    public static byte[] Build(AcpiPlatform p, EcamWindow? ecam = null)
    {
        var terms = new List<byte[]>();
        if (p.DebugPort is { } debugPort)
        {
            terms.Add(DebugMethod(debugPort));
        }

        terms.Add(p.PciExpress ? PciExpressRoot(ecam) : Scope("\\_SB", Device("PCI0", Name("_HID", EisaId("PNP0A03")), Name("_ADR", Integer(0)), Name("_UID", Integer(0)))));
        if (p.HpetAddress is { } hpet)
        {
            terms.Add(Scope("\\_SB", Device(
                "HPET",
                Name("_HID", EisaId("PNP0103")),
                Name("_UID", Integer(0)),
                Name("_STA", Integer(StatusPresent)),
                Name("_CRS", AmlResources.Template(AmlResources.Memory32Fixed(false, checked((uint)hpet), HpetRegisterSize))))));
        }

        terms.Add(Cpus(p.CpuCount));
        terms.Add(Scope("\\_SB.PCI0", Name("_CRS", PciWindows(p, ecam))));
        terms.Add(SleepStates(p.SystemStates));
        terms.Add(Scope("\\_SB.PCI0", Device(
            "FWCF",
            Name("_HID", String("QEMU0002")),
            Name("_STA", Integer(StatusHidden)),
            Name("_CRS", AmlResources.Template(AmlResources.Io(p.FwCfgIo.Port, p.FwCfgIo.Port, 1, p.FwCfgIo.Length))))));
        terms.Add(Scope("\\_SB.PCI0", Device("S00", Name("_ADR", Integer(0))), IsaBridge(p)));
        return Concat([.. terms]);
    }

    /// <summary>
    /// \DBUG(value): writes the value's hex text and a newline to the debug console port, one byte
    /// at a time through a one-byte SystemIO field (QEMU build_dbg_aml does the same).
    /// </summary>
    private static byte[] DebugMethod(ushort port) => Scope(
        "\\",
        OperationRegion("DBG", SystemIo, port, 1),
        Field("DBG", ByteAcc | Preserve, ("DBGB", 8)),
        Method(
            "DBUG",
            1,
            false,
            ToHexString(Arg(0), Local(0)),
            ToBuffer(Local(0), Local(0)),
            Subtract(SizeOf(Local(0)), Integer(1), Local(1)),
            Store(Integer(0), Local(2)),
            While(
                LLess(Local(2), Local(1)),
                Store(DerefOf(Index(Local(0), Local(2))), NameString("DBGB")),
                Increment(Local(2))),
            Store(Integer('\n'), NameString("DBGB"))));

    /// <summary>
    /// \_SB.CPUS (ACPI0010, processor container) with one Processor object per CPU, named
    /// Cnnn by its APIC ID as QEMU names them, and a _MAT returning its MADT local APIC entry.
    /// Every CPU is present for good: this machine has no CPU hotplug events to report.
    /// </summary>
    private static byte[] Cpus(int count)
    {
        var cpus = new List<byte[]> { Name("_HID", String("ACPI0010")), Name("_CID", EisaId("PNP0A05")) };
        for (int id = 0; id < count; id++)
        {
            byte[] mat = [MadtLocalApic, MadtLocalApicLength, (byte)id, (byte)id, 1, 0, 0, 0];
            cpus.Add(Processor($"C{id:X3}", (byte)id, 0, 0, Name("_STA", Integer(StatusPresent)), Name("_MAT", Buffer(mat))));
        }

        return Scope("\\_SB", Device("CPUS", [.. cpus]));
    }

    /// <summary>
    /// q35's \_SB.PCI0 (PNP0A08 compatible with PNP0A03; QEMU's _OSC, which grants native PCI
    /// Express control, is not emitted) and, when the ECAM window is on, \_SB.DRAC (PNP0C01)
    /// reserving it (QEMU build_q35_dram_controller).
    /// </summary>
    private static byte[] PciExpressRoot(EcamWindow? ecam)
    {
        var sb = new List<byte[]>
        {
            Device("PCI0", Name("_HID", EisaId("PNP0A08")), Name("_CID", EisaId("PNP0A03")), Name("_ADR", Integer(0)), Name("_UID", Integer(0))),
        };
        if (ecam != null)
        {
            sb.Add(Device(
                "DRAC",
                Name("_HID", String("PNP0C01")),
                Name("_CRS", AmlResources.Template(AmlResources.DWordMemory(AmlResources.MemoryReadWrite, checked((uint)ecam.Base), checked((uint)(ecam.Base + ecam.Size - 1)))))));
        }

        return Scope("\\_SB", [.. sb]);
    }

    /// <summary>
    /// PCI0's _CRS: buses 0–255; config ports 0xCF8–0xCFF consumed; the I/O space on either side of
    /// them, the legacy VGA window 0xA0000–0xBFFFF and the 32- and 64-bit memory holes decoded to PCI,
    /// the 32-bit one without the ECAM window when there is one (QEMU removes it from the ranges).
    /// </summary>
    private static byte[] PciWindows(AcpiPlatform p, EcamWindow? ecam)
    {
        var windows = new List<byte[]>
        {
            AmlResources.WordBusNumber(0x00, 0xFF),
            AmlResources.Io(0x0CF8, 0x0CF8, 1, 8),
            AmlResources.WordIo(0x0000, 0x0CF7),
            AmlResources.WordIo(0x0D00, 0xFFFF),
            AmlResources.DWordMemory(AmlResources.MemoryCacheable | AmlResources.MemoryReadWrite, 0x000A0000, 0x000BFFFF),
        };
        foreach (var (start, end) in Without((p.PciHole32Start, p.PciHole32End), ecam))
        {
            windows.Add(AmlResources.DWordMemory(AmlResources.MemoryReadWrite, start, end));
        }

        if (p.PciHole64 is { } hole && hole.Size > 0)
        {
            windows.Add(AmlResources.QWordMemory(AmlResources.MemoryCacheable | AmlResources.MemoryReadWrite, hole.Start, hole.Start + hole.Size - 1));
        }

        return AmlResources.Template([.. windows]);
    }

    /// <summary>The 32-bit window minus the ECAM window: none, one or two pieces in address order.</summary>
    private static IEnumerable<(uint Start, uint End)> Without((uint Start, uint End) window, EcamWindow? ecam)
    {
        if (ecam == null || ecam.Base > window.End || ecam.Base + ecam.Size - 1 < window.Start)
        {
            yield return window;
            yield break;
        }

        if (ecam.Base > window.Start)
        {
            yield return (window.Start, (uint)(ecam.Base - 1));
        }

        ulong after = ecam.Base + ecam.Size;
        if (after <= window.End)
        {
            yield return ((uint)after, window.End);
        }
    }

    /// <summary>
    /// \_Sx packages {SLP_TYPa, SLP_TYPb, 0, 0} for S3, S4 and S5 when <c>etc/system-states</c>
    /// offers them (bit 7), with the SLP_TYP value the PM block acts on (low three bits).
    /// </summary>
    private static byte[] SleepStates(IReadOnlyList<byte> states)
    {
        var packages = new List<byte[]>();
        for (int s = 3; s <= 5 && s < states.Count; s++)
        {
            if ((states[s] & 0x80) != 0)
            {
                ulong type = (ulong)(states[s] & 0x07);
                packages.Add(Name($"_S{s}", Package(Integer(type), Integer(type), Integer(0), Integer(0))));
            }
        }

        return Scope("\\", [.. packages]);
    }

    /// <summary>The ISA bridge as Snn (nn = device &lt;&lt; 3 | function, QEMU's naming) holding the ISA devices.</summary>
    private static byte[] IsaBridge(AcpiPlatform p)
    {
        uint device = p.IsaBridgeAddress >> 16;
        uint function = p.IsaBridgeAddress & 0xFFFF;
        var terms = new List<byte[]> { Name("_ADR", Integer(p.IsaBridgeAddress)) };
        foreach (var isa in p.IsaDevices)
        {
            var body = new List<byte[]> { Name("_HID", EisaId(isa.Hid)) };
            if (isa.Uid is { } uid)
            {
                body.Add(Name("_UID", Integer((ulong)uid)));
            }

            if (isa.StaticStatus)
            {
                body.Add(Name("_STA", Integer(StatusPresent)));
            }

            var resources = isa.Io.Select(io => AmlResources.Io(io.Port, io.Port, io.Alignment, io.Length)).ToList();
            if (isa.Irqs.Count > 0)
            {
                resources.Add(AmlResources.IrqNoFlags([.. isa.Irqs]));
            }

            body.Add(Name("_CRS", AmlResources.Template([.. resources])));
            terms.Add(Device(isa.Name, [.. body]));
        }

        return Device($"S{(device << 3) | function:X2}", [.. terms]);
    }
}
