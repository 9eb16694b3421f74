using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Devices.CmosRtc;
using Emulator.Core.Devices.FwCfg;
using Emulator.Core.Devices.LocalApic;
using Emulator.Core.Devices.Pci;
using Emulator.Core.Devices.Ps2;
using Emulator.Core.Platform.Acpi;

namespace Emulator.Core.Machine;

/// <summary>
/// The facts this machine gives the ACPI generator (docs/acpi-tables.md; q35's differences in
/// PcMachine.AcpiQ35.cs): QEMU's OEM strings, one
/// CPU, the PIIX4 PM function (SCI on IRQ 9, GPE0 at QEMU's fixed ports 0xAFE0, ACPI mode switched
/// through the APM control port), the i440FX PCI windows
/// as QEMU computes them, the ISA devices modelled here — keyboard controller, serial ports, RTC
/// — and fw_cfg. The tables are served through fw_cfg and rebuilt at the guest's first read
/// after each reset (<see cref="AcpiBuildState"/>), after the firmware has programmed the PM base.
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>The 32-bit PCI hole ends below the I/O APIC window at 0xFEC00000 (QEMU i440fx: IO_APIC_DEFAULT_ADDRESS - 1).</summary>
    public const uint PciHole32End = 0xFEBF_FFFF;

    /// <summary>QEMU's default i440FX pci-hole64-size: 2 GiB, from the first gigabyte boundary above RAM.</summary>
    public const ulong PciHole64Size = 2UL << 30;

    private const ulong GiB = 1UL << 30;

    /// <summary>
    /// The MADT interrupt source overrides of QEMU's pc (hw/i386/acpi-common.c acpi_build_madt):
    /// the PIT's IRQ 0 arrives on I/O APIC pin 2, and the IRQs PCI interrupts are routed to (5, 9,
    /// 10, 11: ACPI_BUILD_PCI_IRQS) are level-triggered, active high, for an I/O APIC at GSI base 0.
    /// </summary>
    public static readonly IReadOnlyList<AcpiInterruptOverride> IsaInterruptOverrides =
    [
        new(0, 2, 0),
        new(5, 5, AcpiInterruptOverride.ActiveHighLevel),
        new(9, 9, AcpiInterruptOverride.ActiveHighLevel),
        new(10, 10, AcpiInterruptOverride.ActiveHighLevel),
        new(11, 11, AcpiInterruptOverride.ActiveHighLevel),
    ];

    /// <summary>The ACPI fw_cfg files and their rebuild state.</summary>
    public AcpiBuildState Acpi { get; private set; } = null!;

    /// <summary>What the ACPI tables describe, from this machine's devices and options.</summary>
    public AcpiPlatform AcpiFacts()
    {
        var isa = new List<AcpiIsaDevice>
        {
            new("KBD", "PNP0303", null, true, [new(I8042.DataPort, 1, 1), new(I8042.CommandPort, 1, 1)], [1]),
        };
        foreach (var port in Options.SerialPorts.OrderBy(p => p.Index))
        {
            isa.Add(new(port.Name, "PNP0501", port.Index + 1, true, [new(port.IoBase, 0, 8)], [port.Irq]));
        }

        // QEMU's RTC claims 0x70–0x77 in the DSDT although it decodes two ports; ISA IRQ 8.
        isa.Add(new("RTC", "PNP0B00", null, false, [new(Mc146818.BasePort, 1, 8)], [8]));

        ulong hole64 = (FlashLayout.FourGiB + HighRamSize + GiB - 1) / GiB * GiB;
        var pc = new AcpiPlatform
        {
            OemId = "BOCHS ",
            OemTableId = "BXPC    ",
            CreatorId = "BXPC",
            CpuCount = 1,
            LocalApicAddress = (uint)Xapic.DefaultBase,
            SciIrq = Piix4PowerManagement.SciIrq,
            SmiCommandPort = ApmControl.BasePort,
            AcpiEnableValue = ApmControl.AcpiEnable,
            AcpiDisableValue = ApmControl.AcpiDisable,
            Gpe0Port = Gpe0Block.BasePort,
            SystemStates = OfferedSystemStates(),
            PciHole32Start = (uint)LowRamSize,
            PciHole32End = PciHole32End,
            PciHole64 = (hole64, PciHole64Size),
            IsaBridgeAddress = 1 << 16,
            IsaDevices = isa,
            FwCfgIo = (FwCfg.BasePort, (byte)(FwCfg.DmaBasePort + FwCfg.DmaPortCount - FwCfg.BasePort)),
            DebugPort = Options.DebugConsolePort,
            IoApic = new AcpiIoApic(0, (uint)Core.Devices.IoApic.IoApic.DefaultBase, 0, IsaInterruptOverrides),
            HpetAddress = Hpet != null ? Core.Devices.Hpet.Hpet.DefaultBase : null,
        };
        return Options.Chipset == PcChipset.Q35 ? Q35AcpiFacts(pc) : pc;
    }

    /// <summary>
    /// QEMU's acpi_setup: <c>etc/acpi/tables</c>, <c>etc/acpi/rsdp</c> and <c>etc/table-loader</c>,
    /// each rebuilding all three when first selected after a reset, and an empty <c>etc/tpm/log</c>.
    /// </summary>
    private void AddAcpiFiles()
    {
        Acpi = AddDevice(new AcpiBuildState(AcpiFacts(), AcpiBoardRegisters));
        FwCfg.AddFile(AcpiTableBuilder.TablesFile, Acpi.Tables, Acpi.Selected);
        FwCfg.AddFile(AcpiTableBuilder.RsdpFile, Acpi.Rsdp, Acpi.Selected);
        FwCfg.AddFile(AcpiTableBuilder.LoaderFile, Acpi.Loader, Acpi.Selected);
        FwCfg.AddFile("etc/tpm/log", []);
    }
}
