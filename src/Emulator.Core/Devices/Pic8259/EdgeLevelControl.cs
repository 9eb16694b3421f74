// PIIX3 edge/level control registers ELCR1/ELCR2 (Intel 82371SB datasheet §2.6.3, QEMU's
// i8259 "elcr" ports). Addresses: 0x4D0 (master IRQ 0–7) and 0x4D1 (slave IRQ 8–15).
// Emulated: read/write of the trigger mode bits; bits for IRQ 0, 1, 2, 8 and 13 are read-only 0
// (masks 0xF8 and 0xDE). Not emulated: nothing else exists. Firmware relies on: OVMF's ACPI
// platform code sets PCI IRQs 10/11 (and 5/9) level-triggered here.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Pic8259;

/// <summary>ELCR1/ELCR2 of a DualPic.</summary>
public sealed class EdgeLevelControl(DualPic pic) : IPortDevice
{
    public const ushort BasePort = 0x4D0;
    public const int PortCount = 2;

    public string Name => "elcr";

    public uint Read(ushort offset, int size)
    {
        uint value = 0;
        for (int i = 0; i < size && offset + i < PortCount; i++)
        {
            value |= (uint)Chip(offset + i).Elcr << (8 * i);
        }

        return value;
    }

    public void Write(ushort offset, int size, uint value)
    {
        for (int i = 0; i < size && offset + i < PortCount; i++)
        {
            var chip = Chip(offset + i);
            chip.Elcr = (byte)((value >> (8 * i)) & chip.ElcrMask);
        }
    }

    private Pic Chip(int offset) => offset == 0 ? pic.Master : pic.Slave;
}
