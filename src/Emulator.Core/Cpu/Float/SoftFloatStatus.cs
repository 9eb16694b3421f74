namespace Emulator.Core.Cpu.Float;

/// <summary>
/// The environment of one floating-point operation: rounding mode, flush controls and the
/// accumulated exception flags (QEMU's <c>float_status</c>). <see cref="FlushInputs"/> is MXCSR.DAZ
/// (denormal operands read as signed zeros), <see cref="FlushToZero"/> MXCSR.FTZ (results below
/// the normal range, judged before rounding as QEMU's <c>parts_uncanon_normal</c> does, become
/// signed zeros and raise underflow and inexact, QEMU's mapping of <c>float_flag_output_denormal</c>
/// in <c>update_mxcsr_from_sse_status</c>).
/// </summary>
public struct SoftFloatStatus
{
    public FloatRounding Rounding;
    public bool FlushInputs;
    public bool FlushToZero;
    public FloatExceptions Flags;

    public SoftFloatStatus(FloatRounding rounding, bool flushInputs = false, bool flushToZero = false)
    {
        Rounding = rounding;
        FlushInputs = flushInputs;
        FlushToZero = flushToZero;
        Flags = FloatExceptions.None;
    }

    /// <summary>The status MXCSR describes: RC, DAZ (bit 6), FTZ (bit 15); flags start clear.</summary>
    public static SoftFloatStatus FromMxcsr(uint mxcsr) =>
        new((FloatRounding)((mxcsr >> 13) & 3), (mxcsr & 0x40) != 0, (mxcsr & 0x8000) != 0);

    public void Raise(FloatExceptions flags) => Flags |= flags;
}
