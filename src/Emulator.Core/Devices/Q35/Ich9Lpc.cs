// The ICH9 LPC bridge as QEMU 7.2 models it (hw/isa/lpc_ich9.c, registers in
// include/hw/i386/ich9.h): PCI 00:1f.0, vendor 8086 device 2918, revision 2, class 06/01/00,
// multifunction (AHCI at .2, SMBus at .3), subsystem 1AF4:1100 (QEMU's default).
// Emulated, in configuration space:
// - PMBASE (0x40, reset 0x00000001): the PM I/O block's base in bits 15:7; bits 7 and 2:0 of the
//   first byte are writable too (QEMU's realize writes the ACPI_CNTL mask over PMBASE's low byte);
// - ACPI_CNTL (0x44): bit 7 decodes the PM block at PMBASE, bits 2:0 pick the SCI's GSI
//   (0 → 9, 1 → 10, 2 → 11, 4 → 20, 5 → 21, others none) (ich9_lpc_pmbase_sci_update);
// - PIRQA–D (0x60–0x63) and PIRQE–H (0x68–0x6B), reset 0x80: bit 7 keeps the PIRQ off the
//   8259, bits 3:0 the ISA IRQ; PIRQ n always drives I/O APIC GSI 16 + n (ich9_lpc_update_pic,
//   ich9_lpc_update_apic) — the SCI is ORed into its GSI the same way (ich9_set_sci);
// - GEN_PMCON_1 (0xA0): SMI_LOCK (bit 4) sticks once set and freezes SMI_EN bit 0
//   (ich9_lpc_pmcon_update);
// - RCBA (0xF0): bit 0 maps the 16 KiB chipset configuration registers at bits 31:14
//   (ich9_lpc_rcba_update; the registers: Ich9ChipsetConfig);
// - 0x82 (LPC_EN) says which legacy devices decode: bit 0 COM1, bit 1 COM2, as QEMU's
//   ich9_lpc_machine_ready finds them once at machine start;
// - every other byte from 0x40 is storage.
// The machine maps the PM block, the SMI registers and the chipset configuration registers
// where the events say and connects the GSI outputs.
// Not emulated: the TCO block, ACPI PCI hotplug at 0x0CC4, and QEMU's PCI-reset behaviour of
// keeping GEN_PMCON_1 and other device-specific bytes (every byte returns to power-on here).
// Firmware relies on: SEC programming PMBASE 0x600 and ACPI_CNTL bit 7 before reading the PM
// timer, PlatformPei the RCBA and PIRQs, SmmControl2Dxe (SMM builds) SMI_LOCK.
using Emulator.Core.Devices.Pci;

namespace Emulator.Core.Devices.Q35;

/// <summary>PCI 00:1f.0, the ICH9 LPC bridge.</summary>
public sealed class Ich9Lpc : PciFunction
{
    public const int DeviceNumber = 31;
    public const int FunctionNumber = 0;
    public const ushort DeviceId = 0x2918;
    public const byte Revision = 2;
    public const uint ClassIsaBridge = 0x060100;

    public const int PmBaseOffset = 0x40;
    public const uint PmBaseDefault = 0x1;
    public const int PmBlockSize = 128;

    /// <summary>PM1 event/control and the timer: the first 32 ports of the PM block (QEMU's "ich9-pm" container).</summary>
    public const int Pm1TimerPorts = 0x20;

    /// <summary>GPE0 inside the PM block (ICH9_PMIO_GPE0_STS, ICH9_PMIO_GPE0_LEN).</summary>
    public const ushort Gpe0Offset = 0x20;
    public const int Gpe0Length = 16;
    public const int AcpiControlOffset = 0x44;
    public const byte AcpiEnable = 0x80;
    public const int PirqAOffset = 0x60;
    public const int PirqEOffset = 0x68;
    public const int PirqCount = 8;
    public const byte PirqDisabled = 0x80;
    public const int LpcEnableOffset = 0x82;
    public const byte LpcEnableCom1 = 0x01;
    public const byte LpcEnableCom2 = 0x02;
    public const int GenPmcon1Offset = 0xA0;
    public const ushort SmiLock = 0x10;
    public const int RcbaOffset = 0xF0;
    public const uint RcbaEnable = 0x1;

    /// <summary>GSIs the LPC drives (QEMU GSI_NUM_PINS).</summary>
    public const int GsiCount = 24;

    /// <summary>The first I/O APIC GSI a PIRQ drives (ICH9_LPC_PIC_NUM_PINS).</summary>
    public const int PirqFirstGsi = 16;

    private const uint PmBaseAddressMask = 0xFF80;
    private const uint RcbaAddressMask = 0xFFFF_C000;
    private const byte PirqIrqMask = 0x0F;
    private const byte SciSelectMask = 0x07;

    private readonly bool[] _pirqLevels = new bool[PirqCount];
    private bool _sciLevel;
    private int _sciGsi;
    private (bool Enabled, ushort Base) _pmBlock;
    private (bool Enabled, uint Base) _rcba;

    /// <param name="legacyDecode">LPC_EN (0x82): <see cref="LpcEnableCom1"/> | <see cref="LpcEnableCom2"/> for the COM ports present.</param>
    public Ich9Lpc(byte legacyDecode)
        : base("ich9-lpc", I440fxHostBridge.VendorIntel, DeviceId, Revision, ClassIsaBridge, HeaderTypeMultiFunction)
    {
        SetDword(PmBaseOffset, PmBaseDefault);
        SetDefaultSubsystemId();
        SetWriteMask(PmBaseOffset, 4, PmBaseAddressMask);
        SetWriteMask(PmBaseOffset, 1, AcpiEnable | SciSelectMask);
        for (int i = 0; i < PirqCount; i++)
        {
            SetByte(PirqOffset(i), PirqDisabled);
        }

        SetByte(LpcEnableOffset, legacyDecode);
        _sciGsi = SciGsiFor(0);
        for (int gsi = 0; gsi < GsiCount; gsi++)
        {
            Gsi[gsi] = new OutputLine($"ich9-lpc.gsi{gsi}");
        }
    }

    /// <summary>The GSI outputs (QEMU's ICH9_GPIO_GSI lines): PIRQs and the SCI.</summary>
    public OutputLine[] Gsi { get; } = new OutputLine[GsiCount];

    /// <summary>The 16 KiB chipset configuration registers RCBA maps (part of this device's state).</summary>
    public Ich9ChipsetConfig ChipsetConfig { get; } = new();

    /// <summary>Raised when the decoded PM I/O block changes: (enabled, base); 128 ports when enabled.</summary>
    public event Action<bool, ushort>? PmIoChanged;

    /// <summary>Raised when the chipset configuration window changes: (enabled, base); 16 KiB when enabled.</summary>
    public event Action<bool, uint>? RcbaChanged;

    /// <summary>Raised when GEN_PMCON_1.SMI_LOCK is (or stays) set by a write or a restore: SMI_EN bit 0 freezes.</summary>
    public event Action? SmiLocked;

    /// <summary>The PM block's base as PMBASE holds it (bits 15:7).</summary>
    public ushort PmBase => (ushort)(GetDword(PmBaseOffset) & PmBaseAddressMask);

    /// <summary>Whether ACPI_CNTL decodes the PM block.</summary>
    public bool PmIoEnabled => (GetByte(AcpiControlOffset) & AcpiEnable) != 0;

    /// <summary>The GSI the SCI drives, or -1 for a reserved ACPI_CNTL selection.</summary>
    public int SciGsi => _sciGsi;

    public static int PirqOffset(int pirq) => pirq < 4 ? PirqAOffset + pirq : PirqEOffset + pirq - 4;

    /// <summary>The ISA IRQ PIRQ <paramref name="pirq"/> (0 = A) drives on the 8259, or -1 when bit 7 keeps it off.</summary>
    public int GetPirqRoute(int pirq)
    {
        byte value = GetByte(PirqOffset(pirq));
        return (value & PirqDisabled) != 0 ? -1 : value & PirqIrqMask;
    }

    /// <summary>A PCI interrupt pin reached PIRQ <paramref name="pirq"/> (QEMU ich9_lpc_set_irq).</summary>
    public void SetPirq(int pirq, bool level)
    {
        _pirqLevels[pirq] = level;
        UpdateGsi(PirqFirstGsi + pirq);
        UpdateGsi(GetByte(PirqOffset(pirq)) & PirqIrqMask);
    }

    /// <summary>The PM block's SCI (QEMU ich9_set_sci): ORed into the GSI ACPI_CNTL selects.</summary>
    public void SetSci(bool level)
    {
        if (level == _sciLevel)
        {
            return;
        }

        _sciLevel = level;
        if (_sciGsi >= 0)
        {
            UpdateGsi(_sciGsi);
        }
    }

    /// <summary>The configuration space, the chipset configuration registers, the SCI level and the PIRQ input levels (QEMU vmstate "ICH9LPC").</summary>
    public override DeviceState SaveState() =>
        new Ich9LpcState(((PciConfigState)base.SaveState()).Config, ChipsetConfig.Save(), _sciLevel, [.. _pirqLevels]);

    public override void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<Ich9LpcState>(state, this);
        ChipsetConfig.Restore(s.ChipsetConfig);
        _sciLevel = s.Sci;
        s.PirqLevels.CopyTo(_pirqLevels, 0);
        RestoreConfig(s.Config);
    }

    /// <summary>ich9_lpc_post_load: PM block, SCI GSI, RCBA window and SMI_LOCK re-applied; the GSI lines driven to the restored levels.</summary>
    protected override void OnRestored()
    {
        SetWriteMask(GenPmcon1Offset, 1, 0xFF);
        UpdatePmBlockAndSci(announce: true);
        UpdateRcba(announce: true);
        UpdatePmcon();
        for (int gsi = 0; gsi < GsiCount; gsi++)
        {
            Gsi[gsi].Restore(GsiLevel(gsi));
        }
    }

    /// <summary>ich9_lpc_reset (the configuration space is back at power-on): chipset configuration reset, SCI low, mappings re-applied.</summary>
    protected override void OnReset()
    {
        SetWriteMask(GenPmcon1Offset, 1, 0xFF);
        ChipsetConfig.Reset();
        _sciLevel = false;
        UpdatePmBlockAndSci();
        UpdateRcba();
    }

    protected override void OnConfigWritten(int offset, int size)
    {
        if (Touches(offset, size, PmBaseOffset, 4) || Touches(offset, size, AcpiControlOffset, 1))
        {
            UpdatePmBlockAndSci();
        }

        if (Touches(offset, size, RcbaOffset, 4))
        {
            UpdateRcba();
        }

        if (Touches(offset, size, GenPmcon1Offset, 8))
        {
            UpdatePmcon();
        }
    }

    private static int SciGsiFor(byte acpiControl) => (acpiControl & SciSelectMask) switch
    {
        0 => 9,
        1 => 10,
        2 => 11,
        4 => 20,
        5 => 21,
        _ => -1,
    };

    /// <summary>ich9_lpc_pmbase_sci_update: the block is decoded at PMBASE while ACPI_EN is set and the base is not 0; a raised SCI moves to a newly selected GSI.</summary>
    private void UpdatePmBlockAndSci(bool announce = false)
    {
        ushort pmBase = PmIoEnabled ? PmBase : (ushort)0;
        var block = (pmBase != 0, pmBase);
        if (announce || block != _pmBlock)
        {
            _pmBlock = block;
            PmIoChanged?.Invoke(block.Item1, pmBase);
        }

        int newGsi = SciGsiFor(GetByte(AcpiControlOffset));
        if (newGsi != _sciGsi)
        {
            int oldGsi = _sciGsi;
            _sciGsi = newGsi;
            if (_sciLevel)
            {
                if (oldGsi >= 0)
                {
                    UpdateGsi(oldGsi);
                }

                if (newGsi >= 0)
                {
                    UpdateGsi(newGsi);
                }
            }
        }
    }

    private void UpdateRcba(bool announce = false)
    {
        uint rcba = GetDword(RcbaOffset);
        var window = ((rcba & RcbaEnable) != 0, rcba & RcbaAddressMask);
        if (announce || window != _rcba)
        {
            _rcba = window;
            RcbaChanged?.Invoke(window.Item1, window.Item2);
        }
    }

    /// <summary>ich9_lpc_pmcon_update: SMI_LOCK set → it can no longer be cleared, and SMI_EN bit 0 freezes.</summary>
    private void UpdatePmcon()
    {
        if ((GetDword(GenPmcon1Offset) & SmiLock) != 0)
        {
            SetWriteMask(GenPmcon1Offset, 1, (byte)(GetWriteMask(GenPmcon1Offset) & ~SmiLock));
            SmiLocked?.Invoke();
        }
    }

    /// <summary>The level QEMU computes for <paramref name="gsi"/>: PIRQs routed to it (8259 range) or its own PIRQ (16–23), ORed with the SCI when selected.</summary>
    private bool GsiLevel(int gsi)
    {
        bool level = _sciLevel && gsi == _sciGsi;
        if (gsi >= PirqFirstGsi)
        {
            return level | _pirqLevels[gsi - PirqFirstGsi];
        }

        for (int pirq = 0; pirq < PirqCount; pirq++)
        {
            level |= _pirqLevels[pirq] && GetPirqRoute(pirq) == gsi;
        }

        return level;
    }

    private void UpdateGsi(int gsi) => Gsi[gsi].Set(GsiLevel(gsi));
}

/// <summary>The LPC bridge: configuration space, chipset configuration registers, SCI level, PIRQ input levels.</summary>
public sealed record Ich9LpcState(byte[] Config, byte[] ChipsetConfig, bool Sci, bool[] PirqLevels) : DeviceState;
