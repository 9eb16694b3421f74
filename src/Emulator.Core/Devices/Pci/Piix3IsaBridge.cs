// Intel 82371SB PIIX3 PCI-to-ISA bridge, PCI 00:01.0, vendor 8086 device 7000, class 06/01/00,
// header type 0x80 (multifunction: IDE at .1, USB at .2, and QEMU's PIIX4 PM at .3).
// Datasheet: Intel 82371FB/82371SB PIIX/PIIX3, §2.2. Reset values follow QEMU's piix3_reset.
// Emulated: identification; PIRQ route control PIRQRC[A:D] (0x60–0x63, reset 0x80 = routing
// disabled) stored and readable; the other ISA-bridge registers QEMU initialises are stored.
// Not emulated: actually routing PIRQs to PIC inputs (no PCI device here raises an interrupt),
// APIC chip select, top of memory, DMA/ISA clock controls. The PIIX3's reset control register
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

    public Piix3IsaBridge()
        : base("piix3-isa", I440fxHostBridge.VendorIntel, DeviceId, 0, ClassIsaBridge, HeaderTypeMultiFunction)
    {
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

    /// <summary>The ISA IRQ PIRQ <paramref name="pirq"/> (0 = A) is routed to, or -1 when routing is disabled.</summary>
    public int GetPirqRoute(int pirq)
    {
        byte value = GetByte(PirqRouteOffset + pirq);
        return (value & PirqRouteDisabled) != 0 ? -1 : value & PirqIrqMask;
    }
}
