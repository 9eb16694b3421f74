// POST diagnostic port 0x80. On QEMU it is a sink ("ioport80": writes ignored, reads 0xFF);
// here the last value written is kept for diagnostics. Firmware relies on: nothing before the
// Shell prompt; some code writes it as an I/O delay.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Misc;

/// <summary>Port 0x80: remembers the last POST code written.</summary>
public sealed class PostCode : IPortDevice, IDevice
{
    public const ushort Port = 0x80;
    public const int PortCount = 1;
    public const byte ReadValue = 0xFF;

    public string Name => "post-code";

    public byte LastValue { get; private set; }

    /// <summary>Machine reset: the last code stays (QEMU's sink has nothing to reset; the value is a diagnostic).</summary>
    public void Reset()
    {
    }

    public DeviceState SaveState() => new PostCodeState(LastValue);

    public void RestoreState(DeviceState state) => LastValue = DeviceState.Expect<PostCodeState>(state, this).LastValue;

    public uint Read(ushort offset, int size) => ReadValue;

    public void Write(ushort offset, int size, uint value) => LastValue = (byte)value;
}

/// <summary>The last POST code written.</summary>
public sealed record PostCodeState(byte LastValue) : DeviceState;
