using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The two-operand ALU instructions (ADD, ADC, SUB, SBB, CMP, AND, OR, XOR, TEST), the bulk of
/// what SEC's LZMA decoder executes: one body per operation, compiled per encoding form (r/m,reg;
/// reg,r/m; r/m,imm) and width, so each handler is straight-line code. The result is written
/// before flags are recorded, so a faulting store leaves the flags untouched. XOR's register
/// forms stay with Logic.cs, which knows the zeroing idiom.
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>One ALU operation: the result, and the lazy flags it records.</summary>
    internal interface IAluOp
    {
        static abstract bool WritesResult { get; }

        static abstract ulong Compute(Cpu cpu, ulong dst, ulong src);

        static abstract void RecordFlags(Cpu cpu, int size, ulong dst, ulong src, ulong res);
    }

    internal readonly struct AddOp : IAluOp
    {
        public static bool WritesResult => true;

        public static ulong Compute(Cpu cpu, ulong dst, ulong src) => dst + src;

        public static void RecordFlags(Cpu cpu, int size, ulong dst, ulong src, ulong res) => cpu.SetLazy(LazyOp.Add, size, dst, src, res);
    }

    internal readonly struct AdcOp : IAluOp
    {
        public static bool WritesResult => true;

        public static ulong Compute(Cpu cpu, ulong dst, ulong src) => dst + src + (cpu.GetCF() ? 1UL : 0UL);

        public static void RecordFlags(Cpu cpu, int size, ulong dst, ulong src, ulong res)
        {
            ulong carry = (res - dst - src) & 1;
            cpu.SetLazy(LazyOp.Adc, size, dst, src, res);
            cpu._lazyAux = carry;
        }
    }

    internal readonly struct SubOp : IAluOp
    {
        public static bool WritesResult => true;

        public static ulong Compute(Cpu cpu, ulong dst, ulong src) => dst - src;

        public static void RecordFlags(Cpu cpu, int size, ulong dst, ulong src, ulong res) => cpu.SetLazy(LazyOp.Sub, size, dst, src, res);
    }

    internal readonly struct SbbOp : IAluOp
    {
        public static bool WritesResult => true;

        public static ulong Compute(Cpu cpu, ulong dst, ulong src) => dst - src - (cpu.GetCF() ? 1UL : 0UL);

        public static void RecordFlags(Cpu cpu, int size, ulong dst, ulong src, ulong res)
        {
            ulong borrow = (dst - src - res) & 1;
            cpu.SetLazy(LazyOp.Sbb, size, dst, src, res);
            cpu._lazyAux = borrow;
        }
    }

    internal readonly struct CmpOp : IAluOp
    {
        public static bool WritesResult => false;

        public static ulong Compute(Cpu cpu, ulong dst, ulong src) => dst - src;

        public static void RecordFlags(Cpu cpu, int size, ulong dst, ulong src, ulong res) => cpu.SetLazy(LazyOp.Sub, size, dst, src, res);
    }

    internal readonly struct AndOp : IAluOp
    {
        public static bool WritesResult => true;

        public static ulong Compute(Cpu cpu, ulong dst, ulong src) => dst & src;

        public static void RecordFlags(Cpu cpu, int size, ulong dst, ulong src, ulong res) => cpu.SetLogicFlags(size, res);
    }

    internal readonly struct OrOp : IAluOp
    {
        public static bool WritesResult => true;

        public static ulong Compute(Cpu cpu, ulong dst, ulong src) => dst | src;

        public static void RecordFlags(Cpu cpu, int size, ulong dst, ulong src, ulong res) => cpu.SetLogicFlags(size, res);
    }

    internal readonly struct XorOp : IAluOp
    {
        public static bool WritesResult => true;

        public static ulong Compute(Cpu cpu, ulong dst, ulong src) => dst ^ src;

        public static void RecordFlags(Cpu cpu, int size, ulong dst, ulong src, ulong res) => cpu.SetLogicFlags(size, res);
    }

    internal readonly struct TestOp : IAluOp
    {
        public static bool WritesResult => false;

        public static ulong Compute(Cpu cpu, ulong dst, ulong src) => dst & src;

        public static void RecordFlags(Cpu cpu, int size, ulong dst, ulong src, ulong res) => cpu.SetLogicFlags(size, res);
    }

    /// <summary>Registers the form-specialised handlers for every encoding of <paramref name="mnemonic"/>.</summary>
    /// <param name="registerOperandForms">False for XOR: its r/m,reg forms keep the generic handler, which knows the zeroing idiom.</param>
    private static void RegisterAluForms<TOp>(HandlerRegistry r, Mnemonic mnemonic, bool registerOperandForms = true)
        where TOp : struct, IAluOp
    {
        foreach (var code in HandlerRegistry.CodesOf(mnemonic))
        {
            var info = code.ToOpCode();
            if (info.OpCount != 2)
            {
                continue;
            }

            var k0 = info.GetOpKind(0);
            var k1 = info.GetOpKind(1);
            int size = OperandWidth(k0);
            if (size == 0)
            {
                continue;
            }

            if (IsImmediate(k1))
            {
                r.Add(code, size switch { 1 => &AluRmImm<S1, TOp>, 2 => &AluRmImm<S2, TOp>, 4 => &AluRmImm<S4, TOp>, _ => &AluRmImm<S8, TOp> });
                r.AddRegisterForm(code, size switch { 1 => &AluRegImm<S1, TOp>, 2 => &AluRegImm<S2, TOp>, 4 => &AluRegImm<S4, TOp>, _ => &AluRegImm<S8, TOp> });
            }
            else if (registerOperandForms && IsRegisterOrMemory(k0) && IsRegister(k1))
            {
                r.Add(code, size switch { 1 => &AluRmReg<S1, TOp>, 2 => &AluRmReg<S2, TOp>, 4 => &AluRmReg<S4, TOp>, _ => &AluRmReg<S8, TOp> });
                r.AddRegisterForm(code, size switch { 1 => &AluRegReg<S1, TOp>, 2 => &AluRegReg<S2, TOp>, 4 => &AluRegReg<S4, TOp>, _ => &AluRegReg<S8, TOp> });
            }
            else if (registerOperandForms && IsRegister(k0) && IsRegisterOrMemory(k1))
            {
                r.Add(code, size switch { 1 => &AluRegRm<S1, TOp>, 2 => &AluRegRm<S2, TOp>, 4 => &AluRegRm<S4, TOp>, _ => &AluRegRm<S8, TOp> });
                r.AddRegisterForm(code, size switch { 1 => &AluRegReg<S1, TOp>, 2 => &AluRegReg<S2, TOp>, 4 => &AluRegReg<S4, TOp>, _ => &AluRegReg<S8, TOp> });
            }
        }
    }

    private static int OperandWidth(OpCodeOperandKind k) => k switch
    {
        OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r8_reg or OpCodeOperandKind.al => 1,
        OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r16_reg or OpCodeOperandKind.ax => 2,
        OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r32_reg or OpCodeOperandKind.eax => 4,
        OpCodeOperandKind.r64_or_mem or OpCodeOperandKind.r64_reg or OpCodeOperandKind.rax => 8,
        _ => 0,
    };

    private static bool IsImmediate(OpCodeOperandKind k) => k is OpCodeOperandKind.imm8 or OpCodeOperandKind.imm16 or
        OpCodeOperandKind.imm32 or OpCodeOperandKind.imm8sex16 or OpCodeOperandKind.imm8sex32 or OpCodeOperandKind.imm8sex64 or
        OpCodeOperandKind.imm32sex64;

    private static bool IsRegister(OpCodeOperandKind k) => k is OpCodeOperandKind.r8_reg or OpCodeOperandKind.r16_reg or
        OpCodeOperandKind.r32_reg or OpCodeOperandKind.r64_reg;

    private static bool IsRegisterOrMemory(OpCodeOperandKind k) => k is OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r16_or_mem or
        OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r64_or_mem;

    /// <summary>op r/m, reg.</summary>
    private static void AluRmReg<S, TOp>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluRmRegJit<S, TOp>(cpu, op.Kind0, op.Reg0, op.Reg1, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    /// <summary>op r/m, imm (and the accumulator short forms): the immediate is already sign-extended.</summary>
    private static void AluRmImm<S, TOp>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluRmImmJit<S, TOp>(cpu, op.Kind0, op.Reg0, op.Imm, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    /// <summary>op reg, r/m.</summary>
    private static void AluRegRm<S, TOp>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluRegRmJit<S, TOp>(cpu, op.Kind1, op.Reg0, op.Reg1, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness, recordFlags: true);

    /// <summary>
    /// op reg, reg: both operands registers (the register form of the r/m,reg and reg,r/m
    /// encodings). Kept with a body of its own until 2026-12 because calling the twin measured
    /// ~15 % slower interpreted; re-measured on .NET 10 the JIT emits the same instructions both
    /// ways (docs/performance.md, "One body per instruction").
    /// </summary>
    private static void AluRegReg<S, TOp>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluRegRegJit<S, TOp>(cpu, op.Reg0, op.Reg1, recordFlags: true);

    /// <summary>op reg, imm: the register form of r/m,imm.</summary>
    private static void AluRegImm<S, TOp>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
        where TOp : struct, IAluOp =>
        AluRegImmJit<S, TOp>(cpu, op.Reg0, op.Imm, recordFlags: true);
}
