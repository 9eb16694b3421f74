namespace Emulator.Core.Cpu.Float;

/// <summary>Rounding control as x86 encodes it in MXCSR.RC (bits 13-14) and the x87 FCW.RC (bits 10-11).</summary>
public enum RoundingMode : byte
{
    NearestEven = 0,
    Down = 1,
    Up = 2,
    TowardZero = 3,
}

/// <summary>Floating-point exception flags at their x86 bit positions (MXCSR bits 0-5, the x87 FSW's low bits).</summary>
[Flags]
public enum FloatExceptions : byte
{
    None = 0,
    Invalid = 0x01,
    Denormal = 0x02,
    DivideByZero = 0x04,
    Overflow = 0x08,
    Underflow = 0x10,
    Inexact = 0x20,
}

/// <summary>
/// The environment of one floating-point operation: rounding mode, flush controls and the
/// accumulated exception flags (QEMU's <c>float_status</c>). <see cref="FlushInputs"/> is MXCSR.DAZ
/// (denormal operands read as signed zeros), <see cref="FlushToZero"/> MXCSR.FTZ (results below
/// the normal range, judged before rounding as QEMU's <c>parts_uncanon_normal</c> does, become
/// signed zeros and raise underflow and inexact, QEMU's mapping of <c>float_flag_output_denormal</c>
/// in <c>update_mxcsr_from_sse_status</c>).
/// </summary>
public struct FloatStatus
{
    public RoundingMode Rounding;
    public bool FlushInputs;
    public bool FlushToZero;
    public FloatExceptions Flags;

    public FloatStatus(RoundingMode rounding, bool flushInputs = false, bool flushToZero = false)
    {
        Rounding = rounding;
        FlushInputs = flushInputs;
        FlushToZero = flushToZero;
        Flags = FloatExceptions.None;
    }

    /// <summary>The status MXCSR describes: RC, DAZ (bit 6), FTZ (bit 15); flags start clear.</summary>
    public static FloatStatus FromMxcsr(uint mxcsr) =>
        new((RoundingMode)((mxcsr >> 13) & 3), (mxcsr & 0x40) != 0, (mxcsr & 0x8000) != 0);

    public void Raise(FloatExceptions flags) => Flags |= flags;
}
