// QEMU's isa-debug-exit (hw/misc/debugexit.c): a test device that ends the emulator with an exit
// status the guest chooses, the way test suites report pass/fail (edk2's and Project Mu's CI use
// `-device isa-debug-exit,iobase=0xf4,iosize=0x04`). Emulated: a write of any width (1–4 bytes,
// debug_exit_ops.valid) to any port of the window ends the run with status (value << 1) | 1
// (debug_exit_write: exit((val << 1) | 1); the host keeps the low 8 bits, so the status is always
// odd and never 0); reads return 0 (debug_exit_read). Properties: iobase (default 0x501) and
// iosize (default 2), debug_exit_properties. Not emulated: QEMU's exit() is immediate; here the
// run stops at the end of the writing instruction and then ends as any stop does (the varstore
// saved), which the guest cannot tell apart. Firmware relies on: nothing — only test payloads
// write it.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Misc;

/// <summary>Ends the run with the status the guest writes: <c>(value &lt;&lt; 1) | 1</c>, low 8 bits.</summary>
public sealed class IsaDebugExit(Action<int, uint> exit) : IPortDevice, IDevice
{
    /// <summary>QEMU's default iobase (debug_exit_properties).</summary>
    public const ushort DefaultPort = 0x501;

    /// <summary>QEMU's default iosize (debug_exit_properties).</summary>
    public const int DefaultPortCount = 2;

    public string Name => "isa-debug-exit";

    /// <summary>The status a write of <paramref name="value"/> ends the process with (exit() keeps the low 8 bits).</summary>
    public static int ExitStatus(uint value) => (int)((((ulong)value << 1) | 1) & 0xFF);

    /// <summary>Machine reset: nothing to reset (QEMU's device has no reset handler).</summary>
    public void Reset()
    {
    }

    /// <summary>No state (QEMU's device has no vmstate).</summary>
    public DeviceState SaveState() => new NoDeviceState();

    public void RestoreState(DeviceState state) => DeviceState.Expect<NoDeviceState>(state, this);

    public uint Read(ushort offset, int size) => 0;

    public void Write(ushort offset, int size, uint value) => exit(ExitStatus(value), value);
}
