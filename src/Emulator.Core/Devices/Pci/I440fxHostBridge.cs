// Intel 82441FX PMC (i440FX host bridge), PCI 00:00.0, vendor 8086 device 1237, revision 02,
// class 06/00/00 (host bridge). Datasheet: Intel 82441FX PCI and Memory Controller (PMC), §3.2.
// Emulated: identification, PAM0–PAM6 (0x59–0x5F) stored with an event on change so the machine
// can remap 0xC0000–0xFFFFF, SMRAM control (0x72, reset 0x02 as in QEMU: C_BASE_SEG = 010
// read-only, D_OPEN/D_CLS/D_LCK/G_SMRAME stored).
// Not emulated: DRAM controller registers (DRB, DRT), SMRAM decoding, D_LCK locking, error
// reporting; the PAM event reports the change, the machine applies it.
// Firmware relies on: 8086:1237 to detect the i440FX platform (OVMF PlatformPei), PAM1 (0x5A)
// being writable to open 0xC0000 as RAM for a video shim.
namespace Emulator.Core.Devices.Pci;

/// <summary>PCI 00:00.0, the i440FX host bridge.</summary>
public sealed class I440fxHostBridge : PciFunction
{
    public const ushort VendorIntel = 0x8086;
    public const ushort DeviceI440fx = 0x1237;
    public const byte Revision = 0x02;
    public const uint ClassHostBridge = 0x060000;
    public const int Pam0Offset = 0x59;
    public const int PamRegisterCount = PamSegment.RegisterCount;
    public const int SmramOffset = 0x72;
    public const byte SmramDefault = 0x02;
    public const byte SmramWritable = 0x78;
    public const int PamReadEnable = 0x1;
    public const int PamWriteEnable = 0x2;

    public I440fxHostBridge()
        : base("i440fx", VendorIntel, DeviceI440fx, Revision, ClassHostBridge, 0)
    {
        SetByte(SmramOffset, SmramDefault);
        SetWriteMask(SmramOffset, 1, SmramWritable);
    }

    /// <summary>Raised after a PAM register changed; the argument is the PAM number (0–6).</summary>
    public event Action<int>? PamChanged;

    /// <summary>The 13 PAM segments, from the BIOS area down to the 16 KiB expansion segments.</summary>
    public static IReadOnlyList<PamSegment> PamSegments => PamSegment.All;

    public byte Smram => GetByte(SmramOffset);

    public byte GetPam(int register) => GetByte(Pam0Offset + register);

    public PamAccess GetPamAccess(PamSegment segment) => segment.AccessIn(GetPam(segment.Register));

    protected override void OnReset()
    {
        for (int pam = 0; pam < PamRegisterCount; pam++)
        {
            PamChanged?.Invoke(pam);
        }
    }

    /// <summary>A restore re-announces every PAM register, as a reset does.</summary>
    protected override void OnRestored() => OnReset();

    protected override void OnConfigWritten(int offset, int size)
    {
        for (int pam = 0; pam < PamRegisterCount; pam++)
        {
            if (Touches(offset, size, Pam0Offset + pam, 1))
            {
                PamChanged?.Invoke(pam);
            }
        }
    }
}
