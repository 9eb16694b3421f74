using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// SSE/SSE2/SSE3 (Intel SDM Vol. 2; Vol. 1, chapters 10-12), as QEMU 7.2 runs them for qemu64.
/// Here: 128-bit moves (aligned forms #GP on a misaligned address, as do the other legacy-SSE m128
/// operands where QEMU 7.2 checks them: <see cref="QemuUnchecked"/>), MOVD/MOVQ,
/// MOVLPS/MOVHPS/MOVLHPS/MOVHLPS, non-temporal stores (plain stores here), shuffles, byte shifts,
/// MOVMSKPS and the unpack body the FP unpacks share. Every form makes QEMU 7.2's checks first
/// (<see cref="SseChecks"/>). The integer operations, MMX and SSE, are in <c>Simd.*.cs</c>; the
/// floating-point instructions — arithmetic, MIN/MAX, SQRT, RCP/RSQRT, CMP, COMIS/UCOMIS,
/// ADDSUB/HADD/HSUB (<c>Sse.Float.cs</c>), the conversions (<c>Sse.Convert.cs</c>) and the FP
/// moves, unpacks and shuffles (<c>Sse.FloatMoves.cs</c>) — compute through the soft-float library
/// in <c>Cpu/Float</c> with QEMU's results and MXCSR flags (docs/cpu.md, "SSE floating point").
/// MXCSR and FXSAVE/FXRSTOR are in <c>Sse.State.cs</c>. Not yet: the MMX-operand conversions
/// (CVTPI2PS, CVT[T]PS2PI, CVTPI2PD, CVT[T]PD2PI).
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterSse(HandlerRegistry r)
    {
        r.Add(Code.Movdqu_xmm_xmmm128, &MovXmmUnaligned);
        r.Add(Code.Movdqu_xmmm128_xmm, &MovXmmUnaligned);
        r.Add(Code.Movups_xmm_xmmm128, &MovXmmUnaligned);
        r.Add(Code.Movups_xmmm128_xmm, &MovXmmUnaligned);
        r.Add(Code.Movupd_xmm_xmmm128, &MovXmmUnaligned);
        r.Add(Code.Movupd_xmmm128_xmm, &MovXmmUnaligned);
        r.Add(Code.Movdqa_xmm_xmmm128, &MovXmmAligned);
        r.Add(Code.Movdqa_xmmm128_xmm, &MovXmmAligned);
        r.Add(Code.Movaps_xmm_xmmm128, &MovXmmAligned);
        r.Add(Code.Movaps_xmmm128_xmm, &MovXmmAligned);
        r.Add(Code.Movapd_xmm_xmmm128, &MovXmmAligned);
        r.Add(Code.Movapd_xmmm128_xmm, &MovXmmAligned);
        r.Add(Code.Movntdq_m128_xmm, &MovXmmAligned);
        r.Add(Code.Movntps_m128_xmm, &MovXmmAligned);
        r.Add(Code.Movntpd_m128_xmm, &MovXmmAligned);
        r.Add(Code.Movnti_m32_r32, &Movnti);
        r.Add(Code.Movnti_m64_r64, &Movnti);
        r.Add(Code.Movq_xmm_xmmm64, &MovqLoad);
        r.Add(Code.Movq_xmmm64_xmm, &MovqStore);
        r.Add(Code.Movlps_xmm_m64, &MovLowLoad);
        r.Add(Code.Movlpd_xmm_m64, &MovLowLoad);
        r.Add(Code.Movhps_xmm_m64, &MovHighLoad);
        r.Add(Code.Movhpd_xmm_m64, &MovHighLoad);
        r.Add(Code.Movlps_m64_xmm, &MovFromXmm);
        r.Add(Code.Movlpd_m64_xmm, &MovFromXmm);
        r.Add(Code.Movhps_m64_xmm, &MovHighStore);
        r.Add(Code.Movhpd_m64_xmm, &MovHighStore);
        r.Add(Code.Movlhps_xmm_xmm, &Movlhps);
        r.Add(Code.Movhlps_xmm_xmm, &Movhlps);
        r.Add(Code.Pshufd_xmm_xmmm128_imm8, &Pshufd);
        r.Add(Code.Pshuflw_xmm_xmmm128_imm8, &Pshuflw);
        r.Add(Code.Pshufhw_xmm_xmmm128_imm8, &Pshufhw);
        r.Add(Code.Shufps_xmm_xmmm128_imm8, &Shufps<QemuUnchecked>);
        r.Add(Code.Pslldq_xmm_imm8, &Pslldq);
        r.Add(Code.Psrldq_xmm_imm8, &Psrldq);
        r.Add(Code.Movmskps_r32_xmm, &Movmskps);
        r.Add(Code.Movmskps_r64_xmm, &Movmskps);
        r.Add(Code.Lddqu_xmm_m128, &MovXmmUnaligned);
        RegisterSimdIntegerForms(r);
        RegisterSseState(r);
        RegisterSseFloat(r);
    }

    internal static UInt128 Read128(Cpu cpu, ulong lin)
    {
        ulong lo = cpu.Read64(lin);
        ulong hi = cpu.Read64(cpu.WrapLinear(lin + 8));
        return new UInt128(hi, lo);
    }

    internal static void Write128(Cpu cpu, ulong lin, UInt128 value)
    {
        cpu.ProbeWrite(lin, 16);
        cpu.Write64(lin, (ulong)value);
        cpu.Write64(cpu.WrapLinear(lin + 8), (ulong)(value >> 64));
    }

    private static ulong AlignedLinear(Cpu cpu, ref DecodedOp op)
    {
        ulong lin = cpu.MemLinear(ref op);
        if ((lin & 15) != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        return lin;
    }

    /// <summary>Operand 1 as 128 bits; legacy-SSE m128 operands must be 16-byte aligned unless the instruction says otherwise (or QEMU does not check it: <see cref="QemuUnchecked"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt128 XmmSource(Cpu cpu, ref DecodedOp op, bool aligned = true)
    {
        SseChecks(cpu);
        if (op.Kind1 == OperandKind.Xmm)
        {
            return cpu.Fpu.Xmm[op.Reg1];
        }

        return Read128(cpu, aligned ? AlignedLinear(cpu, ref op) : cpu.MemLinear(ref op));
    }

    /// <summary>Whether a handler's m128 operand must be 16-byte aligned: chosen per form at registration, so no execution tests the opcode.</summary>
    private interface IM128Alignment
    {
        static abstract bool Checked { get; }
    }

    /// <summary>The SDM's rule for legacy-SSE m128 operands: #GP(0) when misaligned.</summary>
    private struct Aligned : IM128Alignment
    {
        public static bool Checked => true;
    }

    /// <summary>
    /// The m128 forms QEMU 7.2 runs on a misaligned address where the SDM says #GP. QEMU's new
    /// decoder (target/i386/tcg/emit.c.inc, <c>sse_needs_alignment</c>) checks vex classes 2 and 4
    /// only when the table entry names a <c>vex_special</c>, and <c>X86_VEX_SSEUnaligned</c> is
    /// that enum's value 0, the default: so every class-2/4 entry without one (<c>rep3</c>,
    /// <c>rep5</c>, <c>avx2_256</c>) is unchecked — ANDPS/ANDNPS/ORPS/XORPS and their PD forms,
    /// SHUFPS/SHUFPD, UNPCKLPS/HPS/LPD/HPD, MOVSLDUP/MOVSHDUP, ADDSUBPS/PD, HADD/HSUB, the packed
    /// conversions (docs/cpu.md, "SSE floating point"). Measured too on Debian's QEMU 7.2
    /// (1:7.2+dfsg-7+deb12u18) by the CPU fuzzer (docs/cpu-fuzzer.md): the MOVAPS/MOVDQA family
    /// (class 1), the P* integer ops and PSHUF* (<c>avx2_256</c>) and the packed arithmetic
    /// (<c>rep3</c>) #GP there, as emu does.
    /// </summary>
    private struct QemuUnchecked : IM128Alignment
    {
        public static bool Checked => false;
    }

    private static void MoveXmm(Cpu cpu, ref DecodedOp op, bool aligned)
    {
        UInt128 v = XmmSource(cpu, ref op, aligned);
        if (op.Kind0 == OperandKind.Xmm)
        {
            cpu.Fpu.Xmm[op.Reg0] = v;
        }
        else
        {
            Write128(cpu, aligned ? AlignedLinear(cpu, ref op) : cpu.MemLinear(ref op), v);
        }
    }

    private static void MovXmmUnaligned(Cpu cpu, ref DecodedOp op) => MoveXmm(cpu, ref op, false);

    private static void MovXmmAligned(Cpu cpu, ref DecodedOp op) => MoveXmm(cpu, ref op, true);

    private static void Movnti(Cpu cpu, ref DecodedOp op) =>
        cpu.WriteSized(cpu.MemLinear(ref op), op.Op1Size, cpu.ReadGpr(op.Reg1, op.Op1Size));

    /// <summary>MOVQ xmm, xmm/m64 (F3 0F 7E): the low quadword, upper half zeroed.</summary>
    private static void MovqLoad(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        cpu.Fpu.Xmm[op.Reg0] = op.Kind1 == OperandKind.Xmm ? (ulong)cpu.Fpu.Xmm[op.Reg1] : cpu.Read64(cpu.MemLinear(ref op));
    }

    /// <summary>MOVQ xmm/m64, xmm (66 0F D6): to a register the upper half is zeroed.</summary>
    private static void MovqStore(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        ulong v = (ulong)cpu.Fpu.Xmm[op.Reg1];
        if (op.Kind0 == OperandKind.Xmm)
        {
            cpu.Fpu.Xmm[op.Reg0] = v;
        }
        else
        {
            cpu.Write64(cpu.MemLinear(ref op), v);
        }
    }

    private static void MovLowLoad(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        ref UInt128 d = ref cpu.Fpu.Xmm[op.Reg0];
        ulong v = cpu.Read64(cpu.MemLinear(ref op));
        d = (d & ((UInt128)ulong.MaxValue << 64)) | v;
    }

    private static void MovHighLoad(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        ref UInt128 d = ref cpu.Fpu.Xmm[op.Reg0];
        ulong v = cpu.Read64(cpu.MemLinear(ref op));
        d = ((UInt128)v << 64) | (ulong)d;
    }

    /// <summary>MOVLPS/MOVLPD m64, xmm: the low quadword.</summary>
    private static void MovFromXmm(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        cpu.Write64(cpu.MemLinear(ref op), (ulong)cpu.Fpu.Xmm[op.Reg1]);
    }

    private static void MovHighStore(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        cpu.Write64(cpu.MemLinear(ref op), (ulong)(cpu.Fpu.Xmm[op.Reg1] >> 64));
    }

    private static void Movlhps(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        ref UInt128 d = ref cpu.Fpu.Xmm[op.Reg0];
        d = ((UInt128)(ulong)cpu.Fpu.Xmm[op.Reg1] << 64) | (ulong)d;
    }

    private static void Movhlps(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        ref UInt128 d = ref cpu.Fpu.Xmm[op.Reg0];
        d = (d & ((UInt128)ulong.MaxValue << 64)) | (ulong)(cpu.Fpu.Xmm[op.Reg1] >> 64);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Vec(UInt128 x) => Unsafe.BitCast<UInt128, Vector128<byte>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt128 Bits(Vector128<byte> v) => Unsafe.BitCast<Vector128<byte>, UInt128>(v);

    /// <summary>PUNPCKL/H: interleaves elements of <paramref name="elem"/> bytes from the low or high halves, destination first.</summary>
    private static void Unpack(Cpu cpu, ref DecodedOp op, int elem, bool high, bool aligned)
    {
        UInt128 s = XmmSource(cpu, ref op, aligned);
        UInt128 d = cpu.Fpu.Xmm[op.Reg0];
        UInt128 r;
        byte* ps = (byte*)&s, pd = (byte*)&d, pr = (byte*)&r;
        int half = high ? 8 : 0;
        for (int i = 0; i < 8 / elem; i++)
        {
            Buffer.MemoryCopy(pd + half + (i * elem), pr + (2 * i * elem), elem, elem);
            Buffer.MemoryCopy(ps + half + (i * elem), pr + (2 * i * elem) + elem, elem, elem);
        }

        cpu.Fpu.Xmm[op.Reg0] = r;
    }

    /// <summary>PUNPCKL*/PUNPCKH* (and UNPCKL/H PS/PD): elements of <typeparamref name="T"/>'s width from the half <typeparamref name="THigh"/> names.</summary>
    private static void Punpck<T, THigh, TAlign>(Cpu cpu, ref DecodedOp op)
        where T : unmanaged
        where THigh : struct, IFlag
        where TAlign : struct, IM128Alignment => Unpack(cpu, ref op, sizeof(T), THigh.Value, TAlign.Checked);

    private static void Pshufd(Cpu cpu, ref DecodedOp op)
    {
        UInt128 s = XmmSource(cpu, ref op);
        UInt128 r;
        uint* ps = (uint*)&s, pr = (uint*)&r;
        int imm = (int)op.Imm;
        for (int i = 0; i < 4; i++)
        {
            pr[i] = ps[(imm >> (2 * i)) & 3];
        }

        cpu.Fpu.Xmm[op.Reg0] = r;
    }

    /// <summary>PSHUFLW/PSHUFHW shuffle the words of one half and copy the other half.</summary>
    private static void ShuffleWords(Cpu cpu, ref DecodedOp op, int half)
    {
        UInt128 s = XmmSource(cpu, ref op);
        UInt128 r = s;
        ushort* ps = (ushort*)&s + half, pr = (ushort*)&r + half;
        int imm = (int)op.Imm;
        for (int i = 0; i < 4; i++)
        {
            pr[i] = ps[(imm >> (2 * i)) & 3];
        }

        cpu.Fpu.Xmm[op.Reg0] = r;
    }

    private static void Pshuflw(Cpu cpu, ref DecodedOp op) => ShuffleWords(cpu, ref op, 0);

    private static void Pshufhw(Cpu cpu, ref DecodedOp op) => ShuffleWords(cpu, ref op, 4);

    /// <summary>SHUFPS: dwords 0-1 chosen from the destination, 2-3 from the source.</summary>
    private static void Shufps<TAlign>(Cpu cpu, ref DecodedOp op)
        where TAlign : struct, IM128Alignment
    {
        UInt128 s = XmmSource(cpu, ref op, TAlign.Checked);
        UInt128 d = cpu.Fpu.Xmm[op.Reg0];
        UInt128 r;
        uint* ps = (uint*)&s, pd = (uint*)&d, pr = (uint*)&r;
        int imm = (int)op.Imm;
        pr[0] = pd[imm & 3];
        pr[1] = pd[(imm >> 2) & 3];
        pr[2] = ps[(imm >> 4) & 3];
        pr[3] = ps[(imm >> 6) & 3];
        cpu.Fpu.Xmm[op.Reg0] = r;
    }

    private static void Pslldq(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        int n = (int)(op.Imm & 0xFF);
        ref UInt128 d = ref cpu.Fpu.Xmm[op.Reg0];
        d = n > 15 ? UInt128.Zero : d << (8 * n);
    }

    private static void Psrldq(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        int n = (int)(op.Imm & 0xFF);
        ref UInt128 d = ref cpu.Fpu.Xmm[op.Reg0];
        d = n > 15 ? UInt128.Zero : d >> (8 * n);
    }

    private static void Movmskps(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        cpu.WriteGpr(op.Reg0, op.OpSize, Vec(cpu.Fpu.Xmm[op.Reg1]).AsUInt32().ExtractMostSignificantBits());
    }
}
