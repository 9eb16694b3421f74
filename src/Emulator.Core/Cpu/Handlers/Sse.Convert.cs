using Emulator.Core.Cpu.Float;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// SSE/SSE2 conversions as QEMU 7.2 runs them (target/i386/ops_sse.h): between binary32 and
/// binary64 (CVTSS2SD, CVTSD2SS, CVTPS2PD, CVTPD2PS), from int32 lanes (CVTDQ2PS, CVTDQ2PD), to
/// int32 lanes (CVT[T]PS2DQ, CVT[T]PD2DQ), and between a general register or memory integer and
/// a scalar (CVTSI2SS/SD, CVT[T]SS2SI, CVT[T]SD2SI), and between MMX int32 pairs and
/// XMM lanes (CVTPI2PS/PD, CVT[T]PS2PI, CVT[T]PD2PI, <see cref="MmxConvert{TFrom, TTo, TConv, TEnds}"/>). Float-to-integer conversions give the
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
        r.Add(Code.Cvtpi2ps_xmm_mmm64, &MmxConvert<I32, F32, IntToFloat, MmxToXmm>);
        r.Add(Code.Cvtpi2pd_xmm_mmm64, &MmxConvert<I32, F64, IntToFloat, MmxToXmm>);
        r.Add(Code.Cvtps2pi_mm_xmmm64, &MmxConvert<F32, I32, FloatToInt<MxcsrRounding>, XmmToMmx<Low64>>);
        r.Add(Code.Cvttps2pi_mm_xmmm64, &MmxConvert<F32, I32, FloatToInt<Truncating>, XmmToMmx<Low64>>);
        r.Add(Code.Cvtpd2pi_mm_xmmm128, &MmxConvert<F64, I32, FloatToInt<MxcsrRounding>, XmmToMmx<Packed<QemuUnchecked>>>);
        r.Add(Code.Cvttpd2pi_mm_xmmm128, &MmxConvert<F64, I32, FloatToInt<Truncating>, XmmToMmx<Packed<QemuUnchecked>>>);
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
        UInt128 r = ConvertLanes<TFrom, TTo, TConv>(src, TShape.IsScalar ? cpu.Fpu.Xmm[op.Reg0] : 0, count, ref st);
        FpCommit(cpu, op.Reg0, r, st);
    }

    /// <summary>
    /// CVTPI2PS/PD, CVT[T]PS2PI, CVT[T]PD2PI: two lanes between an MMX register (or m64) and an
    /// XMM register (or memory: 8 bytes for PS, 16 unaligned for PD, decode-new.c.inc's W,q and
    /// W,dq). QEMU 7.2 gives these table entries (decode_0F2A/2C/2D) no exception class, so no
    /// CR4.OSFXSR, CR0.TS or CR0.EM test, and switches to MMX state in the generator
    /// (emit.c.inc gen_CVTPI2Px, gen_CVTPx2PI, gen_CVTTPx2PI: gen_helper_enter_mmx), that is
    /// after the memory operand was loaded: a faulting load leaves the x87 state alone. Both
    /// directions enter MMX state, also CVTPI2PS/PD, whose destination is an XMM register.
    /// </summary>
    private static void MmxConvert<TFrom, TTo, TConv, TEnds>(Cpu cpu, ref DecodedOp op)
        where TFrom : struct, IFpLane
        where TTo : struct, IFpLane
        where TConv : struct, IFpConversion
        where TEnds : struct, IMmxConversionEnds
    {
        UInt128 src = TEnds.Source(cpu, ref op, TFrom.Bytes);
        cpu.Fpu.EnterMmx();
        var st = SoftFloatStatus.FromMxcsr(cpu.Fpu.Mxcsr);
        UInt128 r = ConvertLanes<TFrom, TTo, TConv>(src, 0, 2, ref st);
        TEnds.Write(cpu, op.Reg0, r, 2 * TTo.Bytes);
        cpu.Fpu.Mxcsr |= (uint)st.Flags;
    }

    /// <summary>Lanes 0..<paramref name="count"/>-1 of <paramref name="src"/> converted into <paramref name="into"/>, its other bits kept.</summary>
    private static UInt128 ConvertLanes<TFrom, TTo, TConv>(UInt128 src, UInt128 into, int count, ref SoftFloatStatus st)
        where TFrom : struct, IFpLane
        where TTo : struct, IFpLane
        where TConv : struct, IFpConversion
    {
        for (int i = 0; i < count; i++)
        {
            ulong v = TConv.Apply(Lane(src, i, TFrom.Bytes), TFrom.Format, TTo.Format, TTo.Bytes * 8, ref st);
            into = WithLane(into, i, TTo.Bytes, v);
        }

        return into;
    }

    /// <summary>CVTSI2SS/SD: a signed 32- or 64-bit integer to lane 0, the rest kept.</summary>
    private static void CvtIntToScalar<TTo>(Cpu cpu, ref DecodedOp op)
        where TTo : struct, IFpLane
    {
        SseChecks(cpu);
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

    /// <summary>Where an MMX-operand conversion reads its source and writes its result.</summary>
    private interface IMmxConversionEnds
    {
        static abstract UInt128 Source(Cpu cpu, ref DecodedOp op, int laneBytes);

        /// <summary>The low <paramref name="bytes"/> of <paramref name="value"/> to register <paramref name="reg"/>.</summary>
        static abstract void Write(Cpu cpu, int reg, UInt128 value, int bytes);
    }

    /// <summary>
    /// CVTPI2PS/PD: an MMX register or m64 (QEMU's <c>Q,q</c>) into an XMM register. CVTPI2PS
    /// writes the low 8 bytes and keeps the high 8 (helper_cvtpi2ps sets ZMM_S(0) and ZMM_S(1)
    /// only); CVTPI2PD writes all 16.
    /// </summary>
    private struct MmxToXmm : IMmxConversionEnds
    {
        public static UInt128 Source(Cpu cpu, ref DecodedOp op, int laneBytes) =>
            op.Kind1 == OperandKind.Memory ? cpu.Read64(cpu.MemLinear(ref op)) : cpu.Fpu.ReadMmx(op.Reg1);

        public static void Write(Cpu cpu, int reg, UInt128 value, int bytes)
        {
            UInt128 mask = bytes == 16 ? UInt128.MaxValue : ulong.MaxValue;
            cpu.Fpu.Xmm[reg] = (cpu.Fpu.Xmm[reg] & ~mask) | (value & mask);
        }
    }

    /// <summary>CVT[T]PS2PI, CVT[T]PD2PI: an XMM register or memory (as <typeparamref name="TShape"/> loads it) into an MMX register (its significand, docs/x87.md "MMX aliasing").</summary>
    private struct XmmToMmx<TShape> : IMmxConversionEnds
        where TShape : struct, IFpShape
    {
        public static UInt128 Source(Cpu cpu, ref DecodedOp op, int laneBytes) => FpOperand<TShape>(cpu, ref op, laneBytes);

        public static void Write(Cpu cpu, int reg, UInt128 value, int bytes) => cpu.Fpu.WriteMmx(reg, (ulong)value);
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
