// QEMU's isa-debugcon (hw/char/debugcon.c): a one-port debug console, at 0x402 as OVMF's
// debug builds expect (PcdDebugIoPort). Emulated: bytes written go to the sink; reads return
// 0xE9, QEMU's default readback value, which OVMF uses to detect the console. Not emulated:
// nothing else exists. Firmware relies on: RELEASE builds never touch it; DEBUG builds probe by
// reading and then write their log here.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Misc;

/// <summary>The debug console port: a write-only character sink that identifies itself on read.</summary>
public sealed class DebugCon(Action<byte> output) : IPortDevice, IDevice
{
    public const ushort Port = 0x402;
    public const int PortCount = 1;
    public const byte Readback = 0xE9;

    public string Name => "debugcon";

    /// <summary>Machine reset: nothing to reset (QEMU's debugcon has no reset handler).</summary>
    public void Reset()
    {
    }

    /// <summary>No state: bytes leave at once (QEMU's debugcon has no vmstate).</summary>
    public DeviceState SaveState() => new NoDeviceState();

    public void RestoreState(DeviceState state) => DeviceState.Expect<NoDeviceState>(state, this);

    public uint Read(ushort offset, int size) => Readback;

    public void Write(ushort offset, int size, uint value) => output((byte)value);
}
