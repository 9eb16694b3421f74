using Emulator.Core.Cpu.Float;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// SSE/SSE2 conversions as QEMU 7.2 runs them (target/i386/ops_sse.h): between binary32 and
/// binary64 (CVTSS2SD, CVTSD2SS, CVTPS2PD, CVTPD2PS), from int32 lanes (CVTDQ2PS, CVTDQ2PD), to
/// int32 lanes (CVT[T]PS2DQ, CVT[T]PD2DQ), and between a general register or memory integer and
/// a scalar (CVTSI2SS/SD, CVT[T]SS2SI, CVT[T]SD2SI). Float-to-integer conversions give the
/// integer indefinite on any invalid conversion (<c>WRAP_FLOATCONV</c>). Memory operand sizes and
/// alignment follow QEMU's decoder (decode-new.c.inc), not the SDM, where they differ: CVTDQ2PD
/// loads 16 bytes; CVTPS2PD 8 bytes; no packed conversion checks alignment (see <see cref="QemuUnchecked"/>).
/// </summary>
internal static unsafe partial class Handlers
{
    private static void RegisterSseConvert(HandlerRegistry r)
    {
        r.Add(Code.Cvtss2sd_xmm_xmmm32, &FpConvert<F32, F64, FloatToFloat, ScalarForm>);
        r.Add(Code.Cvtsd2ss_xmm_xmmm64, &FpConvert<F64, F32, FloatToFloat, ScalarForm>);
        r.Add(Code.Cvtps2pd_xmm_xmmm64, &FpConvert<F32, F64, FloatToFloat, Low64>);
        r.Add(Code.Cvtpd2ps_xmm_xmmm128, &FpConvert<F64, F32, FloatToFloat, Packed<QemuUnchecked>>);
        r.Add(Code.Cvtdq2ps_xmm_xmmm128, &FpConvert<I32, F32, IntToFloat, Packed<QemuUnchecked>>);
        r.Add(Code.Cvtdq2pd_xmm_xmmm64, &FpConvert<I32, F64, IntToFloat, Packed<QemuUnchecked>>);
        r.Add(Code.Cvtps2dq_xmm_xmmm128, &FpConvert<F32, I32, FloatToInt<MxcsrRounding>, Packed<QemuUnchecked>>);
        r.Add(Code.Cvttps2dq_xmm_xmmm128, &FpConvert<F32, I32, FloatToInt<Truncating>, Packed<QemuUnchecked>>);
        r.Add(Code.Cvtpd2dq_xmm_xmmm128, &FpConvert<F64, I32, FloatToInt<MxcsrRounding>, Packed<QemuUnchecked>>);
        r.Add(Code.Cvttpd2dq_xmm_xmmm128, &FpConvert<F64, I32, FloatToInt<Truncating>, Packed<QemuUnchecked>>);
        r.Add(Code.Cvtsi2ss_xmm_rm32, &CvtIntToScalar<F32>);
        r.Add(Code.Cvtsi2ss_xmm_rm64, &CvtIntToScalar<F32>);
        r.Add(Code.Cvtsi2sd_xmm_rm32, &CvtIntToScalar<F64>);
        r.Add(Code.Cvtsi2sd_xmm_rm64, &CvtIntToScalar<F64>);
        r.Add(Code.Cvtss2si_r32_xmmm32, &CvtScalarToInt<F32, MxcsrRounding>);
        r.Add(Code.Cvtss2si_r64_xmmm32, &CvtScalarToInt<F32, MxcsrRounding>);
        r.Add(Code.Cvttss2si_r32_xmmm32, &CvtScalarToInt<F32, Truncating>);
        r.Add(Code.Cvttss2si_r64_xmmm32, &CvtScalarToInt<F32, Truncating>);
        r.Add(Code.Cvtsd2si_r32_xmmm64, &CvtScalarToInt<F64, MxcsrRounding>);
        r.Add(Code.Cvtsd2si_r64_xmmm64, &CvtScalarToInt<F64, MxcsrRounding>);
        r.Add(Code.Cvttsd2si_r32_xmmm64, &CvtScalarToInt<F64, Truncating>);
        r.Add(Code.Cvttsd2si_r64_xmmm64, &CvtScalarToInt<F64, Truncating>);
    }

    /// <summary>
    /// Lane-wise conversion from <typeparamref name="TFrom"/> lanes to <typeparamref name="TTo"/>
    /// lanes: as many as the narrower side holds (two when the widths differ); packed forms zero
    /// the destination's remaining bits (CVTPD2PS, CVTPD2DQ), scalar forms keep them.
    /// </summary>
    private static void FpConvert<TFrom, TTo, TConv, TShape>(Cpu cpu, ref DecodedOp op)
        where TFrom : struct, IFpLane
        where TTo : struct, IFpLane
        where TConv : struct, IFpConversion
        where TShape : struct, IFpShape
    {
        UInt128 src = FpSource<TShape>(cpu, ref op, TFrom.Bytes);
        var st = SoftFloatStatus.FromMxcsr(cpu.Fpu.Mxcsr);
        int count = TShape.IsScalar ? 1 : 16 / Math.Max(TFrom.Bytes, TTo.Bytes);
        UInt128 r = TShape.IsScalar ? cpu.Fpu.Xmm[op.Reg0] : 0;
        for (int i = 0; i < count; i++)
        {
            ulong v = TConv.Apply(Lane(src, i, TFrom.Bytes), TFrom.Format, TTo.Format, TTo.Bytes * 8, ref st);
            r = WithLane(r, i, TTo.Bytes, v);
        }

        FpCommit(cpu, op.Reg0, r, st);
    }

    /// <summary>CVTSI2SS/SD: a signed 32- or 64-bit integer to lane 0, the rest kept.</summary>
    private static void CvtIntToScalar<TTo>(Cpu cpu, ref DecodedOp op)
        where TTo : struct, IFpLane
    {
        int size = op.Op1Size;
        ulong raw = cpu.ReadOp1(ref op, size);
        long value = size == 8 ? (long)raw : (int)raw;
        var st = SoftFloatStatus.FromMxcsr(cpu.Fpu.Mxcsr);
        ulong v = FloatOps.FromInt(value, TTo.Format, ref st);
        FpCommit(cpu, op.Reg0, WithLane(cpu.Fpu.Xmm[op.Reg0], 0, TTo.Bytes, v), st);
    }

    /// <summary>CVT[T]SS2SI/CVT[T]SD2SI: lane 0 to a 32- or 64-bit general register (a 32-bit result zero-extended).</summary>
    private static void CvtScalarToInt<TFrom, TRound>(Cpu cpu, ref DecodedOp op)
        where TFrom : struct, IFpLane
        where TRound : struct, IRoundingChoice
    {
        UInt128 src = FpSource<ScalarForm>(cpu, ref op, TFrom.Bytes);
        var st = SoftFloatStatus.FromMxcsr(cpu.Fpu.Mxcsr);
        int size = op.OpSize == 8 ? 8 : 4;
        long v = FloatOps.ToInt(Lane(src, 0, TFrom.Bytes), TRound.Mode(st), size * 8, TFrom.Format, ref st);
        cpu.WriteGpr(op.Reg0, size, (ulong)v);
        cpu.Fpu.Mxcsr |= (uint)st.Flags;
    }

    /// <summary>The int32 lanes of CVTDQ2PS/PD and CVT[T]PS2DQ/PD2DQ (the format is unused).</summary>
    private struct I32 : IFpLane
    {
        public static int Bytes => 4;

        public static FloatFormat Format => FloatFormat.Binary32;
    }

    /// <summary>CVTPS2PD's source: the low 8 bytes, unchecked (QEMU's <c>W,xh</c> operand).</summary>
    private struct Low64 : IFpShape
    {
        public static bool IsScalar => false;

        public static bool Aligned => false;

        public static int MemBytes(int laneBytes) => 8;
    }

    /// <summary>One lane's conversion; <paramref name="toBits"/> is the destination lane's width.</summary>
    private interface IFpConversion
    {
        static abstract ulong Apply(ulong x, FloatFormat from, FloatFormat to, int toBits, ref SoftFloatStatus st);
    }

    private struct FloatToFloat : IFpConversion
    {
        public static ulong Apply(ulong x, FloatFormat from, FloatFormat to, int toBits, ref SoftFloatStatus st) => FloatOps.Convert(x, from, to, ref st);
    }

    private struct IntToFloat : IFpConversion
    {
        public static ulong Apply(ulong x, FloatFormat from, FloatFormat to, int toBits, ref SoftFloatStatus st) => FloatOps.FromInt((int)x, to, ref st);
    }

    private struct FloatToInt<TRound> : IFpConversion
        where TRound : struct, IRoundingChoice
    {
        public static ulong Apply(ulong x, FloatFormat from, FloatFormat to, int toBits, ref SoftFloatStatus st) =>
            (ulong)FloatOps.ToInt(x, TRound.Mode(st), toBits, from, ref st);
    }

    /// <summary>Which rounding a float-to-integer conversion uses: MXCSR.RC, or truncation (the CVTT forms).</summary>
    private interface IRoundingChoice
    {
        static abstract FloatRounding Mode(SoftFloatStatus st);
    }

    private struct MxcsrRounding : IRoundingChoice
    {
        public static FloatRounding Mode(SoftFloatStatus st) => st.Rounding;
    }

    private struct Truncating : IRoundingChoice
    {
        public static FloatRounding Mode(SoftFloatStatus st) => FloatRounding.TowardZero;
    }
}
