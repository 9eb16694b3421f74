using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Data movement between registers, memory and immediates (Intel SDM Vol. 2): MOV (general
/// forms; the segment, control and debug register forms are overridden by the System and
/// Descriptors families, which register after this one), MOVZX, MOVSX, MOVSXD, LEA, XCHG, XLAT,
/// LAHF, SAHF and the NOP family (0x90 is NOP, not XCHG EAX,EAX: it must not zero-extend RAX).
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterDataTransfer(HandlerRegistry r)
    {
        r.Add(Mnemonic.Mov, &Mov);
        r.Add(Mnemonic.Movzx, &Movzx);
        r.Add(Mnemonic.Movsx, &Movsx);
        r.Add(Mnemonic.Movsxd, &Movsx);
        r.Add(Mnemonic.Lea, &Lea);
        r.Add(Mnemonic.Xchg, &Xchg);
        r.Add(Mnemonic.Xlatb, &Xlat);
        r.Add(Mnemonic.Lahf, &Lahf);
        r.Add(Mnemonic.Sahf, &Sahf);
        r.Add(Mnemonic.Nop, &Nop);
        r.Add(Mnemonic.Reservednop, &Nop);
        r.Add(Mnemonic.Pause, &Nop);
    }

    private static void Mov(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        cpu.WriteOp0(ref op, size, cpu.ReadOp1(ref op, size));
    }

    private static void Movzx(Cpu cpu, ref DecodedOp op) =>
        cpu.WriteGpr(op.Reg0, op.OpSize, cpu.ReadOp1(ref op, op.Op1Size));

    /// <summary>MOVSX and MOVSXD: sign-extend operand 1 (8, 16 or 32 bits) to the destination size.</summary>
    private static void Movsx(Cpu cpu, ref DecodedOp op)
    {
        int srcSize = op.Op1Size;
        ulong v = cpu.ReadOp1(ref op, srcSize);
        int shift = 64 - srcSize * 8;
        cpu.WriteGpr(op.Reg0, op.OpSize, (ulong)((long)(v << shift) >> shift));
    }

    /// <summary>LEA: the offset is computed at the address size, then truncated or zero-extended to the operand size (SDM Vol. 2, LEA, Table 3-54).</summary>
    private static void Lea(Cpu cpu, ref DecodedOp op) =>
        cpu.WriteGpr(op.Reg0, op.OpSize, cpu.EffectiveAddress(ref op));

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

    /// <summary>NOP, multi-byte NOP (0F 1F /0), the reserved-NOP hint space (0F 18..1F) and PAUSE.</summary>
    private static void Nop(Cpu cpu, ref DecodedOp op)
    {
    }
}
