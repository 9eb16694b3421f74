using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Devices.Pci;
using Emulator.Core.Devices.Q35;
using Emulator.Core.Platform.Acpi;

namespace Emulator.Core.Machine;

/// <summary>
/// What the ACPI tables say on q35 (QEMU 7.2 hw/i386/acpi-build.c acpi_get_pm_info for ICH9,
/// measured against <c>-machine q35</c>, docs/acpi-tables.md §6): a revision-3 FADT with ICH9's
/// GPE0 inside the PM block, SMI_CMD 0xB2 with ACPI enable 2 / disable 3 when SMM is on, the reset
/// register 0xCF9 ← 0x0F and an 8042; an MCFG for the ECAM window; the LPC bridge 00:1f.0 holding
/// the ISA devices; QEMU's 32 GiB q35 64-bit PCI hole. The PM base and the ECAM window are read
/// from the ICH9 LPC and the MCH when the tables are built, as QEMU reads its devices' properties
/// (pm_io_base, mcfg_base/mcfg_size) then.
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>FADT RESET_VALUE for ICH9's reset control register: full reset, CPU reset, system reset (acpi_get_pm_info: 0xf).</summary>
    public const byte Ich9ResetValue = 0x0F;

    /// <summary>FADT IAPC_BOOT_ARCH bit 1: an 8042 keyboard controller is present (QEMU iapc_boot_arch_8042).</summary>
    public const ushort BootArch8042 = 0x0002;

    /// <summary>q35's default pci-hole64-size: 32 GiB (hw/pci-host/q35.c Q35_PCI_HOST_HOLE64_SIZE_DEFAULT).</summary>
    public const ulong Q35PciHole64Size = 32UL << 30;

    /// <summary>pc's facts turned into q35's.</summary>
    private AcpiPlatform Q35AcpiFacts(AcpiPlatform pc) => pc with
    {
        SmiCommandPort = Options.Smm ? ApmControl.BasePort : null,
        AcpiEnableValue = ApmControl.Ich9AcpiEnable,
        AcpiDisableValue = ApmControl.Ich9AcpiDisable,
        Gpe0Port = 0,
        Gpe0PmOffset = Ich9Lpc.Gpe0Offset,
        Gpe0Length = Ich9Lpc.Gpe0Length,
        FadtRevision = 3,
        ResetRegister = (ResetControlRegister.Port, Ich9ResetValue),
        IapcBootArch = BootArch8042,
        PciExpress = true,
        IsaBridgeAddress = (Ich9Lpc.DeviceNumber << 16) | Ich9Lpc.FunctionNumber,
        PciHole64 = (pc.PciHole64!.Value.Start, Q35PciHole64Size),
    };

    /// <summary>
    /// The registers the tables depend on, read as QEMU's acpi_build reads them at the first
    /// select after a reset. On q35 the PM base counts only while ACPI_CNTL decodes the PM block
    /// (lpc_ich9.c ich9_lpc_pmbase_sci_update: pm_io_base 0 otherwise) and the ECAM window only
    /// while PCIEXBAR enables it (acpi_get_mcfg: an unmapped window means no MCFG).
    /// </summary>
    private AcpiBoardRegisters AcpiBoardRegisters()
    {
        if (Options.Chipset != PcChipset.Q35)
        {
            return new(PmBase, null);
        }

        ushort pmBase = Lpc.PmIoEnabled ? Lpc.PmBase : (ushort)0;
        return new(pmBase, Mch.EcamEnabled ? new EcamWindow(Mch.EcamBase, Mch.EcamSize) : null);
    }
}
