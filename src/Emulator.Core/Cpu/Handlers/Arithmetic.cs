using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// ADD, ADC, SUB, SBB, CMP, INC, DEC, NEG (Intel SDM Vol. 2). One body per operation over every
/// operand form (r/m,reg; reg,r/m; r/m,imm; accumulator,imm) and width; flags are recorded
/// lazily (see <c>Cpu.Flags.cs</c>).
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterArithmetic(HandlerRegistry r)
    {
        r.Add(Mnemonic.Add, &Add);
        r.Add(Mnemonic.Adc, &Adc);
        r.Add(Mnemonic.Sub, &Sub);
        r.Add(Mnemonic.Sbb, &Sbb);
        r.Add(Mnemonic.Cmp, &Cmp);
        r.Add(Mnemonic.Inc, &Inc);
        r.Add(Mnemonic.Dec, &Dec);
        r.Add(Mnemonic.Neg, &Neg);
    }

    /// <summary>Reads operand 0 for a read-modify-write, returning its linear address when it is memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ReadDest(Cpu cpu, ref DecodedOp op, int size, out ulong lin)
    {
        if (op.Kind0 == OperandKind.Gpr)
        {
            lin = 0;
            return cpu.ReadGpr(op.Reg0, size);
        }

        lin = cpu.MemLinear(ref op);
        return cpu.ReadSized(lin, size);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WriteDest(Cpu cpu, ref DecodedOp op, int size, ulong lin, ulong value)
    {
        if (op.Kind0 == OperandKind.Gpr)
        {
            cpu.WriteGpr(op.Reg0, size, value);
        }
        else
        {
            cpu.WriteSized(lin, size, value);
        }
    }

    private static void Add(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong dst = ReadDest(cpu, ref op, size, out ulong lin);
        ulong src = cpu.ReadOp1(ref op, size);
        ulong res = dst + src;
        WriteDest(cpu, ref op, size, lin, res);
        cpu.SetLazy(LazyOp.Add, size, dst, src, res);
    }

    private static void Adc(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong dst = ReadDest(cpu, ref op, size, out ulong lin);
        ulong src = cpu.ReadOp1(ref op, size);
        ulong carry = cpu.GetCF() ? 1UL : 0UL;
        ulong res = dst + src + carry;
        WriteDest(cpu, ref op, size, lin, res);
        cpu.SetLazy(LazyOp.Adc, size, dst, src, res);
        cpu._lazyAux = carry;
    }

    private static void Sub(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong dst = ReadDest(cpu, ref op, size, out ulong lin);
        ulong src = cpu.ReadOp1(ref op, size);
        ulong res = dst - src;
        WriteDest(cpu, ref op, size, lin, res);
        cpu.SetLazy(LazyOp.Sub, size, dst, src, res);
    }

    private static void Sbb(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong dst = ReadDest(cpu, ref op, size, out ulong lin);
        ulong src = cpu.ReadOp1(ref op, size);
        ulong borrow = cpu.GetCF() ? 1UL : 0UL;
        ulong res = dst - src - borrow;
        WriteDest(cpu, ref op, size, lin, res);
        cpu.SetLazy(LazyOp.Sbb, size, dst, src, res);
        cpu._lazyAux = borrow;
    }

    private static void Cmp(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong dst = cpu.ReadOp0(ref op, size);
        ulong src = cpu.ReadOp1(ref op, size);
        cpu.SetLazy(LazyOp.Sub, size, dst, src, dst - src);
    }

    private static void Inc(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong dst = ReadDest(cpu, ref op, size, out ulong lin);
        ulong res = dst + 1;
        WriteDest(cpu, ref op, size, lin, res);
        cpu.SetIncDec(true, size, dst, res);
    }

    private static void Dec(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong dst = ReadDest(cpu, ref op, size, out ulong lin);
        ulong res = dst - 1;
        WriteDest(cpu, ref op, size, lin, res);
        cpu.SetIncDec(false, size, dst, res);
    }

    private static void Neg(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong src = ReadDest(cpu, ref op, size, out ulong lin);
        ulong res = 0 - src;
        WriteDest(cpu, ref op, size, lin, res);

        // NEG is 0 - src: CF = (src != 0), the rest as for SUB (SDM Vol. 2, NEG).
        cpu.SetLazy(LazyOp.Sub, size, 0, src, res);
    }
}
