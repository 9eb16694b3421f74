// System control port A (PS/2 "fast A20 gate"), port 0x92, as in the PIIX3 (Intel 82371SB
// datasheet, port 92h) and QEMU's hw/i386/port92.c.
// Emulated: bit 1 = A20 enable (the A20 output line follows it), bit 0 = fast reset: a 0→1 transition raises
// ResetRequested; the register reads back what was written.
// Not emulated: the security lock bit 3 and the HDD activity LED bits 6–7 (stored only).
// Firmware relies on: OVMF PEI sets A20 here; the machine keeps A20 enabled either way.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Misc;

/// <summary>Port 0x92: fast A20 gate and fast reset.</summary>
public sealed class Port92 : IPortDevice, IDevice
{
    public const ushort Port = 0x92;
    public const int PortCount = 1;
    public const byte FastReset = 0x01;
    public const byte A20Enable = 0x02;

    private byte _value;

    public string Name => "port92";

    /// <summary>The A20 gate output (QEMU port92's a20_out), set when bit 1 changes.</summary>
    public OutputLine A20 { get; } = new("port92.a20");

    public event Action? ResetRequested;

    public bool A20Enabled => (_value & A20Enable) != 0;

    public uint Read(ushort offset, int size) => _value;

    /// <summary>Machine reset (QEMU port92_reset): the reset bit clears, the A20 bit stays.</summary>
    public void Reset() => _value = (byte)(_value & ~FastReset);

    public DeviceState SaveState() => new Port92State(_value, A20.Level);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<Port92State>(state, this);
        _value = s.Value;
        A20.Restore(s.A20);
    }

    public void Write(ushort offset, int size, uint value)
    {
        byte old = _value;
        _value = (byte)value;
        if (((old ^ _value) & A20Enable) != 0)
        {
            A20.Set(A20Enabled);
        }

        if ((_value & FastReset) != 0 && (old & FastReset) == 0)
        {
            ResetRequested?.Invoke();
        }
    }
}

/// <summary>The register as last written and the A20 line's level (QEMU vmstate "port92": outport).</summary>
public sealed record Port92State(byte Value, bool A20) : DeviceState;
