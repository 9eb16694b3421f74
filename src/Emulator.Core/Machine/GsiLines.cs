using Emulator.Core.Devices.Pic8259;

namespace Emulator.Core.Machine;

/// <summary>
/// The global system interrupt lines of QEMU's "pc" machine (hw/i386/x86.c gsi_handler with
/// hw/intc/ioapic.c ioapic_set_irq): GSI 0–15 are the ISA IRQs and reach both the 8259 pair and
/// the I/O APIC, GSI 16–23 only the I/O APIC; ISA IRQ 0 enters the I/O APIC on pin 2 (the MADT's
/// interrupt source override IRQ0 → GSI 2), every other GSI n on pin n. Lines past 23 (HPET
/// routes 24–31) are not connected, as on QEMU.
/// </summary>
public sealed class GsiLines(DualPic pic, Devices.IoApic.IoApic ioApic)
{
    public const int Count = Devices.IoApic.IoApic.PinCount;
    public const int TimerIsaIrq = 0;
    public const int TimerIoApicPin = 2;

    /// <summary>Sets the level of line <paramref name="gsi"/>; edge-triggered inputs latch on the rising level.</summary>
    public void Set(int gsi, bool level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gsi);
        if (gsi < DualPic.IrqCount)
        {
            pic.SetIrq(gsi, level);
        }

        if (gsi < Count)
        {
            ioApic.SetPin(gsi == TimerIsaIrq ? TimerIoApicPin : gsi, level);
        }
    }
}
