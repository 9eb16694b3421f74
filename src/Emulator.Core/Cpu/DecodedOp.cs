using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>Where an operand lives, resolved once at decode time.</summary>
public enum OperandKind : byte
{
    None,
    Gpr,
    Memory,
    Immediate,
    Segment,
    Control,
    Debug,
    Xmm,
    St,
    Other,

    /// <summary>An MMX register MM0..MM7 (the significand of x87 register n).</summary>
    Mmx,
}

/// <summary>
/// One decoded instruction in a block: Iced's <see cref="Instruction"/> plus what the hot path
/// needs pre-resolved (handler, operand locations, effective-address parts), so executing it never
/// re-decodes or asks Iced for anything.
/// </summary>
public unsafe struct DecodedOp
{
    public const byte NoReg = 0xFF;

    /// <summary>The always-zero register slot: the base or index of a memory operand that has none.</summary>
    public const byte ZeroReg = 16;

    /// <summary>Marks RIP-relative addressing in <see cref="MemBase"/>: the address is next RIP + Disp.</summary>
    public const byte RipBase = 0xFE;

    public delegate*<Cpu, ref DecodedOp, void> Handler;

    public Instruction Insn;

    /// <summary>The first immediate operand as Iced reports it (sign-extended where the encoding says so).</summary>
    public ulong Imm;

    /// <summary>Memory displacement, or for relative branches the target minus the next instruction's address.</summary>
    public ulong Disp;

    public byte Length;

    /// <summary>Operand size in bytes (1, 2, 4, 8): the size of operand 0, or the instruction's operand size.</summary>
    public byte OpSize;

    /// <summary>Address size in bytes (2, 4, 8).</summary>
    public byte AddrSize;

    public OperandKind Kind0;
    public OperandKind Kind1;
    public OperandKind Kind2;

    /// <summary>Register numbers of operands 0..2 (GPR 0..15, AH..BH as 16..19; segment 0..5; CRn; DRn; XMMn; MMn).</summary>
    public byte Reg0;
    public byte Reg1;
    public byte Reg2;

    /// <summary>Base register (0..15), <see cref="ZeroReg"/> when none, or <see cref="RipBase"/>.</summary>
    public byte MemBase;

    /// <summary>Index register (0..15), or <see cref="ZeroReg"/> when none.</summary>
    public byte MemIndex;
    public byte MemScaleShift;

    /// <summary>64 minus the address size in bits: the effective address is masked with <c>ulong.MaxValue &gt;&gt; EaMaskShift</c>.</summary>
    public byte EaMaskShift;
    public byte MemSeg;

    /// <summary>Size of the memory operand in bytes (0 when none).</summary>
    public byte MemSize;

    /// <summary>Size in bytes of operand 1 when it differs from <see cref="OpSize"/> (MOVZX, MOVSX, shifts by CL).</summary>
    public byte Op1Size;

    /// <summary>REP/REPE (1) or REPNE (2) prefix on a string instruction, else 0.</summary>
    public byte Rep;

    /// <summary>
    /// 1 when an earlier instruction of the same block writes flags. QEMU's translator knows the
    /// flag state statically only within a translation block, and some undefined-flag results
    /// (BT's OF/SF/PF) depend on it; our blocks end where QEMU's TBs do (branches), so this lets
    /// us reproduce them.
    /// </summary>
    public byte FlagsWrittenInBlock;

    public readonly Code Code => Insn.Code;
}
