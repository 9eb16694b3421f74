using System.Runtime.Intrinsics;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The SSE/SSE2/SSE3 floating-point data movement that computes nothing: MOVSS/MOVSD (register,
/// load, store), the FP unpacks (the integer PUNPCK bodies), SHUFPD, MOVMSKPD, ANDPD/ANDNPD/ORPD
/// (the P* logic bodies), MOVDDUP, MOVSLDUP/MOVSHDUP and LDDQU.
/// </summary>
internal static unsafe partial class Handlers
{
    private static void RegisterSseFloatMoves(HandlerRegistry r)
    {
        r.Add(Code.Movss_xmm_xmmm32, &MovScalar<F32>);
        r.Add(Code.Movss_xmmm32_xmm, &MovScalar<F32>);
        r.Add(Code.Movsd_xmm_xmmm64, &MovScalar<F64>);
        r.Add(Code.Movsd_xmmm64_xmm, &MovScalar<F64>);
        r.Add(Code.Unpcklps_xmm_xmmm128, &Punpck<uint, Low, QemuUnchecked>);
        r.Add(Code.Unpckhps_xmm_xmmm128, &Punpck<uint, High, QemuUnchecked>);
        r.Add(Code.Unpcklpd_xmm_xmmm128, &Punpck<ulong, Low, QemuUnchecked>);
        r.Add(Code.Unpckhpd_xmm_xmmm128, &Punpck<ulong, High, QemuUnchecked>);
        r.Add(Code.Shufpd_xmm_xmmm128_imm8, &Shufpd<QemuUnchecked>);
        r.Add(Code.Movmskpd_r32_xmm, &Movmskpd);
        r.Add(Code.Movmskpd_r64_xmm, &Movmskpd);
        r.Add(Code.Movddup_xmm_xmmm64, &Movddup);
        r.Add(Code.Movsldup_xmm_xmmm128, &MovDupDwords<Low, QemuUnchecked>);
        r.Add(Code.Movshdup_xmm_xmmm128, &MovDupDwords<High, QemuUnchecked>);
    }

    /// <summary>MOVSS/MOVSD: between registers lane 0 only; a load zeroes the rest of the register; a store writes the lane.</summary>
    private static void MovScalar<TLane>(Cpu cpu, ref DecodedOp op)
        where TLane : struct, IFpLane
    {
        SseChecks(cpu);
        int b = TLane.Bytes;
        if (op.Kind0 != OperandKind.Xmm)
        {
            cpu.WriteSized(cpu.MemLinear(ref op), b, Lane(cpu.Fpu.Xmm[op.Reg1], 0, b));
        }
        else if (op.Kind1 == OperandKind.Xmm)
        {
            cpu.Fpu.Xmm[op.Reg0] = WithLane(cpu.Fpu.Xmm[op.Reg0], 0, b, Lane(cpu.Fpu.Xmm[op.Reg1], 0, b));
        }
        else
        {
            cpu.Fpu.Xmm[op.Reg0] = cpu.ReadSized(cpu.MemLinear(ref op), b);
        }
    }

    /// <summary>SHUFPD: quadword 0 from the destination, quadword 1 from the source, by imm8 bits 0 and 1.</summary>
    private static void Shufpd<TAlign>(Cpu cpu, ref DecodedOp op)
        where TAlign : struct, IM128Alignment
    {
        UInt128 s = XmmSource(cpu, ref op, TAlign.Checked);
        UInt128 d = cpu.Fpu.Xmm[op.Reg0];
        int imm = (int)op.Imm;
        cpu.Fpu.Xmm[op.Reg0] = ((UInt128)Lane(s, (imm >> 1) & 1, 8) << 64) | Lane(d, imm & 1, 8);
    }

    private static void Movmskpd(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        cpu.WriteGpr(op.Reg0, op.OpSize, Vec(cpu.Fpu.Xmm[op.Reg1]).AsUInt64().ExtractMostSignificantBits());
    }

    /// <summary>MOVDDUP: the low quadword (an 8-byte load, unchecked) in both halves.</summary>
    private static void Movddup(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        ulong lo = op.Kind1 == OperandKind.Xmm ? (ulong)cpu.Fpu.Xmm[op.Reg1] : cpu.Read64(cpu.MemLinear(ref op));
        cpu.Fpu.Xmm[op.Reg0] = ((UInt128)lo << 64) | lo;
    }

    /// <summary>MOVSLDUP/MOVSHDUP: the low (even) or high (odd) dword of each source pair, twice.</summary>
    private static void MovDupDwords<TWhich, TAlign>(Cpu cpu, ref DecodedOp op)
        where TWhich : struct, IFlag
        where TAlign : struct, IM128Alignment
    {
        UInt128 s = XmmSource(cpu, ref op, TAlign.Checked);
        int first = TWhich.Value ? 1 : 0;
        UInt128 r = 0;
        for (int i = 0; i < 4; i++)
        {
            r = WithLane(r, i, 4, Lane(s, (i & ~1) + first, 4));
        }

        cpu.Fpu.Xmm[op.Reg0] = r;
    }

    /// <summary>The low element (of a pair, of a register).</summary>
    private struct Low : IFlag
    {
        public static bool Value => false;
    }

    /// <summary>The high element.</summary>
    private struct High : IFlag
    {
        public static bool Value => true;
    }
}
