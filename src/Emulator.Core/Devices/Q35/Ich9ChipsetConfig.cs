// The ICH9 chipset configuration registers (root complex register block) that the LPC bridge's
// RCBA maps as 16 KiB of memory, as QEMU 7.2 models them (hw/isa/lpc_ich9.c ich9_cc_read,
// ich9_cc_write, ich9_cc_reset; offsets in include/hw/i386/ich9.h).
// Emulated: 16 KiB of little-endian storage, accesses of 1–4 bytes at any offset (QEMU's ops
// declare nothing; an access running past the end is cut there, ich9_cc_addr_len); reset
// clears it and sets the interrupt-routing registers D25IR–D29IR and D31IR to 0x3210 (INTA–D
// → PIRQA–D), D30IR to 0 and GCS (0x3410) to 0x20 (no-reboot strap). The D<n>IR values map a
// device's interrupt pins to PIRQs (ich9_cc_update): PirqFor.
// Not emulated: anything the registers control besides interrupt routing (function disable,
// RTC/HPET configuration, the watchdog no-reboot bit's effect).
// Firmware relies on: OVMF PlatformPei maps RCBA at 0xFED1C000 and reserves it; nothing else.
using System.Buffers.Binary;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.Q35;

/// <summary>The 16 KiB ICH9 chipset configuration registers behind RCBA.</summary>
public sealed class Ich9ChipsetConfig : IMmioDevice
{
    public const int Size = 0x4000;
    public const int D31IrOffset = 0x3140;
    public const int D30IrOffset = 0x3142;
    public const int D29IrOffset = 0x3144;
    public const int D28IrOffset = 0x3146;
    public const int D27IrOffset = 0x3148;
    public const int D26IrOffset = 0x314C;
    public const int D25IrOffset = 0x3150;
    public const int GcsOffset = 0x3410;
    public const ushort DirDefault = 0x3210;
    public const uint GcsDefault = 0x20;

    private const int PinsPerDevice = 4;
    private const int PinShift = 4;
    private const int PinMask = 0x7;

    private readonly byte[] _registers = new byte[Size];

    public Ich9ChipsetConfig()
    {
        Reset();
    }

    public string Name => "ich9-rcrb";

    /// <summary>QEMU's rcrb_mmio_ops declare nothing: handlers of 1–4 bytes.</summary>
    public AccessSizes Sizes => AccessSizes.QemuDefault;

    /// <summary>ich9_cc_reset: dword writes in QEMU's order (D30IR's dword covers D29IR's low word before D29IR is written).</summary>
    public void Reset()
    {
        Array.Clear(_registers);
        foreach (var (offset, value) in ((int, uint)[])[
            (D31IrOffset, DirDefault), (D30IrOffset, 0), (D29IrOffset, DirDefault), (D28IrOffset, DirDefault),
            (D27IrOffset, DirDefault), (D26IrOffset, DirDefault), (D25IrOffset, DirDefault), (GcsOffset, GcsDefault)])
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_registers.AsSpan(offset), value);
        }
    }

    public byte[] Save() => [.. _registers];

    public void Restore(byte[] registers)
    {
        if (registers.Length != Size)
        {
            throw new ArgumentException($"{Name}: the chipset configuration registers are {Size} bytes, not {registers.Length}", nameof(registers));
        }

        registers.CopyTo(_registers, 0);
    }

    /// <summary>
    /// The PIRQ (0 = A) interrupt pin <paramref name="pin"/> (0 = INTA) of PCI device
    /// <paramref name="device"/> reaches (ich9_cc_update, ich9_lpc_map_irq): D25IR–D31IR for
    /// devices 25–31 (D30 fixed at INTA–D → PIRQE–H), QEMU's init table (device + pin) mod 4 + 4
    /// for the rest.
    /// </summary>
    public int PirqFor(int device, int pin)
    {
        int offset = device switch
        {
            25 => D25IrOffset,
            26 => D26IrOffset,
            27 => D27IrOffset,
            28 => D28IrOffset,
            29 => D29IrOffset,
            31 => D31IrOffset,
            30 => -1,
            _ => -2,
        };
        return offset switch
        {
            -1 => pin + PinsPerDevice,
            -2 => ((device + pin) % PinsPerDevice) + PinsPerDevice,
            _ => (BinaryPrimitives.ReadUInt16LittleEndian(_registers.AsSpan(offset)) >> (pin * PinShift)) & PinMask,
        };
    }

    public ulong Read(ulong offset, int size)
    {
        int length = Clip(offset, size);
        ulong value = 0;
        for (int i = 0; i < length; i++)
        {
            value |= (ulong)_registers[(int)offset + i] << (8 * i);
        }

        return value;
    }

    public void Write(ulong offset, int size, ulong value)
    {
        int length = Clip(offset, size);
        for (int i = 0; i < length; i++)
        {
            _registers[(int)offset + i] = (byte)(value >> (8 * i));
        }
    }

    private static int Clip(ulong offset, int size) => (int)Math.Min((ulong)size, Size - offset);
}
