// The Q35 memory controller hub (MCH) as QEMU 7.2 models it (hw/pci-host/q35.c, register
// definitions in include/hw/pci-host/q35.h): PCI 00:00.0, vendor 8086 device 29C0 (the 82P35
// MCH), revision 0, class 06/00/00, subsystem 1AF4:1100 (QEMU's default for every function).
// Emulated, in configuration space:
// - PCIEXBAR (0x60, 64 bits, reset 0xB0000000): bit 0 enables the PCI Express ECAM window, bits
//   2:1 its size (00 256 MiB, 01 128 MiB, 10 64 MiB; 11 is reserved and ignored, as QEMU only
//   logs it), the base from bits 35:28 (35:27 for 128 MiB, 35:26 for 64 MiB) (mch_update_pciexbar);
// - PAM0–PAM6 (0x90–0x96), the same segments and attributes as the i440FX's (PamSegment);
// - SMRAM (0x9D, reset 0x02): D_OPEN 6, D_CLS 5, D_LCK 4, G_SMRAME 3 writable, C_BASE_SEG 2:0
//   read-only; ESMRAMC (0x9E, reset 0x38): H_SMRAME 7, TSEG_SZ 2:1, T_EN 0 writable, 5:3 read as
//   1. Setting D_LCK clears D_OPEN and freezes SMRAM (but D_CLS) and ESMRAMC until reset
//   (mch_update_smram);
// - QEMU's extended-TSEG register (0x50, 16 bits): reset writes 0xFFFF and every update turns a
//   0xFFFF left there into the extended TSEG size in MiB, 16 on pc-q35-7.2
//   (mch_update_ext_tseg_mbytes, called from mch_update after reset too: it reads 16 from power-on);
// - QEMU's SMBASE control (0x9C, "smbase-smram" on): 0xFF written while in reset state reads
//   back 0x01 and leaves only bit 1 writable; any other first write reads 0; bit 1 then locks the
//   register at 0x02, which closes 0x30000–0x4FFFF to non-SMM code (mch_update_smbase_smram);
// - every other byte from 0x40 is storage (GGC 0x52, GBSM 0xA4, BGSM 0xA8, TSEGMB 0xAC,
//   TOLUD 0xB0: OVMF reads TSEGMB back), as QEMU's default write mask makes them.
// The memory effects (ECAM window, PAM overlays, SMRAM visibility) are the machine's: the bridge
// raises an event after a write that changes a register they depend on, after reset and after a
// restore, and answers what the registers decode to.
// Not emulated: DRAM controller and graphics registers beyond storage; QEMU's PCI reset clears
// only the command register, BARs and cache line size and keeps PAM and other device-specific
// bytes, while every byte here returns to its power-on value (docs/q35.md).
// Firmware relies on: 29C0 to detect Q35 (OVMF OvmfPlatforms.h), PCIEXBAR (PlatformPei maps ECAM
// at 0xB0000000 and DXE uses only ECAM), and for SMM builds ESMRAMC bits 5:3 reading 111, TSEGMB
// storing, the 0x50 and 0x9C queries, T_EN/G_SMRAME closing TSEG and D_LCK at ReadyToLock.
using Emulator.Core.Devices.Pci;

namespace Emulator.Core.Devices.Q35;

/// <summary>PCI 00:00.0, the Q35 MCH host bridge.</summary>
public sealed class MchHostBridge : PciFunction
{
    public const ushort DeviceId = 0x29C0;
    public const uint ClassHostBridge = 0x060000;

    public const int ExtendedTsegOffset = 0x50;
    public const ushort ExtendedTsegQuery = 0xFFFF;
    public const ushort DefaultExtendedTsegMegabytes = 16;
    public const int PciexbarOffset = 0x60;
    public const ulong PciexbarDefault = 0xB000_0000;
    public const ulong PciexbarEnable = 0x1;
    public const int Pam0Offset = 0x90;
    public const int SmbaseControlOffset = 0x9C;
    public const byte SmbaseQuery = 0xFF;
    public const byte SmbaseInRam = 0x01;
    public const byte SmbaseLock = 0x02;
    public const int SmramOffset = 0x9D;
    public const byte SmramDefault = 0x02;
    public const byte SmramOpen = 0x40;
    public const byte SmramClosed = 0x20;
    public const byte SmramLock = 0x10;
    public const byte SmramGlobalEnable = 0x08;
    public const int EsmramcOffset = 0x9E;
    public const byte EsmramcDefault = 0x38;
    public const byte EsmramcHighEnable = 0x80;
    public const byte EsmramcTsegSizeMask = 0x06;
    public const byte EsmramcTsegEnable = 0x01;

    /// <summary>QEMU's SMBASE window: 128 KiB from the default SMBASE (MCH_HOST_BRIDGE_SMBASE_ADDR/SIZE).</summary>
    public const uint SmbaseWindowStart = 0x3_0000;
    public const uint SmbaseWindowSize = 0x2_0000;

    /// <summary>The legacy SMRAM window 0xA0000–0xBFFFF and its high alias (MCH_HOST_BRIDGE_SMRAM_C_BASE/SIZE, 0xFEDA0000).</summary>
    public const uint LowSmramStart = 0xA_0000;
    public const uint LowSmramSize = 0x2_0000;
    public const uint HighSmramStart = 0xFEDA_0000;

    private const byte SmramWriteMask = SmramOpen | SmramClosed | SmramLock | SmramGlobalEnable;
    private const byte SmramLockedWriteMask = SmramClosed;
    private const byte EsmramcWriteMask = EsmramcHighEnable | EsmramcTsegSizeMask | EsmramcTsegEnable;
    private const ulong PciexbarSizeMask = 0x6;
    private const ulong PciexbarSize128M = 0x2;
    private const ulong PciexbarSize64M = 0x4;
    private const ulong PciexbarAddressMask = 0xF_F000_0000;
    private const ulong PciexbarAddress128Bit = 1UL << 27;
    private const ulong PciexbarAddress64Bit = 1UL << 26;
    private const uint OneMiB = 1 << 20;

    private readonly ushort _extendedTsegMegabytes;

    public MchHostBridge(ushort extendedTsegMegabytes = DefaultExtendedTsegMegabytes)
        : base("mch", Pci.I440fxHostBridge.VendorIntel, DeviceId, 0, ClassHostBridge, 0)
    {
        _extendedTsegMegabytes = extendedTsegMegabytes;
        SetDefaultSubsystemId();
        ApplyResetValues();
        UpdateExtendedTseg();
        (EcamEnabled, EcamBase, EcamSize) = DecodePciexbar();
    }

    /// <summary>Raised after the ECAM window's enable, base or size changed (and after reset and restore).</summary>
    public event Action? EcamChanged;

    /// <summary>Raised after a PAM register was written (argument 0–6), and for all seven after reset and restore.</summary>
    public event Action<int>? PamChanged;

    /// <summary>Raised after SMRAM, ESMRAMC or SMBASE control was written, and after reset and restore.</summary>
    public event Action? SmramChanged;

    public bool EcamEnabled { get; private set; }

    public ulong EcamBase { get; private set; }

    public ulong EcamSize { get; private set; }

    public byte Smram => GetByte(SmramOffset);

    public byte Esmramc => GetByte(EsmramcOffset);

    public byte SmbaseControl => GetByte(SmbaseControlOffset);

    /// <summary>0x30000–0x4FFFF reads all-ones outside SMM (SMBASE control locked).</summary>
    public bool SmbaseLocked => SmbaseControl == SmbaseLock;

    public PamAccess GetPamAccess(PamSegment segment) => segment.AccessIn(GetByte(Pam0Offset + segment.Register));

    /// <summary>
    /// The TSEG size the normal view loses at the top of low RAM: 0 unless T_EN and G_SMRAME are
    /// both set; else 1, 2 or 8 MiB, or the extended size (mch_update_smram).
    /// </summary>
    public uint TsegSize
    {
        get
        {
            if ((Esmramc & EsmramcTsegEnable) == 0 || (Smram & SmramGlobalEnable) == 0)
            {
                return 0;
            }

            return (Esmramc & EsmramcTsegSizeMask) switch
            {
                0x0 => OneMiB,
                0x2 => 2 * OneMiB,
                0x4 => 8 * OneMiB,
                _ => _extendedTsegMegabytes * OneMiB,
            };
        }
    }

    protected override void OnReset()
    {
        ApplyResetValues();
        UpdateExtendedTseg();
        AnnounceAll();
    }

    /// <summary>A restore re-derives the write masks the registers imply (D_LCK, SMBASE state) and re-announces every mapping (QEMU mch_post_load: mch_update).</summary>
    protected override void OnRestored()
    {
        RestoreWriteMasks();
        AnnounceAll();
    }

    protected override void OnConfigWritten(int offset, int size)
    {
        for (int pam = 0; pam < PamSegment.RegisterCount; pam++)
        {
            if (Touches(offset, size, Pam0Offset + pam, 1))
            {
                PamChanged?.Invoke(pam);
            }
        }

        if (Touches(offset, size, PciexbarOffset, 8))
        {
            UpdateEcam();
        }

        // QEMU's MCH_HOST_BRIDGE_SMRAM_SIZE is 2: a write to SMRAM or ESMRAMC updates the decoding.
        bool smram = Touches(offset, size, SmramOffset, 2);
        if (smram)
        {
            ApplySmramLock();
        }

        if (Touches(offset, size, ExtendedTsegOffset, 2))
        {
            UpdateExtendedTseg();
        }

        bool smbase = Touches(offset, size, SmbaseControlOffset, 1);
        if (smbase)
        {
            UpdateSmbaseControl();
        }

        if (smram || smbase)
        {
            SmramChanged?.Invoke();
        }
    }

    /// <summary>mch_reset: PCIEXBAR, SMRAM, ESMRAMC and their write masks, the 0x50 query, SMBASE control.</summary>
    private void ApplyResetValues()
    {
        SetDword(PciexbarOffset, (uint)PciexbarDefault);
        SetDword(PciexbarOffset + 4, (uint)(PciexbarDefault >> 32));
        SetByte(SmramOffset, SmramDefault);
        SetByte(EsmramcOffset, EsmramcDefault);
        SetWriteMask(SmramOffset, 1, SmramWriteMask);
        SetWriteMask(EsmramcOffset, 1, EsmramcWriteMask);
        SetWord(ExtendedTsegOffset, ExtendedTsegQuery);
        SetByte(SmbaseControlOffset, 0);
        SetWriteMask(SmbaseControlOffset, 1, 0xFF);
    }

    private void RestoreWriteMasks()
    {
        SetWriteMask(SmramOffset, 1, SmramWriteMask);
        SetWriteMask(EsmramcOffset, 1, EsmramcWriteMask);
        ApplySmramLock();
        SetWriteMask(SmbaseControlOffset, 1, SmbaseControl switch
        {
            SmbaseInRam => SmbaseLock,
            SmbaseLock => 0,
            _ => 0xFF,
        });
    }

    private void AnnounceAll()
    {
        for (int pam = 0; pam < PamSegment.RegisterCount; pam++)
        {
            PamChanged?.Invoke(pam);
        }

        UpdateEcam(announce: true);
        SmramChanged?.Invoke();
    }

    /// <summary>The D_LCK part of mch_update_smram: D_OPEN cleared, SMRAM frozen but D_CLS, ESMRAMC frozen.</summary>
    private void ApplySmramLock()
    {
        if ((Smram & SmramLock) != 0)
        {
            SetByte(SmramOffset, (byte)(Smram & ~SmramOpen));
            SetWriteMask(SmramOffset, 1, SmramLockedWriteMask);
            SetWriteMask(EsmramcOffset, 1, 0);
        }
    }

    /// <summary>mch_update_ext_tseg_mbytes: a 0xFFFF left in 0x50 becomes the extended size.</summary>
    private void UpdateExtendedTseg()
    {
        if (_extendedTsegMegabytes > 0 && ReadConfig(ExtendedTsegOffset, 2) == ExtendedTsegQuery)
        {
            SetWord(ExtendedTsegOffset, _extendedTsegMegabytes);
        }
    }

    /// <summary>mch_update_smbase_smram after a write to 0x9C.</summary>
    private void UpdateSmbaseControl()
    {
        bool resetState = GetWriteMask(SmbaseControlOffset) == 0xFF;
        if (SmbaseControl == SmbaseQuery && resetState)
        {
            SetWriteMask(SmbaseControlOffset, 1, SmbaseLock);
            SetByte(SmbaseControlOffset, SmbaseInRam);
            return;
        }

        if (resetState)
        {
            SetByte(SmbaseControlOffset, 0);
        }

        if ((SmbaseControl & SmbaseLock) != 0)
        {
            SetWriteMask(SmbaseControlOffset, 1, 0);
            SetByte(SmbaseControlOffset, SmbaseLock);
        }
    }

    private void UpdateEcam(bool announce = false)
    {
        var (enabled, ecamBase, size) = DecodePciexbar();
        if (size == 0)
        {
            // The reserved size: QEMU logs a guest error and leaves the window as it was.
            return;
        }

        if (announce || enabled != EcamEnabled || ecamBase != EcamBase || size != EcamSize)
        {
            (EcamEnabled, EcamBase, EcamSize) = (enabled, ecamBase, size);
            EcamChanged?.Invoke();
        }
    }

    /// <summary>mch_update_pciexbar's decoding; size 0 for the reserved length.</summary>
    private (bool Enabled, ulong Base, ulong Size) DecodePciexbar()
    {
        ulong bar = ReadConfig(PciexbarOffset, 4) | ((ulong)ReadConfig(PciexbarOffset + 4, 4) << 32);
        bool enabled = (bar & PciexbarEnable) != 0;
        return (bar & PciexbarSizeMask) switch
        {
            0 => (enabled, bar & PciexbarAddressMask, 256UL << 20),
            PciexbarSize128M => (enabled, bar & (PciexbarAddressMask | PciexbarAddress128Bit | PciexbarAddress64Bit), 128UL << 20),
            PciexbarSize64M => (enabled, bar & (PciexbarAddressMask | PciexbarAddress64Bit), 64UL << 20),
            _ => (enabled, 0, 0),
        };
    }
}
