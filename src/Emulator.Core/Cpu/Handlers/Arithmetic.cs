using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Integer arithmetic (Intel SDM Vol. 2): ADD, ADC, SUB, SBB, CMP (their bodies are the operations
/// in <c>AluForms.cs</c>), INC, DEC, NEG, XADD, CMPXCHG,
/// CMPXCHG8B/16B and the sign extensions CBW/CWDE/CDQE, CWD/CDQ/CQO. MUL/IMUL/DIV/IDIV and the
/// BCD adjustments are in <c>MulDiv.cs</c>. One body per operation, generic over the operand
/// size so the JIT folds every width test away; flags are recorded lazily (<c>Cpu.Flags.cs</c>).
/// Where the SDM leaves a result open, the handlers do what QEMU 7.2's TCG does, our reference.
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>An operand size as a type, so a generic handler is compiled once per width with the size a constant.</summary>
    internal interface IOpSize
    {
        static abstract int Size { get; }
    }

    internal readonly struct S1 : IOpSize
    {
        public static int Size => 1;
    }

    internal readonly struct S2 : IOpSize
    {
        public static int Size => 2;
    }

    internal readonly struct S4 : IOpSize
    {
        public static int Size => 4;
    }

    internal readonly struct S8 : IOpSize
    {
        public static int Size => 8;
    }

    internal static void RegisterArithmetic(HandlerRegistry r)
    {
        r.Add(Mnemonic.Inc,     &Inc<S1>,     &Inc<S2>,     &Inc<S4>,     &Inc<S8>);
        r.Add(Mnemonic.Dec,     &Dec<S1>,     &Dec<S2>,     &Dec<S4>,     &Dec<S8>);
        foreach (var code in HandlerRegistry.CodesOf(Mnemonic.Inc))
        {
            r.AddRegisterForm(code, 1, &IncReg<S1>);
            r.AddRegisterForm(code, 2, &IncReg<S2>);
            r.AddRegisterForm(code, 4, &IncReg<S4>);
            r.AddRegisterForm(code, 8, &IncReg<S8>);
        }

        foreach (var code in HandlerRegistry.CodesOf(Mnemonic.Dec))
        {
            r.AddRegisterForm(code, 1, &DecReg<S1>);
            r.AddRegisterForm(code, 2, &DecReg<S2>);
            r.AddRegisterForm(code, 4, &DecReg<S4>);
            r.AddRegisterForm(code, 8, &DecReg<S8>);
        }

        r.Add(Mnemonic.Neg,     &Neg<S1>,     &Neg<S2>,     &Neg<S4>,     &Neg<S8>);
        r.Add(Mnemonic.Xadd,    &Xadd<S1>,    &Xadd<S2>,    &Xadd<S4>,    &Xadd<S8>);
        r.Add(Mnemonic.Cmpxchg, &Cmpxchg<S1>, &Cmpxchg<S2>, &Cmpxchg<S4>, &Cmpxchg<S8>);
        r.Add(Code.Cmpxchg8b_m64,   &Cmpxchg8b);
        r.Add(Code.Cmpxchg16b_m128, &Cmpxchg16b);
        r.Add(Code.Cbw,  &Cbw);
        r.Add(Code.Cwde, &Cwde);
        r.Add(Code.Cdqe, &Cdqe);
        r.Add(Code.Cwd,  &Cwd);
        r.Add(Code.Cdq,  &Cdq);
        r.Add(Code.Cqo,  &Cqo);
        RegisterMulDiv(r);
        RegisterAluForms<AddOp>(r, Mnemonic.Add);
        RegisterAluForms<AdcOp>(r, Mnemonic.Adc);
        RegisterAluForms<SubOp>(r, Mnemonic.Sub);
        RegisterAluForms<SbbOp>(r, Mnemonic.Sbb);
        RegisterAluForms<CmpOp>(r, Mnemonic.Cmp);
    }

    /// <summary>Reads operand 0 for a read-modify-write, returning its linear address when it is memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ReadDest(Cpu cpu, ref DecodedOp op, int size, out ulong lin) =>
        ReadDest(cpu, size, op.Kind0, op.Reg0, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness, out lin);

    /// <summary><see cref="ReadDest(Cpu, ref DecodedOp, int, out ulong)"/> from the operand's parts (the twins pass them as constants).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ReadDest(Cpu cpu, int size, OperandKind Kind0, byte Reg0, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness, out ulong lin)
    {
        if (Kind0 == OperandKind.Gpr)
        {
            lin = 0;
            return cpu.ReadGpr(Reg0, size);
        }

        lin = cpu.MemLinear(MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        return cpu.ReadSized(lin, size);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WriteDest(Cpu cpu, ref DecodedOp op, int size, ulong lin, ulong value) =>
        WriteDest(cpu, size, op.Kind0, op.Reg0, lin, value);

    /// <summary>Writes operand 0 of a read-modify-write: the register, or the linear address <see cref="ReadDest(Cpu, ref DecodedOp, int, out ulong)"/> returned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WriteDest(Cpu cpu, int size, OperandKind Kind0, byte Reg0, ulong lin, ulong value)
    {
        if (Kind0 == OperandKind.Gpr)
        {
            cpu.WriteGpr(Reg0, size, value);
        }
        else
        {
            cpu.WriteSized(lin, size, value);
        }
    }

    /// <summary>Sign-extends the low <paramref name="size"/> bytes of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long SignExtend(ulong value, int size)
    {
        int shift = 64 - size * 8;
        return (long)(value << shift) >> shift;
    }

    private static void Inc<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        IncJit<S>(cpu, op.Kind0, op.Reg0, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    private static void IncReg<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        IncRegJit<S>(cpu, op.Reg0);

    private static void DecReg<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        DecRegJit<S>(cpu, op.Reg0);

    private static void Dec<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        DecJit<S>(cpu, op.Kind0, op.Reg0, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    private static void Neg<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        ulong src = ReadDest(cpu, ref op, S.Size, out ulong lin);
        ulong res = 0 - src;
        WriteDest(cpu, ref op, S.Size, lin, res);

        // NEG is 0 - src: CF = (src != 0), the rest as for SUB (SDM Vol. 2, NEG).
        cpu.SetLazy(LazyOp.Sub, S.Size, 0, src, res);
    }

    /// <summary>
    /// XADD: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP. With a register destination the source
    /// register is written first, so <c>xadd eax, eax</c> leaves the sum. A LOCK prefix changes
    /// nothing on one interpreted CPU.
    /// </summary>
    private static void Xadd<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        ulong dst = ReadDest(cpu, ref op, S.Size, out ulong lin);
        ulong src = cpu.ReadGpr(op.Reg1, S.Size);
        ulong sum = dst + src;
        if (op.Kind0 == OperandKind.Gpr)
        {
            cpu.WriteGpr(op.Reg1, S.Size, dst);
            cpu.WriteGpr(op.Reg0, S.Size, sum);
        }
        else
        {
            // Store first: if it faults, the register still holds its old value.
            cpu.WriteSized(lin, S.Size, sum);
            cpu.WriteGpr(op.Reg1, S.Size, dst);
        }

        cpu.SetLazy(LazyOp.Add, S.Size, dst, src, sum);
    }

    /// <summary>
    /// CMPXCHG: compare the accumulator with DEST; equal → DEST = SRC, else accumulator = DEST.
    /// Only the register that receives a value is written (so a 32-bit CMPXCHG zero-extends RAX
    /// only when it fails, and its register destination only when it succeeds), but a memory
    /// destination is always written, with its own value on failure (SDM Vol. 2, CMPXCHG). QEMU
    /// 7.2 as Debian ships it does the same. Flags are those of CMP accumulator, DEST.
    /// </summary>
    private static void Cmpxchg<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        ulong old = ReadDest(cpu, ref op, S.Size, out ulong lin);
        ulong acc = cpu.ReadGpr(Gpr.Rax, S.Size);
        bool equal = old == acc;
        if (equal)
        {
            WriteDest(cpu, ref op, S.Size, lin, cpu.ReadGpr(op.Reg1, S.Size));
        }
        else
        {
            if (op.Kind0 != OperandKind.Gpr)
            {
                cpu.WriteSized(lin, S.Size, old);
            }

            cpu.WriteGpr(Gpr.Rax, S.Size, old);
        }

        cpu.SetLazy(LazyOp.Sub, S.Size, acc, old, acc - old);
    }

    /// <summary>CMPXCHG8B m64: EDX:EAX against memory; ZF only, the other flags kept (QEMU: materialised EFLAGS).</summary>
    private static void Cmpxchg8b(Cpu cpu, ref DecodedOp op)
    {
        ulong lin = cpu.MemLinear(ref op);
        ulong old = cpu.Read64(lin);
        ulong cmp = ((ulong)(uint)cpu._gpr[Gpr.Rdx] << 32) | (uint)cpu._gpr[Gpr.Rax];
        bool equal = old == cmp;
        ulong value = equal ? ((ulong)(uint)cpu._gpr[Gpr.Rcx] << 32) | (uint)cpu._gpr[Gpr.Rbx] : old;

        // The store happens whatever the outcome, as on hardware (SDM: "written back").
        cpu.Write64(lin, value);
        if (!equal)
        {
            cpu._gpr[Gpr.Rax] = (uint)old;
            cpu._gpr[Gpr.Rdx] = old >> 32;
        }

        cpu.SetFlag(RFlags.ZF, equal);
    }

    /// <summary>CMPXCHG16B m128: RDX:RAX against memory; #GP(0) unless the address is 16-byte aligned.</summary>
    private static void Cmpxchg16b(Cpu cpu, ref DecodedOp op)
    {
        ulong lin = cpu.MemLinear(ref op);
        if ((lin & 15) != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        ulong lo = cpu.Read64(lin);
        ulong hi = cpu.Read64(lin + 8);
        bool equal = lo == cpu._gpr[Gpr.Rax] && hi == cpu._gpr[Gpr.Rdx];
        if (equal)
        {
            lo = cpu._gpr[Gpr.Rbx];
            hi = cpu._gpr[Gpr.Rcx];
        }

        cpu.Write64(lin, lo);
        cpu.Write64(lin + 8, hi);
        if (!equal)
        {
            cpu._gpr[Gpr.Rax] = lo;
            cpu._gpr[Gpr.Rdx] = hi;
        }

        cpu.SetFlag(RFlags.ZF, equal);
    }

    private static void Cbw(Cpu cpu, ref DecodedOp op) =>
        cpu.WriteGpr(Gpr.Rax, 2, (ulong)(long)(sbyte)cpu._gpr[Gpr.Rax]);

    private static void Cwde(Cpu cpu, ref DecodedOp op) =>
        cpu.WriteGpr(Gpr.Rax, 4, (ulong)(long)(short)cpu._gpr[Gpr.Rax]);

    private static void Cdqe(Cpu cpu, ref DecodedOp op) =>
        CdqeJit(cpu);

    private static void Cwd(Cpu cpu, ref DecodedOp op) =>
        cpu.WriteGpr(Gpr.Rdx, 2, (ulong)((short)cpu._gpr[Gpr.Rax] >> 15));

    private static void Cdq(Cpu cpu, ref DecodedOp op) =>
        cpu.WriteGpr(Gpr.Rdx, 4, (ulong)((int)cpu._gpr[Gpr.Rax] >> 31));

    private static void Cqo(Cpu cpu, ref DecodedOp op) =>
        cpu._gpr[Gpr.Rdx] = (ulong)((long)cpu._gpr[Gpr.Rax] >> 63);
}
