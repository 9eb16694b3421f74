using Emulator.Core.Cpu;
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Misc;

/// <summary>
/// Port 0xF0, the PC's "MSDOS compatibility mode FPU exception support" (QEMU 7.2 hw/i386/pc.c
/// ioportF0_write/read; target/i386/tcg/sysemu/fpu_helper.c cpu_set_ignne): a write of any value
/// asserts IGNNE# (kept in <see cref="FpuState.IgnoreNumericError"/>, which FLDENV/FRSTOR of an
/// FSW without ES clears) and lowers the FPU interrupt, GSI 13, that FERR# raised; reads return
/// all ones. A window onto the FPU's state, not a device: it holds nothing of its own.
/// </summary>
public sealed class FpuErrorPort(FpuState fpu, Action lowerIrq) : IPortDevice
{
    public const ushort Port = 0xF0;

    public string Name => "ioportF0";

    public uint Read(ushort offset, int size) => size >= 4 ? uint.MaxValue : (1u << (8 * size)) - 1;

    public void Write(ushort offset, int size, uint value)
    {
        fpu.IgnoreNumericError = true;
        lowerIrq();
    }
}
