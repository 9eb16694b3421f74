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
/// window are read from the chipset's PCI configuration space when the tables are built, as QEMU
/// reads its devices' properties then.
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

    /// <summary>The ICH9 LPC bridge's place (00:1f.0) and its registers the tables read (include/hw/southbridge/ich9.h).</summary>
    public const int Ich9LpcDevice = 0x1F;
    public const ushort Ich9LpcDeviceId = 0x2918;
    private const int Ich9PmBaseRegister = 0x40;
    private const int Ich9AcpiControlRegister = 0x44;
    private const uint Ich9AcpiEnabled = 0x80;
    private const uint Ich9PmBaseMask = 0xFF80;

    /// <summary>The MCH's ID and its PCIEXBAR register (include/hw/pci-host/q35.h MCH_HOST_BRIDGE_PCIEXBAR).</summary>
    public const ushort MchDeviceId = 0x29C0;
    private const int PciExBarRegister = 0x60;
    private const ulong PciExBarEnable = 0x1;
    private const ulong PciExBarAddressMask = 0xFUL << 32 | 0xF000_0000;

    /// <summary>
    /// The values OVMF programs (OvmfPkg/Include/OvmfPlatforms.h ICH9_PMBASE_VALUE; the 4 MB and
    /// 2 MB builds' PcdPciExpressBaseAddress, 256 buses), used when the board has no ICH9 LPC or
    /// MCH to read them from.
    /// </summary>
    public const ushort Ich9FirmwarePmBase = 0x600;
    public static readonly EcamWindow FirmwareEcam = new(0xB000_0000, 256 * EcamWindow.BytesPerBus);

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

    /// <summary>The registers the tables depend on, read as QEMU's acpi_build reads them at the first select after a reset.</summary>
    private AcpiBoardRegisters AcpiBoardRegisters() => Options.Chipset == PcChipset.Q35
        ? new(Ich9PmBase(), Q35Ecam())
        : new(PowerManagement.PmBase, null);

    /// <summary>
    /// The ICH9 PM base as QEMU's ich9_lpc_pmbase_sci_update computes it: PMBASE bits 15:7 while
    /// ACPI_CNTL's ACPI_EN is set, else 0 (PM I/O off).
    /// </summary>
    private ushort Ich9PmBase()
    {
        var lpc = Pci.FunctionAt(Ich9LpcDevice, 0);
        if (lpc == null || lpc.ReadConfig(PciFunction.DeviceIdOffset, 2) != Ich9LpcDeviceId)
        {
            return Ich9FirmwarePmBase;
        }

        return Ich9PmBaseFrom(lpc.ReadConfig(Ich9PmBaseRegister, 4), lpc.ReadConfig(Ich9AcpiControlRegister, 1));
    }

    /// <summary>QEMU ich9_lpc_pmbase_sci_update: the PM base from PMBASE (0x40) and ACPI_CNTL (0x44).</summary>
    public static ushort Ich9PmBaseFrom(uint pmBaseRegister, uint acpiControl) =>
        (acpiControl & Ich9AcpiEnabled) != 0 ? (ushort)(pmBaseRegister & Ich9PmBaseMask) : (ushort)0;

    /// <summary>
    /// The ECAM window as QEMU's mch_update_pciexbar decodes PCIEXBAR: null while bit 0 is clear;
    /// bits 2:1 select 256, 128 or 64 MiB and widen the address mask (bits 35:28, plus 27, plus
    /// 26); the reserved length maps nothing.
    /// </summary>
    private EcamWindow? Q35Ecam()
    {
        var mch = Pci.FunctionAt(0, 0);
        if (mch == null || mch.ReadConfig(PciFunction.DeviceIdOffset, 2) != MchDeviceId)
        {
            return FirmwareEcam;
        }

        return EcamFromPciExBar(mch.ReadConfig(PciExBarRegister, 4) | ((ulong)mch.ReadConfig(PciExBarRegister + 4, 4) << 32));
    }

    /// <summary>QEMU mch_update_pciexbar: the ECAM window a PCIEXBAR value maps, or null.</summary>
    public static EcamWindow? EcamFromPciExBar(ulong bar)
    {
        if ((bar & PciExBarEnable) == 0)
        {
            return null;
        }

        (ulong size, ulong mask) = ((bar >> 1) & 3) switch
        {
            0 => (256 * EcamWindow.BytesPerBus, PciExBarAddressMask),
            1 => (128 * EcamWindow.BytesPerBus, PciExBarAddressMask | (1UL << 27)),
            2 => (64 * EcamWindow.BytesPerBus, PciExBarAddressMask | (3UL << 26)),
            _ => (0UL, 0UL),
        };
        return size == 0 ? null : new EcamWindow(bar & mask, size);
    }
}
