// Intel 82371SB PIIX3 PCI-to-ISA bridge, PCI 00:01.0, vendor 8086 device 7000, class 06/01/00,
// header type 0x80 (multifunction: IDE at .1, USB at .2, and QEMU's PIIX4 PM at .3).
// Datasheet: Intel 82371FB/82371SB PIIX/PIIX3, §2.2. Reset values follow QEMU's piix3_reset.
// Emulated: identification; PIRQ route control PIRQRC[A:D] (0x60–0x63, reset 0x80 = routing
// disabled) and the routing itself as QEMU's piix3_set_irq / piix3_update_irq_levels do it: a
// PCI interrupt pin raises its PIRQ, and ISA IRQ n is high while any PIRQ routed to n is
// (routing values of 16 and up, bit 7 included, route nothing; a PIRQRC write re-drives the IRQ
// each PIRQ now names, so, as in QEMU, an IRQ no PIRQ names any more keeps its level); the other ISA-bridge registers QEMU initialises are stored.
// Not emulated: APIC chip select, top of memory, DMA/ISA clock controls. The PIIX3's reset control register
// 0xCF9 is an I/O register, not configuration space: ResetControlRegister.
// Firmware relies on: 8086:7000 presence, writable PIRQ routing (OVMF programs PIRQA–D to
// IRQ 10/10/11/11 and reports them in the ACPI _PRT), the multifunction bit to probe .1–.7.
namespace Emulator.Core.Devices.Pci;

/// <summary>PCI 00:01.0, the PIIX3 ISA bridge.</summary>
public sealed class Piix3IsaBridge : PciFunction
{
    public const ushort DeviceId = 0x7000;
    public const uint ClassIsaBridge = 0x060100;
    public const int PirqRouteOffset = 0x60;
    public const int PirqCount = 4;
    public const byte PirqRouteDisabled = 0x80;
    public const byte PirqIrqMask = 0x0F;

    private const int IsaClockDivisorOffset = 0x4C;
    private const byte IsaClockDivisorDefault = 0x4D;
    private const int XBusChipSelectOffset = 0x4E;
    private const byte XBusChipSelectDefault = 0x03;
    private const int DeterministicLatencyOffset = 0x69;
    private const byte DeterministicLatencyDefault = 0x02;
    private const int MotherboardIrqRouteOffset = 0x70;
    private const byte MotherboardIrqRouteDefault = 0x80;
    private const int MotherboardDmaOffset = 0x76;
    private const byte MotherboardDmaDefault = 0x0C;
    private const int ProgrammableChipSelectOffset = 0x78;
    private const byte ProgrammableChipSelectDefault = 0x02;
    private const int SmiEnableOffset = 0xA0;
    private const byte SmiEnableDefault = 0x08;

    public const int IsaIrqCount = 16;

    /// <summary>The PIRQ inputs' levels (QEMU's PCI bus irq_count, saved as pci_irq_levels).</summary>
    private readonly bool[] _pirqLevels = new bool[PirqCount];

    public Piix3IsaBridge()
        : base("piix3-isa", I440fxHostBridge.VendorIntel, DeviceId, 0, ClassIsaBridge, HeaderTypeMultiFunction)
    {
        for (int irq = 0; irq < IsaIrqCount; irq++)
        {
            Irq[irq] = new OutputLine($"piix3-isa.irq{irq}");
        }

        for (int i = 0; i < PirqCount; i++)
        {
            SetByte(PirqRouteOffset + i, PirqRouteDisabled);
        }

        SetByte(IsaClockDivisorOffset, IsaClockDivisorDefault);
        SetByte(XBusChipSelectOffset, XBusChipSelectDefault);
        SetByte(DeterministicLatencyOffset, DeterministicLatencyDefault);
        SetByte(MotherboardIrqRouteOffset, MotherboardIrqRouteDefault);
        SetByte(MotherboardDmaOffset, MotherboardDmaDefault);
        SetByte(MotherboardDmaOffset + 1, MotherboardDmaDefault);
        SetByte(ProgrammableChipSelectOffset, ProgrammableChipSelectDefault);
        SetByte(SmiEnableOffset, SmiEnableDefault);
    }

    /// <summary>The ISA IRQ outputs PIRQs are routed onto (QEMU's piix3->pic[]: the board's GSI 0–15).</summary>
    public OutputLine[] Irq { get; } = new OutputLine[IsaIrqCount];

    /// <summary>
    /// A PCI interrupt pin reached PIRQ <paramref name="pirq"/> (piix3_set_irq; the board maps
    /// device d's pin p to PIRQ (d − 1 + p) mod 4, pci_slot_get_pirq).
    /// </summary>
    public void SetPirq(int pirq, bool level)
    {
        _pirqLevels[pirq] = level;
        Drive(pirq);
    }

    /// <summary>PCI 00:<paramref name="device"/>'s interrupt pin <paramref name="pin"/> (0 = INTA) → its PIRQ (hw/isa/piix3.c pci_slot_get_pirq).</summary>
    public static int PirqFor(int device, int pin) => (pin + device - 1) & (PirqCount - 1);

    /// <summary>The configuration space and the PIRQ input levels (QEMU vmstate "PIIX3": pci_irq_levels).</summary>
    public override DeviceState SaveState() => new Piix3IsaState(((PciConfigState)base.SaveState()).Config, [.. _pirqLevels]);

    public override void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<Piix3IsaState>(state, this);
        s.PirqLevels.CopyTo(_pirqLevels, 0);
        RestoreConfig(s.Config);
    }

    /// <summary>piix3_post_load: the IRQ levels recomputed from the PIRQ levels and routing.</summary>
    protected override void OnRestored()
    {
        for (int irq = 0; irq < IsaIrqCount; irq++)
        {
            Irq[irq].Restore(IrqLevel(irq));
        }
    }

    /// <summary>piix3_write_config: a PIRQRC write re-drives every PIRQ's routed IRQ (piix3_update_irq_levels).</summary>
    protected override void OnConfigWritten(int offset, int size)
    {
        if (Touches(offset, size, PirqRouteOffset, PirqCount))
        {
            for (int pirq = 0; pirq < PirqCount; pirq++)
            {
                Drive(pirq);
            }
        }
    }

    /// <summary>piix3_set_irq_pic: the IRQ PIRQ <paramref name="pirq"/> routes to, high while any PIRQ routed there is.</summary>
    private void Drive(int pirq)
    {
        int irq = GetByte(PirqRouteOffset + pirq);
        if (irq < IsaIrqCount)
        {
            Irq[irq].Set(IrqLevel(irq));
        }
    }

    private bool IrqLevel(int irq) => Enumerable.Range(0, PirqCount).Any(p => _pirqLevels[p] && GetByte(PirqRouteOffset + p) == irq);

    /// <summary>The ISA IRQ PIRQ <paramref name="pirq"/> (0 = A) is routed to, or -1 when routing is disabled.</summary>
    public int GetPirqRoute(int pirq)
    {
        byte value = GetByte(PirqRouteOffset + pirq);
        return (value & PirqRouteDisabled) != 0 ? -1 : value & PirqIrqMask;
    }
}

/// <summary>The PIIX3 ISA bridge: configuration space and PIRQ input levels.</summary>
public sealed record Piix3IsaState(byte[] Config, bool[] PirqLevels) : DeviceState;
