using System.Runtime.CompilerServices;
using Emulator.Core.Cpu.Jit;

namespace Emulator.Core.Cpu;

/// <summary>
/// The block compiler's forms of the hottest handlers (<see cref="JitTwinAttribute"/>): each has
/// the body of the handler it names with the operands as parameters, so inside a compiled block
/// they become constants and the register numbers, sizes and displacements fold away. Where the
/// handler reads nothing but its operands' fields (register forms, the fixed-width stack forms),
/// the handler itself calls its twin, so the body exists once (not the ALU register forms: see
/// <c>AluIntoReg</c>); the memory forms keep their own body because the interpreter's address
/// path (<see cref="Cpu.MemLinear"/>) does not know the block's mode as a constant. A differential test runs every twin against its handler.
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>
    /// <see cref="Cpu.MemLinear"/> with the operand parts and the block's mode as constants. In
    /// 64-bit mode ES, CS, SS and DS have base 0 (the CPU keeps <c>_segBase</c> so), so only FS and
    /// GS add one, and nothing truncates; elsewhere the base is added and the sum wraps at 4 GiB.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong JitLinear(Cpu cpu, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
    {
        ulong ea = MemBase == DecodedOp.RipBase ? nextRip : cpu.GprRef(MemBase);
        ea += Disp + (cpu.GprRef(MemIndex) << MemScaleShift);
        ea &= ulong.MaxValue >> EaMaskShift;
        ulong segBase = Unsafe.Add(ref Unsafe.As<SegmentBases, ulong>(ref cpu._segBase), (nint)MemSeg);
        if (bitness == 64)
        {
            return MemSeg is Seg.Fs or Seg.Gs ? segBase + ea : ea;
        }

        return (uint)(segBase + ea);
    }

    [JitTwin(nameof(AluRegReg), Pure = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluRegRegJit<S, TOp>(Cpu cpu, byte Reg0, byte Reg1, bool recordFlags)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluIntoRegJit<S, TOp>(cpu, Reg0, cpu.ReadGpr(Reg1, S.Size), recordFlags);

    [JitTwin(nameof(AluRegImm), Pure = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluRegImmJit<S, TOp>(Cpu cpu, byte Reg0, ulong Imm, bool recordFlags)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluIntoRegJit<S, TOp>(cpu, Reg0, Imm & Cpu.Mask(S.Size), recordFlags);

    [JitTwin(nameof(AluRegRm), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluRegRmJit<S, TOp>(Cpu cpu, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, bool recordFlags)
        where S : struct, IOpSize
        where TOp : struct, IAluOp
    {
        ulong src = Kind1 == OperandKind.Gpr
            ? cpu.ReadGpr(Reg1, S.Size)
            : cpu.ReadSized(JitLinear(cpu, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness), S.Size);
        AluIntoRegJit<S, TOp>(cpu, Reg0, src, recordFlags);
    }

    [JitTwin(nameof(AluRmReg), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluRmRegJit<S, TOp>(Cpu cpu, OperandKind Kind0, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluIntoRmJit<S, TOp>(cpu, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, cpu.ReadGpr(Reg1, S.Size));

    [JitTwin(nameof(AluRmImm), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AluRmImmJit<S, TOp>(Cpu cpu, OperandKind Kind0, byte Reg0, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluIntoRmJit<S, TOp>(cpu, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, Imm & Cpu.Mask(S.Size));

    /// <summary><see cref="AluIntoReg{S, TOp}"/>; <paramref name="recordFlags"/> false when the compiler proved the flags dead.</summary>
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

    /// <summary><see cref="AluIntoRm{S, TOp}"/>.</summary>
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
            ulong lin = JitLinear(cpu, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
            dst = cpu.ReadSized(lin, S.Size);
            res = TOp.Compute(cpu, dst, src);
            if (TOp.WritesResult)
            {
                cpu.WriteSized(lin, S.Size, res);
            }
        }

        TOp.RecordFlags(cpu, S.Size, dst, src, res);
    }

    [JitTwin(nameof(MovLoad), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovLoadJit<S>(Cpu cpu, ref DecodedOp op, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize =>
        LoadIntoRegisterJit<S, S>(cpu, ref op, Kind1, Reg0, Reg1, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);

    [JitTwin(nameof(Movzx), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovzxJit<TDst, TSrc>(Cpu cpu, ref DecodedOp op, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where TDst : struct, IOpSize
        where TSrc : struct, IOpSize =>
        LoadIntoRegisterJit<TDst, TSrc>(cpu, ref op, Kind1, Reg0, Reg1, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);

    /// <summary><see cref="LoadIntoRegister{TDst, TSrc}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadIntoRegisterJit<TDst, TSrc>(Cpu cpu, ref DecodedOp op, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where TDst : struct, IOpSize
        where TSrc : struct, IOpSize
    {
        if (Kind1 == OperandKind.Gpr)
        {
            cpu.WriteGpr(Reg0, TDst.Size, cpu.ReadGpr(Reg1, TSrc.Size));
            return;
        }

        ulong lin = JitLinear(cpu, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        if (cpu.TryReadFast(lin, TSrc.Size, out ulong v))
        {
            cpu.WriteGpr(Reg0, TDst.Size, v);
            return;
        }

        LoadSlow<TDst, TSrc>(cpu, ref op, lin);
    }

    [JitTwin(nameof(MovStore), PureWithoutMemory = true)]
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

        ulong lin = JitLinear(cpu, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        if (!cpu.TryWriteFast(lin, S.Size, v))
        {
            StoreSlow<S>(cpu, lin, v);
        }
    }

    [JitTwin(nameof(MovRegReg), Pure = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovRegRegJit<S>(Cpu cpu, byte Reg0, byte Reg1)
        where S : struct, IOpSize =>
        cpu.WriteGpr(Reg0, S.Size, cpu.ReadGpr(Reg1, S.Size));

    [JitTwin(nameof(MovRegImmediate), Pure = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovRegImmediateJit<S>(Cpu cpu, byte Reg0, ulong Imm)
        where S : struct, IOpSize =>
        cpu.WriteGpr(Reg0, S.Size, Imm);

    [JitTwin(nameof(Lea), Pure = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LeaJit<S>(Cpu cpu, byte Reg0, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, ulong nextRip)
        where S : struct, IOpSize
    {
        ulong ea = MemBase == DecodedOp.RipBase ? nextRip : cpu.GprRef(MemBase);
        ea += Disp + (cpu.GprRef(MemIndex) << MemScaleShift);
        cpu.WriteGpr(Reg0, S.Size, ea & (ulong.MaxValue >> EaMaskShift));
    }

    [JitTwin(nameof(IncReg), Pure = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IncRegJit<S>(Cpu cpu, byte Reg0)
        where S : struct, IOpSize
    {
        ulong dst = cpu.ReadGpr(Reg0, S.Size);
        ulong res = dst + 1;
        cpu.WriteGpr(Reg0, S.Size, res);
        cpu.SetIncDec(true, S.Size, dst, res);
    }

    [JitTwin(nameof(DecReg), Pure = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DecRegJit<S>(Cpu cpu, byte Reg0)
        where S : struct, IOpSize
    {
        ulong dst = cpu.ReadGpr(Reg0, S.Size);
        ulong res = dst - 1;
        cpu.WriteGpr(Reg0, S.Size, res);
        cpu.SetIncDec(false, S.Size, dst, res);
    }

    [JitTwin(nameof(Xor), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void XorJit<S>(Cpu cpu, OperandKind Kind0, OperandKind Kind1, byte Reg0, byte Reg1, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, bool recordFlags)
        where S : struct, IOpSize
    {
        if (Kind1 == OperandKind.Gpr && Kind0 == OperandKind.Gpr && Reg0 == Reg1)
        {
            cpu.WriteGpr(Reg0, S.Size, 0);
            if (recordFlags)
            {
                cpu._flags = (cpu._flags & ~RFlags.Arith) | RFlags.ZF | RFlags.PF;
                cpu._lazy = LazyOp.None;
            }

            return;
        }

        // As the handler: the destination is read first, then the source (one of them may be memory).
        ulong lin = 0;
        ulong dst;
        if (Kind0 == OperandKind.Gpr)
        {
            dst = cpu.ReadGpr(Reg0, S.Size);
        }
        else
        {
            lin = JitLinear(cpu, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
            dst = cpu.ReadSized(lin, S.Size);
        }

        ulong src = Kind1 == OperandKind.Gpr
            ? cpu.ReadGpr(Reg1, S.Size)
            : cpu.ReadSized(JitLinear(cpu, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness), S.Size);
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

    [JitTwin(nameof(Imul2), Pure = true, RegisterOnly = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Imul2Jit<S>(Cpu cpu, byte Reg0, byte Reg1)
        where S : struct, IOpSize
    {
        long a = SignExtend(cpu.ReadGpr(Reg0, S.Size), S.Size);
        long b = SignExtend(cpu.ReadGpr(Reg1, S.Size), S.Size);
        ImulTruncated<S>(cpu, Reg0, a, b);
    }

    /// <summary><see cref="ReadDest"/> with the operand parts as constants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong JitReadDest<S>(Cpu cpu, OperandKind Kind0, byte Reg0, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, out ulong lin)
        where S : struct, IOpSize
    {
        if (Kind0 == OperandKind.Gpr)
        {
            lin = 0;
            return cpu.ReadGpr(Reg0, S.Size);
        }

        lin = JitLinear(cpu, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        return cpu.ReadSized(lin, S.Size);
    }

    /// <summary><see cref="WriteDest"/> with the operand kind and register as constants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void JitWriteDest<S>(Cpu cpu, OperandKind Kind0, byte Reg0, ulong lin, ulong value)
        where S : struct, IOpSize
    {
        if (Kind0 == OperandKind.Gpr)
        {
            cpu.WriteGpr(Reg0, S.Size, value);
        }
        else
        {
            cpu.WriteSized(lin, S.Size, value);
        }
    }

    [JitTwin(nameof(LogicalShift), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LogicalShiftJit<S, D>(Cpu cpu, OperandKind Kind0, OperandKind Kind1, byte Reg0, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, bool recordFlags)
        where S : struct, IOpSize
        where D : struct, IDirection
    {
        ulong dst = JitReadDest<S>(cpu, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, out ulong lin);
        int count = ShiftCount<S>(cpu, Kind1, Imm);
        if (count == 0)
        {
            JitWriteDest<S>(cpu, Kind0, Reg0, lin, dst);
            return;
        }

        int msb = S.Size * 8 - 1;
        ulong shm1 = D.Left ? dst << (count - 1) : dst >> (count - 1);
        ulong res = D.Left ? shm1 << 1 : shm1 >> 1;
        JitWriteDest<S>(cpu, Kind0, Reg0, lin, res);
        if (recordFlags)
        {
            cpu.SetResultFlags(S.Size, res, CarryOverflow(D.Left ? shm1 >> msb : shm1, shm1 ^ res, msb));
        }
    }

    [JitTwin(nameof(Sar), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SarJit<S>(Cpu cpu, OperandKind Kind0, OperandKind Kind1, byte Reg0, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, bool recordFlags)
        where S : struct, IOpSize
    {
        ulong dst = JitReadDest<S>(cpu, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, out ulong lin);
        int count = ShiftCount<S>(cpu, Kind1, Imm);
        if (count == 0)
        {
            JitWriteDest<S>(cpu, Kind0, Reg0, lin, dst);
            return;
        }

        // Both values carry the same sign, so OF comes out 0, as the SDM defines for count 1.
        long signed = SignExtend(dst, S.Size);
        ulong shm1 = (ulong)(signed >> (count - 1));
        ulong res = (ulong)(signed >> count);
        JitWriteDest<S>(cpu, Kind0, Reg0, lin, res);
        if (recordFlags)
        {
            cpu.SetResultFlags(S.Size, res, shm1 & 1);
        }
    }

    [JitTwin(nameof(Inc), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IncJit<S>(Cpu cpu, OperandKind Kind0, byte Reg0, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
    {
        ulong dst = JitReadDest<S>(cpu, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, out ulong lin);
        ulong res = dst + 1;
        JitWriteDest<S>(cpu, Kind0, Reg0, lin, res);
        cpu.SetIncDec(true, S.Size, dst, res);
    }

    [JitTwin(nameof(Dec), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DecJit<S>(Cpu cpu, OperandKind Kind0, byte Reg0, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
    {
        ulong dst = JitReadDest<S>(cpu, Kind0, Reg0, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness, out ulong lin);
        ulong res = dst - 1;
        JitWriteDest<S>(cpu, Kind0, Reg0, lin, res);
        cpu.SetIncDec(false, S.Size, dst, res);
    }

    [JitTwin(nameof(Imul3), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Imul3Jit<S>(Cpu cpu, OperandKind Kind1, byte Reg0, byte Reg1, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
        where S : struct, IOpSize
    {
        ulong src = Kind1 == OperandKind.Gpr
            ? cpu.ReadGpr(Reg1, S.Size)
            : cpu.ReadSized(JitLinear(cpu, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness), S.Size);
        long a = SignExtend(src, S.Size);
        long b = SignExtend(Imm & Cpu.Mask(S.Size), S.Size);
        ImulTruncated<S>(cpu, Reg0, a, b);
    }

    [JitTwin(nameof(Setcc), Pure = true, RegisterOnly = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetccJit(Cpu cpu, int insnCode, byte Reg0) =>
        cpu.WriteGpr(Reg0, 1, cpu.Condition(ConditionOfCode[insnCode]) ? 1UL : 0UL);

    [JitTwin(nameof(Cmovcc), Pure = true, RegisterOnly = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CmovccJit<S>(Cpu cpu, int insnCode, byte Reg0, byte Reg1)
        where S : struct, IOpSize
    {
        ulong src = cpu.ReadGpr(Reg1, S.Size);
        bool taken = cpu.Condition(ConditionOfCode[insnCode]);
        cpu.WriteGpr(Reg0, S.Size, taken ? src : cpu.ReadGpr(Reg0, S.Size));
    }

    [JitTwin(nameof(Cdqe), Pure = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CdqeJit(Cpu cpu) =>
        cpu._gpr[Gpr.Rax] = (ulong)(long)(int)cpu._gpr[Gpr.Rax];

    [JitTwin(nameof(MovImmediate), PureWithoutMemory = true)]
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
            cpu.WriteSized(JitLinear(cpu, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness), S.Size, Imm);
        }
    }

    [JitTwin(nameof(Movsx), PureWithoutMemory = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MovsxJit(Cpu cpu, OperandKind Kind1, byte Reg0, byte Reg1, byte OpSize, byte Op1Size, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
    {
        int srcSize = Op1Size;
        ulong v = Kind1 == OperandKind.Gpr
            ? cpu.ReadGpr(Reg1, srcSize)
            : cpu.ReadSized(JitLinear(cpu, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness), srcSize);
        int shift = 64 - srcSize * 8;
        cpu.WriteGpr(Reg0, OpSize, (ulong)((long)(v << shift) >> shift));
    }
}
