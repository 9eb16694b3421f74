using System.Runtime.CompilerServices;
using Emulator.Core.Cpu.Jit;

namespace Emulator.Core.Cpu;

/// <summary>
/// The bodies of the hottest instructions (<see cref="JitTwinAttribute"/>): each takes the operand
/// fields it reads as parameters instead of a <see cref="DecodedOp"/>, so inside a compiled block
/// they are constants and the register numbers, sizes and displacements fold away. The
/// interpreter's handler of the same instruction passes the op's fields and calls the twin, so each
/// instruction's semantics exist once; the memory forms take the address parts, the next
/// instruction's address (<c>nextRip</c>, for RIP-relative operands) and the mode
/// (<c>bitness</c>, constant in a block, <c>cpu._bitness</c> in the interpreter). The
/// differential tests run every twin compiled against its handler interpreted
/// (<c>BlockCompilerTests</c>, <c>TwinTests</c>).
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>The address of the instruction after <paramref name="op"/>: a twin's <c>nextRip</c> when the interpreter calls it (a compiled block passes a constant).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong NextRip(Cpu cpu, ref DecodedOp op) => cpu._rip + op.Length;

    /// <summary>Operand 1 of a reg, r/m form: the register or the memory operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadSource(Cpu cpu, int size, OperandKind Kind1, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness) =>
        Kind1 == OperandKind.Gpr
            ? cpu.ReadGpr(Reg1, size)
            : cpu.ReadSized(cpu.MemLinear(MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness), size);

    [JitTwin(nameof(AluRegReg), Pure = true, FlagsWritten = TwinFlags.All)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluRegRegJit<S, TOp>(Cpu cpu, byte Reg0, byte Reg1, bool recordFlags)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluIntoRegJit<S, TOp>(cpu, Reg0, cpu.ReadGpr(Reg1, S.Size), recordFlags);

    [JitTwin(nameof(AluRegImm), Pure = true, FlagsWritten = TwinFlags.All)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluRegImmJit<S, TOp>(Cpu cpu, byte Reg0, ulong Imm, bool recordFlags)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluIntoRegJit<S, TOp>(cpu, Reg0, Imm & Cpu.Mask(S.Size), recordFlags);

    [JitTwin(nameof(AluRegRm), PureWithoutMemory = true, FlagsWritten = TwinFlags.All)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluRegRmJit<S, TOp>(Cpu cpu, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, bool recordFlags)
        where S : struct, IOpSize
        where TOp : struct, IAluOp
    {
        ulong src = ReadSource(cpu, S.Size, Kind1, Reg1, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        AluIntoRegJit<S, TOp>(cpu, Reg0, src, recordFlags);
    }

    [JitTwin(nameof(AluRmReg), PureWithoutMemory = true, FlagsWritten = TwinFlags.All)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluRmRegJit<S, TOp>(Cpu cpu, OperandKind Kind0, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluIntoRmJit<S, TOp>(cpu, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, cpu.ReadGpr(Reg1, S.Size));

    [JitTwin(nameof(AluRmImm), PureWithoutMemory = true, FlagsWritten = TwinFlags.All)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluRmImmJit<S, TOp>(Cpu cpu, OperandKind Kind0, byte Reg0, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluIntoRmJit<S, TOp>(cpu, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, Imm & Cpu.Mask(S.Size));

    /// <summary>
    /// Operand 0 is a register: no memory path, so the register forms compile to frameless
    /// leaves. <paramref name="recordFlags"/> is false when the compiler proved the flags dead
    /// (the interpreter passes true).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluIntoRegJit<S, TOp>(Cpu cpu, byte Reg0, ulong src, bool recordFlags)
        where S : struct, IOpSize
        where TOp : struct, IAluOp
    {
        ulong dst = cpu.ReadGpr(Reg0, S.Size);
        ulong res = TOp.Compute(cpu, dst, src);
        if (TOp.WritesResult)
        {
            cpu.WriteGpr(Reg0, S.Size, res);
        }

        if (recordFlags)
        {
            TOp.RecordFlags(cpu, S.Size, dst, src, res);
        }
    }

    /// <summary>Operand 0 is a register or memory; the result is written before flags are recorded, so a faulting store leaves the flags untouched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluIntoRmJit<S, TOp>(Cpu cpu, OperandKind Kind0, byte Reg0, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, ulong src)
        where S : struct, IOpSize
        where TOp : struct, IAluOp
    {
        ulong dst, res;
        if (Kind0 == OperandKind.Gpr)
        {
            dst = cpu.ReadGpr(Reg0, S.Size);
            res = TOp.Compute(cpu, dst, src);
            if (TOp.WritesResult)
            {
                cpu.WriteGpr(Reg0, S.Size, res);
            }
        }
        else
        {
            ulong lin = cpu.MemLinear(MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
            dst = cpu.ReadSized(lin, S.Size);
            res = TOp.Compute(cpu, dst, src);
            if (TOp.WritesResult)
            {
                cpu.WriteSized(lin, S.Size, res);
            }
        }

        TOp.RecordFlags(cpu, S.Size, dst, src, res);
    }

    [JitTwin(nameof(MovLoad), PureWithoutMemory = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovLoadJit<S>(Cpu cpu, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize =>
        LoadIntoRegisterJit<S, S>(cpu, Kind1, Reg0, Reg1, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);

    [JitTwin(nameof(Movzx), PureWithoutMemory = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovzxJit<TDst, TSrc>(Cpu cpu, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where TDst : struct, IOpSize
        where TSrc : struct, IOpSize =>
        LoadIntoRegisterJit<TDst, TSrc>(cpu, Kind1, Reg0, Reg1, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);

    /// <summary>Register ← zero-extended operand 1 (MOV's load form when the widths match, MOVZX otherwise).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadIntoRegisterJit<TDst, TSrc>(Cpu cpu, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where TDst : struct, IOpSize
        where TSrc : struct, IOpSize
    {
        if (Kind1 == OperandKind.Gpr)
        {
            cpu.WriteGpr(Reg0, TDst.Size, cpu.ReadGpr(Reg1, TSrc.Size));
            return;
        }

        ulong lin = cpu.MemLinear(MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        if (cpu.TryReadFast(lin, TSrc.Size, out ulong v))
        {
            cpu.WriteGpr(Reg0, TDst.Size, v);
            return;
        }

        LoadSlow<TDst, TSrc>(cpu, Reg0, lin);
    }

    [JitTwin(nameof(MovStore), PureWithoutMemory = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovStoreJit<S>(Cpu cpu, OperandKind Kind0, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
    {
        ulong v = cpu.ReadGpr(Reg1, S.Size);
        if (Kind0 == OperandKind.Gpr)
        {
            cpu.WriteGpr(Reg0, S.Size, v);
            return;
        }

        ulong lin = cpu.MemLinear(MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        if (!cpu.TryWriteFast(lin, S.Size, v))
        {
            StoreSlow<S>(cpu, lin, v);
        }
    }

    [JitTwin(nameof(MovRegReg), Pure = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovRegRegJit<S>(Cpu cpu, byte Reg0, byte Reg1)
        where S : struct, IOpSize =>
        cpu.WriteGpr(Reg0, S.Size, cpu.ReadGpr(Reg1, S.Size));

    [JitTwin(nameof(MovRegImmediate), Pure = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovRegImmediateJit<S>(Cpu cpu, byte Reg0, ulong Imm)
        where S : struct, IOpSize =>
        cpu.WriteGpr(Reg0, S.Size, Imm);

    [JitTwin(nameof(Lea), Pure = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LeaJit<S>(Cpu cpu, byte Reg0, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, ulong nextRip)
        where S : struct, IOpSize
    {
        ulong ea = MemBase == DecodedOp.RipBase ? nextRip : cpu.GprRef(MemBase);
        ea += Disp + (cpu.GprRef(MemIndex) << MemScaleShift);
        cpu.WriteGpr(Reg0, S.Size, ea & (ulong.MaxValue >> EaMaskShift));
    }

    [JitTwin(nameof(IncReg), Pure = true, FlagsWritten = TwinFlags.AllButCarry)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IncRegJit<S>(Cpu cpu, byte Reg0)
        where S : struct, IOpSize
    {
        ulong dst = cpu.ReadGpr(Reg0, S.Size);
        ulong res = dst + 1;
        cpu.WriteGpr(Reg0, S.Size, res);
        cpu.SetIncDec(true, S.Size, dst, res);
    }

    [JitTwin(nameof(DecReg), Pure = true, FlagsWritten = TwinFlags.AllButCarry)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DecRegJit<S>(Cpu cpu, byte Reg0)
        where S : struct, IOpSize
    {
        ulong dst = cpu.ReadGpr(Reg0, S.Size);
        ulong res = dst - 1;
        cpu.WriteGpr(Reg0, S.Size, res);
        cpu.SetIncDec(false, S.Size, dst, res);
    }

    [JitTwin(nameof(Xor), PureWithoutMemory = true, FlagsWritten = TwinFlags.All)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void XorJit<S>(Cpu cpu, OperandKind Kind0, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, bool recordFlags)
        where S : struct, IOpSize
    {
        if (Kind1 == OperandKind.Gpr && Kind0 == OperandKind.Gpr && Reg0 == Reg1)
        {
            // The zeroing idiom. QEMU 7.2 special-cases it (CC_OP_CLR: flags known, ZF = PF = 1),
            // which matters only to instructions whose undefined flags depend on how the previous
            // flags are held (BT and friends): keep them materialised here too.
            cpu.WriteGpr(Reg0, S.Size, 0);
            if (recordFlags)
            {
                cpu._flags = (cpu._flags & ~RFlags.Arith) | RFlags.ZF | RFlags.PF;
                cpu._lazy = LazyOp.None;
            }

            return;
        }

        // The destination is read first, then the source (one of them may be memory).
        ulong lin = 0;
        ulong dst;
        if (Kind0 == OperandKind.Gpr)
        {
            dst = cpu.ReadGpr(Reg0, S.Size);
        }
        else
        {
            lin = cpu.MemLinear(MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
            dst = cpu.ReadSized(lin, S.Size);
        }

        ulong src = ReadSource(cpu, S.Size, Kind1, Reg1, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        ulong res = dst ^ src;
        if (Kind0 == OperandKind.Gpr)
        {
            cpu.WriteGpr(Reg0, S.Size, res);
        }
        else
        {
            cpu.WriteSized(lin, S.Size, res);
        }

        if (recordFlags)
        {
            cpu.SetLogicFlags(S.Size, res);
        }
    }

    [JitTwin(nameof(Imul2), PureWithoutMemory = true, FlagsWritten = TwinFlags.All)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Imul2Jit<S>(Cpu cpu, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
    {
        long a = SignExtend(cpu.ReadGpr(Reg0, S.Size), S.Size);
        long b = SignExtend(ReadSource(cpu, S.Size, Kind1, Reg1, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness), S.Size);
        ImulTruncated<S>(cpu, Reg0, a, b);
    }

    [JitTwin(nameof(LogicalShift), PureWithoutMemory = true, FlagsWritten = TwinFlags.AllForNonZeroCount)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LogicalShiftJit<S, D>(Cpu cpu, OperandKind Kind0, OperandKind Kind1, byte Reg0, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, bool recordFlags)
        where S : struct, IOpSize
        where D : struct, IDirection
    {
        ulong dst = ReadDest(cpu, S.Size, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, out ulong lin);
        int count = ShiftCount<S>(cpu, Kind1, Imm);
        if (count == 0)
        {
            WriteDest(cpu, S.Size, Kind0, Reg0, lin, dst);
            return;
        }

        int msb = S.Size * 8 - 1;
        ulong shm1 = D.Left ? dst << (count - 1) : dst >> (count - 1);
        ulong res = D.Left ? shm1 << 1 : shm1 >> 1;
        WriteDest(cpu, S.Size, Kind0, Reg0, lin, res);
        if (recordFlags)
        {
            cpu.SetResultFlags(S.Size, res, CarryOverflow(D.Left ? shm1 >> msb : shm1, shm1 ^ res, msb));
        }
    }

    [JitTwin(nameof(Sar), PureWithoutMemory = true, FlagsWritten = TwinFlags.AllForNonZeroCount)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SarJit<S>(Cpu cpu, OperandKind Kind0, OperandKind Kind1, byte Reg0, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, bool recordFlags)
        where S : struct, IOpSize
    {
        ulong dst = ReadDest(cpu, S.Size, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, out ulong lin);
        int count = ShiftCount<S>(cpu, Kind1, Imm);
        if (count == 0)
        {
            WriteDest(cpu, S.Size, Kind0, Reg0, lin, dst);
            return;
        }

        // Both values carry the same sign, so OF comes out 0, as the SDM defines for count 1.
        long signed = SignExtend(dst, S.Size);
        ulong shm1 = (ulong)(signed >> (count - 1));
        ulong res = (ulong)(signed >> count);
        WriteDest(cpu, S.Size, Kind0, Reg0, lin, res);
        if (recordFlags)
        {
            cpu.SetResultFlags(S.Size, res, shm1 & 1);
        }
    }

    [JitTwin(nameof(Inc), PureWithoutMemory = true, FlagsWritten = TwinFlags.AllButCarry)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IncJit<S>(Cpu cpu, OperandKind Kind0, byte Reg0, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
    {
        ulong dst = ReadDest(cpu, S.Size, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, out ulong lin);
        ulong res = dst + 1;
        WriteDest(cpu, S.Size, Kind0, Reg0, lin, res);
        cpu.SetIncDec(true, S.Size, dst, res);
    }

    [JitTwin(nameof(Dec), PureWithoutMemory = true, FlagsWritten = TwinFlags.AllButCarry)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DecJit<S>(Cpu cpu, OperandKind Kind0, byte Reg0, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
    {
        ulong dst = ReadDest(cpu, S.Size, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, out ulong lin);
        ulong res = dst - 1;
        WriteDest(cpu, S.Size, Kind0, Reg0, lin, res);
        cpu.SetIncDec(false, S.Size, dst, res);
    }

    [JitTwin(nameof(Imul3), PureWithoutMemory = true, FlagsWritten = TwinFlags.All)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Imul3Jit<S>(Cpu cpu, OperandKind Kind1, byte Reg0, byte Reg1, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
    {
        ulong src = ReadSource(cpu, S.Size, Kind1, Reg1, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        long a = SignExtend(src, S.Size);
        long b = SignExtend(Imm & Cpu.Mask(S.Size), S.Size);
        ImulTruncated<S>(cpu, Reg0, a, b);
    }

    [JitTwin(nameof(Setcc), PureWithoutMemory = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetccJit(Cpu cpu, int insnCode, OperandKind Kind0, byte Reg0, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
    {
        ulong value = cpu.Condition(ConditionOfCode[insnCode]) ? 1UL : 0UL;
        if (Kind0 == OperandKind.Gpr)
        {
            cpu.WriteGpr(Reg0, 1, value);
        }
        else
        {
            cpu.WriteSized(cpu.MemLinear(MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness), 1, value);
        }
    }

    [JitTwin(nameof(Cmovcc), PureWithoutMemory = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CmovccJit<S>(Cpu cpu, int insnCode, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
    {
        ulong src = ReadSource(cpu, S.Size, Kind1, Reg1, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        bool taken = cpu.Condition(ConditionOfCode[insnCode]);
        cpu.WriteGpr(Reg0, S.Size, taken ? src : cpu.ReadGpr(Reg0, S.Size));
    }

    [JitTwin(nameof(Cdqe), Pure = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CdqeJit(Cpu cpu) =>
        cpu._gpr[Gpr.Rax] = (ulong)(long)(int)cpu._gpr[Gpr.Rax];

    [JitTwin(nameof(MovImmediate), PureWithoutMemory = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovImmediateJit<S>(Cpu cpu, OperandKind Kind0, byte Reg0, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
    {
        if (Kind0 == OperandKind.Gpr)
        {
            cpu.WriteGpr(Reg0, S.Size, Imm);
        }
        else
        {
            cpu.WriteSized(cpu.MemLinear(MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness), S.Size, Imm);
        }
    }

    [JitTwin(nameof(Movsx), PureWithoutMemory = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovsxJit(Cpu cpu, OperandKind Kind1, byte Reg0, byte Reg1, byte OpSize, byte Op1Size, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
    {
        int srcSize = Op1Size;
        ulong v = ReadSource(cpu, srcSize, Kind1, Reg1, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        int shift = 64 - srcSize * 8;
        cpu.WriteGpr(Reg0, OpSize, (ulong)((long)(v << shift) >> shift));
    }
}
