using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Devices.Pci;
using Emulator.Core.Platform.Acpi;

namespace Emulator.Core.Machine;

/// <summary>
/// What the ACPI tables say on q35 (QEMU 7.2 hw/i386/acpi-build.c acpi_get_pm_info for ICH9,
/// measured against <c>-machine q35</c>, docs/acpi-tables.md "q35"): a revision-3 FADT with
/// ICH9's GPE0 inside the PM block, SMI_CMD 0xB2 with ACPI enable 2 / disable 3 when SMM is on,
/// the reset register 0xCF9 ← 0x0F and an 8042; an MCFG for the ECAM window; the LPC bridge
/// 00:1f.0 holding the ISA devices; QEMU's 32 GiB q35 64-bit PCI hole. The PM base and the ECAM
/// window are read from the ICH9 LPC bridge and the MCH when the tables are built, as QEMU reads
/// its devices' properties then.
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>ICH9's ACPI enable/disable values for the APM control port (QEMU include/hw/southbridge/ich9.h ICH9_APM_ACPI_ENABLE/DISABLE).</summary>
    public const byte Ich9AcpiEnable = 0x02;
    public const byte Ich9AcpiDisable = 0x03;

    /// <summary>ICH9 GPE0 block: status then enable, 8 bytes each, at PMBASE + 0x20 (ICH9_PMIO_GPE0_STS, ICH9_PMIO_GPE0_LEN).</summary>
    public const ushort Ich9Gpe0Offset = 0x20;
    public const byte Ich9Gpe0Length = 16;

    /// <summary>FADT RESET_VALUE for ICH9's reset control register: full reset, CPU reset, system reset (acpi_get_pm_info: 0xf).</summary>
    public const byte Ich9ResetValue = 0x0F;

    /// <summary>FADT IAPC_BOOT_ARCH bit 1: an 8042 keyboard controller is present (QEMU iapc_boot_arch_8042).</summary>
    public const ushort BootArch8042 = 0x0002;

    /// <summary>q35's default pci-hole64-size: 32 GiB (hw/pci-host/q35.c Q35_PCI_HOST_HOLE64_SIZE_DEFAULT).</summary>
    public const ulong Q35PciHole64Size = 32UL << 30;

    /// <summary>The ICH9 LPC bridge's device number (00:1f.0), which holds the ISA devices in the DSDT.</summary>
    public const int Ich9LpcDevice = 0x1F;

    /// <summary>pc's facts turned into q35's.</summary>
    private AcpiPlatform Q35AcpiFacts(AcpiPlatform pc) => pc with
    {
        SmiCommandPort = Options.Smm ? ApmControl.BasePort : null,
        AcpiEnableValue = Ich9AcpiEnable,
        AcpiDisableValue = Ich9AcpiDisable,
        Gpe0Port = 0,
        Gpe0PmOffset = Ich9Gpe0Offset,
        Gpe0Length = Ich9Gpe0Length,
        FadtRevision = 3,
        ResetRegister = (ResetControlRegister.Port, Ich9ResetValue),
        IapcBootArch = BootArch8042,
        PciExpress = true,
        IsaBridgeAddress = Ich9LpcDevice << 16,
        PciHole64 = (pc.PciHole64!.Value.Start, Q35PciHole64Size),
    };

    /// <summary>
    /// The registers the tables depend on, read from the board's devices as QEMU's acpi_build
    /// reads their properties at the first select after a reset: the PM base (0 while PM I/O is
    /// off) and, on q35, the ECAM window the MCH's PCIEXBAR maps (none while disabled: no MCFG).
    /// </summary>
    private AcpiBoardRegisters AcpiBoardRegisters() => new(
        PmBase,
        Options.Chipset == PcChipset.Q35 && Mch.EcamEnabled ? new EcamWindow(Mch.EcamBase, Mch.EcamSize) : null);
}
