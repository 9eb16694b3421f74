// Intel 82371AB PIIX4 power-management function as QEMU's piix4_pm models it on the i440FX
// `pc` machine: PCI 00:01.3, vendor 8086 device 7113, revision 03, class 06/80/00.
// Datasheet: Intel 82371AB PIIX4, §3.4 (function 3 configuration registers).
// Emulated: identification, interrupt pin INTA (0x3D = 1), interrupt line reset to 9 (the SCI),
// PMBA (0x40, I/O base of the 64-byte PM register block: bit 0 reads 1, bits 1–5 read 0, so
// writing all-ones reads back 0xFFFFFFC1 like an I/O BAR), PMREGMISC (0x80, bit 0 = PM I/O
// space enable). Whenever the decoded block (base, enabled) changes an event fires so the
// machine maps or unmaps the AcpiPm block (QEMU's pm_io_space_update).
// Not emulated: the SMBus base (0x90) and SMBus host, device activity/resource registers,
// SMI generation.
// Firmware relies on: OVMF SEC/PEI writes 0x40 = 0xB001 and 0x80 = 1, then reads the ACPI PM
// timer at 0xB008; OVMF checks 0x80 bit 0 before reprogramming.
namespace Emulator.Core.Devices.Pci;

/// <summary>PCI 00:01.3, the PIIX4 power-management function.</summary>
public sealed class Piix4PowerManagement : PciFunction
{
    public const ushort DeviceId = 0x7113;
    public const byte Revision = 0x03;
    public const uint ClassBridgeOther = 0x068000;
    public const int PmBaseOffset = 0x40;
    public const uint PmBlockSize = 64;
    public const int PmRegMiscOffset = 0x80;
    public const byte PmIoEnable = 0x01;
    public const byte SciIrq = 9;
    public const byte InterruptPinA = 1;

    private const uint PmBaseAddressMask = 0xFFC0;

    private bool _mapped;
    private ushort _mappedBase;

    public Piix4PowerManagement()
        : base("piix4-pm", I440fxHostBridge.VendorIntel, DeviceId, Revision, ClassBridgeOther, 0)
    {
        SetByte(InterruptLineOffset, SciIrq);
        SetByte(InterruptPinOffset, InterruptPinA);
        DefineBar(PmBaseOffset, PmBlockSize, BarIoSpace);
        SetWriteMask(PmRegMiscOffset, 1, PmIoEnable);
    }

    /// <summary>
    /// Raised when the decoded PM I/O block changes: (enabled, base). When enabled is false the
    /// block is unmapped; the machine registers the AcpiPm block at base for 64 ports otherwise.
    /// </summary>
    public event Action<bool, ushort>? PmIoChanged;

    public ushort PmBase => (ushort)(GetDword(PmBaseOffset) & PmBaseAddressMask);

    public bool PmIoEnabled => (GetByte(PmRegMiscOffset) & PmIoEnable) != 0;

    protected override void OnReset()
    {
        if (_mapped)
        {
            _mapped = false;
            PmIoChanged?.Invoke(false, 0);
        }
    }

    /// <summary>A restore maps the PM block where the restored PMBA and enable bit put it (QEMU piix4_pm post_load: pm_io_space_update).</summary>
    protected override void OnRestored()
    {
        _mapped = PmIoEnabled;
        _mappedBase = _mapped ? PmBase : (ushort)0;
        PmIoChanged?.Invoke(_mapped, _mappedBase);
    }

    protected override void OnConfigWritten(int offset, int size)
    {
        if (!Touches(offset, size, PmBaseOffset, 4) && !Touches(offset, size, PmRegMiscOffset, 1))
        {
            return;
        }

        bool enabled = PmIoEnabled;
        ushort pmBase = PmBase;
        if (enabled != _mapped || (enabled && pmBase != _mappedBase))
        {
            _mapped = enabled;
            _mappedBase = pmBase;
            PmIoChanged?.Invoke(enabled, pmBase);
        }
    }
}
