using Emulator.Core.Cpu.Float;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// SSE/SSE2/SSE3 floating-point arithmetic as QEMU 7.2 TCG runs it (target/i386/ops_sse.h over
/// fpu/softfloat, in software here: <c>Cpu/Float</c>): ADD/SUB/MUL/DIV/MIN/MAX/SQRT in the PS, SS,
/// PD and SD forms, RCP/RSQRT (PS/SS), CMP (all eight predicates), COMIS/UCOMIS, ADDSUB, HADD and
/// HSUB. One generic body per kind of operation: the lane width (<see cref="F32"/>, <see cref="F64"/>),
/// the operation and the shape of the operand (packed, with QEMU's alignment rule, or scalar)
/// are type parameters chosen at registration.
/// <para>
/// MXCSR: the rounding mode, DAZ and FTZ come from it, and the exception flags an instruction
/// raises are OR-ed into it. QEMU 7.2 never raises #XM or #UD for an unmasked SIMD exception (no
/// SSE helper looks at the mask bits) and never sets DE (<c>update_mxcsr_from_sse_status</c>), so
/// neither does emu: the destination is always written (docs/cpu.md, "SSE floating point").
/// </para>
/// </summary>
internal static unsafe partial class Handlers
{
    private static void RegisterSseFloat(HandlerRegistry r)
    {
        RegisterArith<FpAdd>(r, Code.Addps_xmm_xmmm128, Code.Addss_xmm_xmmm32, Code.Addpd_xmm_xmmm128, Code.Addsd_xmm_xmmm64);
        RegisterArith<FpSub>(r, Code.Subps_xmm_xmmm128, Code.Subss_xmm_xmmm32, Code.Subpd_xmm_xmmm128, Code.Subsd_xmm_xmmm64);
        RegisterArith<FpMul>(r, Code.Mulps_xmm_xmmm128, Code.Mulss_xmm_xmmm32, Code.Mulpd_xmm_xmmm128, Code.Mulsd_xmm_xmmm64);
        RegisterArith<FpDiv>(r, Code.Divps_xmm_xmmm128, Code.Divss_xmm_xmmm32, Code.Divpd_xmm_xmmm128, Code.Divsd_xmm_xmmm64);
        RegisterArith<FpMin>(r, Code.Minps_xmm_xmmm128, Code.Minss_xmm_xmmm32, Code.Minpd_xmm_xmmm128, Code.Minsd_xmm_xmmm64);
        RegisterArith<FpMax>(r, Code.Maxps_xmm_xmmm128, Code.Maxss_xmm_xmmm32, Code.Maxpd_xmm_xmmm128, Code.Maxsd_xmm_xmmm64);
        RegisterArith<FpSqrt>(r, Code.Sqrtps_xmm_xmmm128, Code.Sqrtss_xmm_xmmm32, Code.Sqrtpd_xmm_xmmm128, Code.Sqrtsd_xmm_xmmm64);
        RegisterArith<FpCmp>(r, Code.Cmpps_xmm_xmmm128_imm8, Code.Cmpss_xmm_xmmm32_imm8, Code.Cmppd_xmm_xmmm128_imm8, Code.Cmpsd_xmm_xmmm64_imm8);
        r.Add(Code.Rcpps_xmm_xmmm128, &FpArith<F32, FpRcp, Packed<Aligned>>);
        r.Add(Code.Rcpss_xmm_xmmm32, &FpArith<F32, FpRcp, ScalarForm>);
        r.Add(Code.Rsqrtps_xmm_xmmm128, &FpArith<F32, FpRsqrt, Packed<Aligned>>);
        r.Add(Code.Rsqrtss_xmm_xmmm32, &FpArith<F32, FpRsqrt, ScalarForm>);
        r.Add(Code.Addsubps_xmm_xmmm128, &FpArith<F32, FpAddSub, Packed<QemuUnchecked>>);
        r.Add(Code.Addsubpd_xmm_xmmm128, &FpArith<F64, FpAddSub, Packed<QemuUnchecked>>);
        r.Add(Code.Haddps_xmm_xmmm128, &FpHorizontal<F32, FpAdd>);
        r.Add(Code.Haddpd_xmm_xmmm128, &FpHorizontal<F64, FpAdd>);
        r.Add(Code.Hsubps_xmm_xmmm128, &FpHorizontal<F32, FpSub>);
        r.Add(Code.Hsubpd_xmm_xmmm128, &FpHorizontal<F64, FpSub>);
        r.Add(Code.Comiss_xmm_xmmm32, &Comis<F32, Signalling>);
        r.Add(Code.Ucomiss_xmm_xmmm32, &Comis<F32, Quiet>);
        r.Add(Code.Comisd_xmm_xmmm64, &Comis<F64, Signalling>);
        r.Add(Code.Ucomisd_xmm_xmmm64, &Comis<F64, Quiet>);
        RegisterSseConvert(r);
        RegisterSseFloatMoves(r);
    }

    /// <summary>The PS, SS, PD and SD forms of one operation (QEMU's <c>SSE_HELPER_S</c>).</summary>
    private static void RegisterArith<TOp>(HandlerRegistry r, Code ps, Code ss, Code pd, Code sd)
        where TOp : struct, IFpOp
    {
        r.Add(ps, &FpArith<F32, TOp, Packed<Aligned>>);
        r.Add(ss, &FpArith<F32, TOp, ScalarForm>);
        r.Add(pd, &FpArith<F64, TOp, Packed<Aligned>>);
        r.Add(sd, &FpArith<F64, TOp, ScalarForm>);
    }

    /// <summary>The lanes of <typeparamref name="TLane"/>'s width: packed forms all of them, scalar forms lane 0 with the rest of the destination kept.</summary>
    private static void FpArith<TLane, TOp, TShape>(Cpu cpu, ref DecodedOp op)
        where TLane : struct, IFpLane
        where TOp : struct, IFpOp
        where TShape : struct, IFpShape
    {
        UInt128 src = FpSource<TShape>(cpu, ref op, TLane.Bytes);
        UInt128 d = cpu.Fpu.Xmm[op.Reg0];
        var st = SoftFloatStatus.FromMxcsr(cpu.Fpu.Mxcsr);
        int lanes = TShape.IsScalar ? 1 : 16 / TLane.Bytes;
        UInt128 r = d;
        for (int i = 0; i < lanes; i++)
        {
            ulong v = TOp.Apply(Lane(d, i, TLane.Bytes), Lane(src, i, TLane.Bytes), i, (int)op.Imm, TLane.Format, ref st);
            r = WithLane(r, i, TLane.Bytes, v);
        }

        FpCommit(cpu, op.Reg0, r, st);
    }

    /// <summary>HADD/HSUB: the pairs of the destination, then the pairs of the source (QEMU's <c>SSE_HELPER_HPS</c>/<c>HPD</c>).</summary>
    private static void FpHorizontal<TLane, TOp>(Cpu cpu, ref DecodedOp op)
        where TLane : struct, IFpLane
        where TOp : struct, IFpOp
    {
        UInt128 src = FpSource<Packed<QemuUnchecked>>(cpu, ref op, TLane.Bytes);
        UInt128 d = cpu.Fpu.Xmm[op.Reg0];
        var st = SoftFloatStatus.FromMxcsr(cpu.Fpu.Mxcsr);
        int b = TLane.Bytes, half = 8 / b;
        UInt128 r = 0;
        for (int i = 0; i < 2 * half; i++)
        {
            UInt128 from = i < half ? d : src;
            int j = 2 * (i % half);
            r = WithLane(r, i, b, TOp.Apply(Lane(from, j, b), Lane(from, j + 1, b), i, 0, TLane.Format, ref st));
        }

        FpCommit(cpu, op.Reg0, r, st);
    }

    /// <summary>COMISS/UCOMISS/COMISD/UCOMISD: ZF PF CF from the relation (unordered sets all three), OF SF AF cleared (QEMU's <c>comis_eflags</c>).</summary>
    private static void Comis<TLane, TQuiet>(Cpu cpu, ref DecodedOp op)
        where TLane : struct, IFpLane
        where TQuiet : struct, IFlag
    {
        UInt128 src = FpSource<ScalarForm>(cpu, ref op, TLane.Bytes);
        var st = SoftFloatStatus.FromMxcsr(cpu.Fpu.Mxcsr);
        ulong a = Lane(cpu.Fpu.Xmm[op.Reg0], 0, TLane.Bytes), b = Lane(src, 0, TLane.Bytes);
        ulong flags = FloatOps.Compare(a, b, TQuiet.Value, TLane.Format, ref st) switch
        {
            FloatRelation.Less => RFlags.CF,
            FloatRelation.Equal => RFlags.ZF,
            FloatRelation.Greater => 0,
            _ => RFlags.ZF | RFlags.PF | RFlags.CF,
        };
        cpu.SetFlags((cpu.GetFlags() & ~RFlags.Arith) | flags);
        cpu.Fpu.Mxcsr |= (uint)st.Flags;
    }

    /// <summary>The destination and the flags the instruction raised (sticky in MXCSR).</summary>
    private static void FpCommit(Cpu cpu, int reg, UInt128 value, SoftFloatStatus st)
    {
        cpu.Fpu.Xmm[reg] = value;
        cpu.Fpu.Mxcsr |= (uint)st.Flags;
    }

    /// <summary>
    /// Operand 1 for an FP form after QEMU 7.2's validate_vex checks (<see cref="SseChecks"/>:
    /// every SSE floating-point entry of decode-new.c.inc has an exception class).
    /// </summary>
    private static UInt128 FpSource<TShape>(Cpu cpu, ref DecodedOp op, int laneBytes)
        where TShape : struct, IFpShape
    {
        SseChecks(cpu);
        return FpOperand<TShape>(cpu, ref op, laneBytes);
    }

    /// <summary>
    /// Operand 1 of an FP form: a register whole, or from memory as much as QEMU 7.2 loads for
    /// the form (<see cref="IFpShape.MemBytes"/>; 16 bytes checked for alignment where the form
    /// says so, scalar loads never checked), in the low bytes.
    /// </summary>
    private static UInt128 FpOperand<TShape>(Cpu cpu, ref DecodedOp op, int laneBytes)
        where TShape : struct, IFpShape
    {
        if (op.Kind1 == OperandKind.Xmm)
        {
            return cpu.Fpu.Xmm[op.Reg1];
        }

        return TShape.MemBytes(laneBytes) switch
        {
            4 => cpu.Read32(cpu.MemLinear(ref op)),
            8 => cpu.Read64(cpu.MemLinear(ref op)),
            _ => Read128(cpu, TShape.Aligned ? AlignedLinear(cpu, ref op) : cpu.MemLinear(ref op)),
        };
    }

    private static ulong Lane(UInt128 v, int i, int bytes) =>
        (ulong)(v >> (i * bytes * 8)) & (bytes == 8 ? ulong.MaxValue : uint.MaxValue);

    private static UInt128 WithLane(UInt128 v, int i, int bytes, ulong x)
    {
        int shift = i * bytes * 8;
        UInt128 mask = (UInt128)(bytes == 8 ? ulong.MaxValue : uint.MaxValue) << shift;
        return (v & ~mask) | (((UInt128)x << shift) & mask);
    }

    /// <summary>A lane format: its width in bytes and its soft-float format.</summary>
    private interface IFpLane
    {
        static abstract int Bytes { get; }

        static abstract FloatFormat Format { get; }
    }

    private struct F32 : IFpLane
    {
        public static int Bytes => 4;

        public static FloatFormat Format => FloatFormat.Binary32;
    }

    private struct F64 : IFpLane
    {
        public static int Bytes => 8;

        public static FloatFormat Format => FloatFormat.Binary64;
    }

    /// <summary>How a form reads operand 1 and which lanes it computes.</summary>
    private interface IFpShape
    {
        /// <summary>Lane 0 only, the rest of the destination kept.</summary>
        static abstract bool IsScalar { get; }

        /// <summary>A 16-byte load must be aligned (#GP otherwise).</summary>
        static abstract bool Aligned { get; }

        static abstract int MemBytes(int laneBytes);
    }

    /// <summary>A packed form: 16 bytes, aligned as <typeparamref name="TAlign"/> says (see <see cref="QemuUnchecked"/>: the packed arithmetic, RCPPS and RSQRTPS check, the SSE3 forms do not).</summary>
    private struct Packed<TAlign> : IFpShape
        where TAlign : struct, IM128Alignment
    {
        public static bool IsScalar => false;

        public static bool Aligned => TAlign.Checked;

        public static int MemBytes(int laneBytes) => 16;
    }

    /// <summary>A scalar form: one lane's bytes, never alignment-checked.</summary>
    private struct ScalarForm : IFpShape
    {
        public static bool IsScalar => true;

        public static bool Aligned => false;

        public static int MemBytes(int laneBytes) => laneBytes;
    }

    /// <summary>A lane-wise operation of a destination lane and a source lane (<paramref name="lane"/> and <paramref name="imm"/> for the few that need them).</summary>
    private interface IFpOp
    {
        static abstract ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st);
    }

    private struct FpAdd : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st) => FloatOps.AddSub(d, s, false, f, ref st);
    }

    private struct FpSub : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st) => FloatOps.AddSub(d, s, true, f, ref st);
    }

    private struct FpMul : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st) => FloatOps.Mul(d, s, f, ref st);
    }

    private struct FpDiv : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st) => FloatOps.Div(d, s, f, ref st);
    }

    private struct FpMin : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st) => FloatOps.Min(d, s, f, ref st);
    }

    private struct FpMax : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st) => FloatOps.Max(d, s, f, ref st);
    }

    private struct FpSqrt : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st) => FloatOps.Sqrt(s, f, ref st);
    }

    /// <summary>ADDSUBPS/PD: even lanes subtract, odd lanes add.</summary>
    private struct FpAddSub : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st) => FloatOps.AddSub(d, s, (lane & 1) == 0, f, ref st);
    }

    /// <summary>
    /// RCPPS/RCPSS: QEMU 7.2 computes 1/x exactly rounded (<c>float32_div(float32_one, x)</c>,
    /// ops_sse.h <c>helper_rcpps</c>), not the hardware's 12-bit approximation, and restores the
    /// exception flags afterwards, so the instruction raises none.
    /// </summary>
    private struct FpRcp : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st)
        {
            SoftFloatStatus scratch = st;
            return FloatOps.Div(One(f), s, f, ref scratch);
        }
    }

    /// <summary>RSQRTPS/RSQRTSS: QEMU's <c>float32_div(float32_one, float32_sqrt(x))</c>, two roundings, flags restored (<c>helper_rsqrtps</c>).</summary>
    private struct FpRsqrt : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st)
        {
            SoftFloatStatus scratch = st;
            return FloatOps.Div(One(f), FloatOps.Sqrt(s, f, ref scratch), f, ref scratch);
        }
    }

    /// <summary>
    /// CMPccPS/SS/PD/SD, predicate imm8 &amp; 7 (QEMU masks it so for legacy SSE, emit.c.inc
    /// <c>gen_VCMP</c>): EQ, UNORD, NEQ, ORD compare quietly, LT, LE, NLT, NLE signal on any NaN
    /// (ops_sse.h <c>FPU_CMPQ</c>/<c>FPU_CMPS</c>); the lane becomes all ones or zero.
    /// </summary>
    private struct FpCmp : IFpOp
    {
        public static ulong Apply(ulong d, ulong s, int lane, int imm, FloatFormat f, ref SoftFloatStatus st)
        {
            int p = imm & 7;
            FloatRelation rel = FloatOps.Compare(d, s, (p & 3) is 0 or 3, f, ref st);
            bool t = (p & 3) switch
            {
                0 => rel == FloatRelation.Equal,
                1 => rel == FloatRelation.Less,
                2 => rel is FloatRelation.Less or FloatRelation.Equal,
                _ => rel == FloatRelation.Unordered,
            };
            return t ^ (p >= 4) ? ulong.MaxValue : 0;
        }
    }

    private static ulong One(FloatFormat f) => (ulong)f.ExpBias << f.FracBits;

    /// <summary>A compile-time flag for generic handlers.</summary>
    private interface IFlag
    {
        static abstract bool Value { get; }
    }

    /// <summary>UCOMIS: invalid only for a signalling NaN.</summary>
    private struct Quiet : IFlag
    {
        public static bool Value => true;
    }

    /// <summary>COMIS: invalid for any NaN.</summary>
    private struct Signalling : IFlag
    {
        public static bool Value => false;
    }
}
