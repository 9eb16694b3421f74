using System.Runtime.Intrinsics;
using Emulator.Core.Cpu.Float;

namespace Emulator.Core.Cpu;

/// <summary>
/// The integer SIMD forms that are not element-wise operations, MMX and SSE with one body each
/// where both exist: MOVD/MOVQ between general registers or memory and MMX/XMM registers, MOVQ
/// and MOVNTQ on MMX registers, MOVQ2DQ/MOVDQ2Q, EMMS, PSHUFW, PINSRW, PEXTRW, PMOVMSKB and
/// MASKMOVQ/MASKMOVDQU (QEMU 7.2 tcg/emit.c.inc and ops_sse.h).
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>MOVD/MOVQ mm|xmm, r/m32|64: the value zero-extended to the register (QEMU gen_MOVD_to).</summary>
    private static void MovdToSimd<TW>(Cpu cpu, ref DecodedOp op)
        where TW : struct, ISimdWidth
    {
        TW.Enter(cpu);
        ulong v = cpu.ReadOp1(ref op, op.Op1Size);
        TW.Set(cpu, op.Reg0, Vector128.CreateScalar(v).AsByte());
    }

    /// <summary>MOVD/MOVQ r/m32|64, mm|xmm: the register's low 32 or 64 bits.</summary>
    private static void MovdFromSimd<TW>(Cpu cpu, ref DecodedOp op)
        where TW : struct, ISimdWidth
    {
        TW.Enter(cpu);
        cpu.WriteOp0(ref op, op.OpSize, TW.Get(cpu, op.Reg1).AsUInt64().ToScalar());
    }

    /// <summary>LOCK MOVD/MOVQ m, mm (Cpu.DecodeLock.cs): QEMU stores nothing but still checks CR0 and enters MMX state.</summary>
    internal static void LockedMmxStore(Cpu cpu, ref DecodedOp op) => Mmx.Enter(cpu);

    /// <summary>LOCK MOVD/MOVQ m, xmm (Cpu.DecodeLock.cs): QEMU stores nothing, after validate_vex's CR0/CR4 checks.</summary>
    internal static void LockedXmmStore(Cpu cpu, ref DecodedOp op) => SseChecks(cpu);

    /// <summary>An MMX form with a LOCK QEMU refuses (Cpu.QemuEntersMmxBeforeRefusingLock): the checks, MMX state, then #UD.</summary>
    internal static void LockRefusedAfterEnteringMmx(Cpu cpu, ref DecodedOp op)
    {
        Mmx.Enter(cpu);
        throw new GuestFault(Vector.UD);
    }

    /// <summary>An SSE form with a LOCK QEMU refuses (Cpu.QemuChecksSseBeforeRefusingLock): validate_vex's checks, then #UD.</summary>
    internal static void LockRefusedAfterSseChecks(Cpu cpu, ref DecodedOp op)
    {
        SseChecks(cpu);
        throw new GuestFault(Vector.UD);
    }

    /// <summary>MOVQ mm, mm/m64 (0F 6F), MOVQ mm/m64, mm (0F 7F) and MOVNTQ m64, mm (0F E7): 64 bits, no alignment.</summary>
    private static void MovqMmx(Cpu cpu, ref DecodedOp op)
    {
        Mmx.Enter(cpu);
        if (op.Kind0 == OperandKind.Memory)
        {
            cpu.Write64(cpu.MemLinear(ref op), cpu.Fpu.ReadMmx(op.Reg1));
        }
        else
        {
            Mmx.Set(cpu, op.Reg0, Source<Mmx>(cpu, ref op));
        }
    }

    /// <summary>
    /// MOVQ2DQ xmm, mm (F3 0F D6): the MMX register zero-extended. QEMU 7.2 gives 0F D6 no exception
    /// class (decode-new.c.inc: no vex class), so neither CR0.TS, CR0.EM nor CR4.OSFXSR is checked;
    /// it switches to MMX state (gen_MOVq_dq).
    /// </summary>
    private static void Movq2dq(Cpu cpu, ref DecodedOp op)
    {
        cpu.Fpu.EnterMmx();
        cpu.Fpu.Xmm[op.Reg0] = cpu.Fpu.ReadMmx(op.Reg1);
    }

    /// <summary>
    /// MOVDQ2Q mm, xmm (F2 0F D6): the low quadword; no exception checks, MMX state entered, as
    /// MOVQ2DQ. Unlike the other MMX writes it also zeroes bits 79:64: QEMU's gen_MOVQ clears
    /// vector_len bytes first, and the F2 prefix makes that 16, the whole FPReg (emit.c.inc).
    /// </summary>
    private static void Movdq2q(Cpu cpu, ref DecodedOp op)
    {
        cpu.Fpu.EnterMmx();
        cpu.Fpu.St[op.Reg0] = new Float80((ulong)cpu.Fpu.Xmm[op.Reg1], 0);
    }

    /// <summary>
    /// EMMS: every x87 tag empty (QEMU helper_emms). QEMU 7.2 decodes 0F 77 without an exception
    /// class (decode_0F77 only picks the generator), so EMMS raises neither #NM nor #UD for CR0.TS/EM.
    /// </summary>
    private static void Emms(Cpu cpu, ref DecodedOp op) => cpu.Fpu.Emms();

    /// <summary>PSHUFW mm, mm/m64, imm8: each destination word chosen from the source by two bits of the immediate.</summary>
    private static void Pshufw(Cpu cpu, ref DecodedOp op)
    {
        Mmx.Enter(cpu);
        ulong s = Source<Mmx>(cpu, ref op).AsUInt64().ToScalar();
        ulong r = 0;
        for (int i = 0; i < 4; i++)
        {
            int sel = ((int)op.Imm >> (2 * i)) & 3;
            r |= ((s >> (16 * sel)) & 0xFFFF) << (16 * i);
        }

        cpu.Fpu.WriteMmx(op.Reg0, r);
    }

    /// <summary>PINSRW mm|xmm, r32/m16, imm8: one word replaced; the index is the immediate modulo the word count (QEMU gen_pinsr).</summary>
    private static void Pinsrw<TW>(Cpu cpu, ref DecodedOp op)
        where TW : struct, ISimdWidth
    {
        TW.Enter(cpu);
        ushort v = op.Kind1 == OperandKind.Memory ? cpu.Read16(cpu.MemLinear(ref op)) : (ushort)cpu.ReadGpr(op.Reg1, 2);
        var d = TW.Get(cpu, op.Reg0).AsUInt16();
        int index = (int)op.Imm & ((TW.Bytes / 2) - 1);
        TW.Set(cpu, op.Reg0, d.WithElement(index, v).AsByte());
    }

    /// <summary>PEXTRW r32|r64, mm|xmm, imm8: the selected word zero-extended (QEMU writes the 32-bit register, G,d).</summary>
    private static void Pextrw<TW>(Cpu cpu, ref DecodedOp op)
        where TW : struct, ISimdWidth
    {
        TW.Enter(cpu);
        int index = (int)op.Imm & ((TW.Bytes / 2) - 1);
        cpu.WriteGpr(op.Reg0, 4, TW.Get(cpu, op.Reg1).AsUInt16().GetElement(index));
    }

    /// <summary>PMOVMSKB r32|r64, mm|xmm: the top bit of each live byte, zero-extended.</summary>
    private static void Pmovmskb<TW>(Cpu cpu, ref DecodedOp op)
        where TW : struct, ISimdWidth
    {
        TW.Enter(cpu);
        uint mask = TW.Get(cpu, op.Reg1).ExtractMostSignificantBits() & (uint)((1 << TW.Bytes) - 1);
        cpu.WriteGpr(op.Reg0, 4, mask);
    }

    /// <summary>
    /// MASKMOVQ/MASKMOVDQU: each data byte whose mask byte has its top bit set is stored to
    /// DS:rDI + i (the segment overridable), one byte at a time in rising order as QEMU's
    /// helper_maskmov does, so a fault leaves the lower bytes written. No alignment check.
    /// </summary>
    private static void Maskmov<TW>(Cpu cpu, ref DecodedOp op)
        where TW : struct, ISimdWidth
    {
        TW.Enter(cpu);
        var data = TW.Get(cpu, op.Reg1);
        var mask = TW.Get(cpu, op.Reg2);
        ulong lin = cpu.Linear(op.MemSeg, cpu.ReadGpr(Gpr.Rdi, op.AddrSize));
        for (int i = 0; i < TW.Bytes; i++)
        {
            if ((mask.GetElement(i) & 0x80) != 0)
            {
                cpu.Write8(cpu.WrapLinear(lin + (ulong)i), data.GetElement(i));
            }
        }
    }
}
