using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Data movement between registers, memory and immediates (Intel SDM Vol. 2): MOV (general
/// forms; the segment, control and debug register forms are overridden by the System and
/// Descriptors families, which register after this one), MOVZX, MOVSX, MOVSXD, LEA, XCHG, XLAT,
/// LAHF and SAHF. The NOP family is in <c>Hints.cs</c> (0x90 is NOP, not XCHG EAX,EAX: it must
/// not zero-extend RAX).
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterDataTransfer(HandlerRegistry r)
    {
        r.Add(Mnemonic.Mov, &Mov);

        // The general-purpose forms, compiled per width: MOV is a quarter of all instructions
        // SEC's decompressor runs, so it gets handlers with the direction and size fixed.
        r.Add(Code.Mov_r8_rm8, &MovLoad<S1>);
        r.Add(Code.Mov_r16_rm16, &MovLoad<S2>);
        r.Add(Code.Mov_r32_rm32, &MovLoad<S4>);
        r.Add(Code.Mov_r64_rm64, &MovLoad<S8>);
        r.Add(Code.Mov_rm8_r8, &MovStore<S1>);
        r.Add(Code.Mov_rm16_r16, &MovStore<S2>);
        r.Add(Code.Mov_rm32_r32, &MovStore<S4>);
        r.Add(Code.Mov_rm64_r64, &MovStore<S8>);
        r.Add(Code.Mov_r8_imm8, &MovImmediate<S1>);
        r.Add(Code.Mov_r16_imm16, &MovImmediate<S2>);
        r.Add(Code.Mov_r32_imm32, &MovImmediate<S4>);
        r.Add(Code.Mov_r64_imm64, &MovImmediate<S8>);
        r.Add(Code.Mov_rm8_imm8, &MovImmediate<S1>);
        r.Add(Code.Mov_rm16_imm16, &MovImmediate<S2>);
        r.Add(Code.Mov_rm32_imm32, &MovImmediate<S4>);
        r.Add(Code.Mov_rm64_imm32, &MovImmediate<S8>);
        r.AddRegisterForm(Code.Mov_r8_rm8, &MovRegReg<S1>);
        r.AddRegisterForm(Code.Mov_r16_rm16, &MovRegReg<S2>);
        r.AddRegisterForm(Code.Mov_r32_rm32, &MovRegReg<S4>);
        r.AddRegisterForm(Code.Mov_r64_rm64, &MovRegReg<S8>);
        r.AddRegisterForm(Code.Mov_rm8_r8, &MovRegReg<S1>);
        r.AddRegisterForm(Code.Mov_rm16_r16, &MovRegReg<S2>);
        r.AddRegisterForm(Code.Mov_rm32_r32, &MovRegReg<S4>);
        r.AddRegisterForm(Code.Mov_rm64_r64, &MovRegReg<S8>);
        r.AddRegisterForm(Code.Mov_r8_imm8, &MovRegImmediate<S1>);
        r.AddRegisterForm(Code.Mov_r16_imm16, &MovRegImmediate<S2>);
        r.AddRegisterForm(Code.Mov_r32_imm32, &MovRegImmediate<S4>);
        r.AddRegisterForm(Code.Mov_r64_imm64, &MovRegImmediate<S8>);
        r.AddRegisterForm(Code.Mov_rm8_imm8, &MovRegImmediate<S1>);
        r.AddRegisterForm(Code.Mov_rm16_imm16, &MovRegImmediate<S2>);
        r.AddRegisterForm(Code.Mov_rm32_imm32, &MovRegImmediate<S4>);
        r.AddRegisterForm(Code.Mov_rm64_imm32, &MovRegImmediate<S8>);
        r.Add(Mnemonic.Movsx, &Movsx);
        r.Add(Mnemonic.Movsxd, &Movsx);
        r.Add(Mnemonic.Lea, &Lea<S2>, &Lea<S2>, &Lea<S4>, &Lea<S8>);  // no byte form

        // MOVZX, every form: the LZMA decoder's byte and probability reads, with fixed widths.
        r.Add(Code.Movzx_r16_rm8, &Movzx<S2, S1>);
        r.Add(Code.Movzx_r16_rm16, &Movzx<S2, S2>);
        r.Add(Code.Movzx_r32_rm8, &Movzx<S4, S1>);
        r.Add(Code.Movzx_r64_rm8, &Movzx<S8, S1>);
        r.Add(Code.Movzx_r32_rm16, &Movzx<S4, S2>);
        r.Add(Code.Movzx_r64_rm16, &Movzx<S8, S2>);
        r.Add(Mnemonic.Xchg, &Xchg);
        r.Add(Mnemonic.Xlatb, &Xlat);
        r.Add(Mnemonic.Lahf, &Lahf);
        r.Add(Mnemonic.Sahf, &Sahf);
    }

    private static void Mov(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        cpu.WriteOp0(ref op, size, cpu.ReadOp1(ref op, size));
    }

    /// <summary>MOV reg, r/m.</summary>
    /// <remarks>
    /// The most frequent memory instruction of the boot: the TLB hit completes in the twin, a miss
    /// goes to <see cref="LoadSlow{TDst, TSrc}"/> as a tail call, so this compiles without a frame.
    /// </remarks>
    private static void MovLoad<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        MovLoadJit<S>(cpu, op.Kind1, op.Reg0, op.Reg1, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    /// <summary>A register load whose memory read missed the TLB fast path (page walk, page crossing, MMIO, faults).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LoadSlow<TDst, TSrc>(Cpu cpu, byte reg, ulong lin)
        where TDst : struct, IOpSize
        where TSrc : struct, IOpSize =>
        cpu.WriteGpr(reg, TDst.Size, cpu.ReadSized(lin, TSrc.Size));

    /// <summary>MOV reg, reg (the register form of both directions).</summary>
    private static void MovRegReg<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        MovRegRegJit<S>(cpu, op.Reg0, op.Reg1);

    /// <summary>MOV reg, imm.</summary>
    private static void MovRegImmediate<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        MovRegImmediateJit<S>(cpu, op.Reg0, op.Imm);

    /// <summary>MOV r/m, reg.</summary>
    private static void MovStore<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        MovStoreJit<S>(cpu, op.Kind0, op.Reg0, op.Reg1, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    /// <summary>A store that missed the TLB fast path (page walk, dirty bit, page crossing, code page, MMIO, faults).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StoreSlow<S>(Cpu cpu, ulong lin, ulong value)
        where S : struct, IOpSize =>
        cpu.WriteSized(lin, S.Size, value);

    /// <summary>MOV reg, imm and MOV r/m, imm (the immediate is already sign-extended by the decoder where the encoding says so).</summary>
    private static void MovImmediate<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        MovImmediateJit<S>(cpu, op.Kind0, op.Reg0, op.Imm, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    private static void Movzx<TDst, TSrc>(Cpu cpu, ref DecodedOp op)
        where TDst : struct, IOpSize
        where TSrc : struct, IOpSize =>
        MovzxJit<TDst, TSrc>(cpu, op.Kind1, op.Reg0, op.Reg1, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    /// <summary>MOVSX and MOVSXD: sign-extend operand 1 (8, 16 or 32 bits) to the destination size.</summary>
    private static void Movsx(Cpu cpu, ref DecodedOp op) =>
        MovsxJit(cpu, op.Kind1, op.Reg0, op.Reg1, op.OpSize, op.Op1Size, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    /// <summary>LEA: the offset is computed at the address size, then truncated or zero-extended to the operand size (SDM Vol. 2, LEA, Table 3-54).</summary>
    private static void Lea<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        LeaJit<S>(cpu, op.Reg0, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, NextRip(cpu, ref op));

    /// <summary>XCHG r/m, reg (and the accumulator short forms, where operand 1 is also a register).</summary>
    private static void Xchg(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong a = ReadDest(cpu, ref op, size, out ulong lin);
        ulong b = cpu.ReadGpr(op.Reg1, size);
        WriteDest(cpu, ref op, size, lin, b);
        cpu.WriteGpr(op.Reg1, size, a);
    }

    /// <summary>
    /// XLAT: AL = [seg:rBX + AL]. Computed here because Iced names AL as the index register and
    /// the shared effective-address helper would add all of RAX.
    /// </summary>
    private static void Xlat(Cpu cpu, ref DecodedOp op)
    {
        ulong offset = cpu._gpr[Gpr.Rbx] + (byte)cpu._gpr[Gpr.Rax];
        offset = op.AddrSize switch
        {
            8 => offset,
            4 => (uint)offset,
            _ => (ushort)offset,
        };
        cpu.WriteGpr(Gpr.Rax, 1, cpu.Read8(cpu.Linear(op.MemSeg, offset)));
    }

    /// <summary>LAHF: AH = SF:ZF:0:AF:0:PF:1:CF.</summary>
    private static void Lahf(Cpu cpu, ref DecodedOp op) =>
        cpu.WriteGpr(Gpr.HighByteBase + Gpr.Rax, 1, (cpu.GetFlags() & 0xD5) | RFlags.Reserved1);

    /// <summary>SAHF: SF, ZF, AF, PF, CF from AH; OF and the rest unchanged.</summary>
    private static void Sahf(Cpu cpu, ref DecodedOp op)
    {
        ulong ah = cpu.ReadGpr(Gpr.HighByteBase + Gpr.Rax, 1);
        cpu.SetFlags((cpu.GetFlags() & ~0xD5UL) | (ah & 0xD5));
    }
}
