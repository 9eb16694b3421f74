// PIIX3 reset control register (RCR), I/O port 0xCF9 (Intel 82371SB datasheet §4.1.2; QEMU
// hw/isa/piix3.c rcr_write/rcr_read). It sits inside the PCI configuration address port range
// 0xCF8–0xCFB: only byte accesses to 0xCF9 reach it (QEMU maps it over the host bridge's
// address register with a higher priority; a 32-bit access to 0xCF8 still goes to the address
// register), so PciHost forwards those here.
// Emulated: bit 2 (RCPU, reset CPU) requests a machine reset when written as 1, whatever bit 1
// (SRST, system/hard reset) says — QEMU resets the whole machine either way; otherwise bit 1 is
// stored and reads back; reset clears it.
// The q35 board's ICH9 RST_CNT at the same port (QEMU hw/isa/lpc_ich9.c ich9_rst_cnt_write)
// is this register with another name that keeps bits 3 (FULL_RST) and 1 (SYS_RST).
// Not emulated: the difference between a soft (CPU only, bit 1 = 0) and a hard reset.
// Firmware relies on: OVMF's ResetSystemLib cold reset writes 0x06 (SRST | RCPU) here first.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Pci;

/// <summary>The PIIX3 reset control register at 0xCF9.</summary>
public sealed class ResetControlRegister : IPortDevice, IDevice
{
    public const ushort Port = 0xCF9;
    public const byte SystemReset = 0x02;
    public const byte ResetCpu = 0x04;

    /// <summary>The bits ICH9's RST_CNT keeps (FULL_RST 3, SYS_RST 1).</summary>
    public const byte Ich9KeptBits = 0x0A;

    private readonly Action<byte> _resetRequested;
    private readonly byte _keptBits;
    private byte _value;

    /// <param name="resetRequested">Called with the value written when it requests a reset.</param>
    /// <param name="name">The device name (PIIX3's by default).</param>
    /// <param name="keptBits">The bits a write without RCPU stores (PIIX3: SRST; ICH9: <see cref="Ich9KeptBits"/>).</param>
    public ResetControlRegister(Action<byte> resetRequested, string name = "piix3-reset-control", byte keptBits = SystemReset)
    {
        _resetRequested = resetRequested;
        Name = name;
        _keptBits = keptBits;
    }

    public string Name { get; }

    public uint Read(ushort offset, int size) => _value;

    public void Write(ushort offset, int size, uint value)
    {
        if ((value & ResetCpu) != 0)
        {
            _resetRequested((byte)value);
            return;
        }

        _value = (byte)(value & _keptBits);
    }

    /// <summary>Machine reset (QEMU piix3_reset): 0.</summary>
    public void Reset() => _value = 0;

    public DeviceState SaveState() => new ResetControlState(_value);

    public void RestoreState(DeviceState state) => _value = DeviceState.Expect<ResetControlState>(state, this).Value;
}

/// <summary>The stored SRST bit (QEMU vmstate "PIIX3": rcr).</summary>
public sealed record ResetControlState(byte Value) : DeviceState;
