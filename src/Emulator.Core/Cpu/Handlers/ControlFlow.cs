using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Near control transfers and software interrupts (Intel SDM Vol. 2): JMP, Jcc, JCXZ/JECXZ/JRCXZ,
/// LOOP/LOOPE/LOOPNE, near CALL and RET, INT n/INT3/INT1/INTO and UD0/UD1/UD2. Relative targets
/// are the next instruction's address plus the decoded displacement, wrapped to the operand size.
/// The count register of JCXZ/LOOP follows the address size, which is fixed per Iced code, so each
/// width has its own handler. Far transfers, RETF and IRET are in <c>ControlFlow.Far.cs</c>.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterControlFlow(HandlerRegistry r)
    {
        r.Add(Mnemonic.Jmp, &JmpIndirect);
        foreach (var code in new[] { Code.Jmp_rel8_16, Code.Jmp_rel8_32, Code.Jmp_rel8_64, Code.Jmp_rel16, Code.Jmp_rel32_32, Code.Jmp_rel32_64 })
        {
            r.Add(code, &JmpRelative);
        }

        r.Add(Mnemonic.Jo, &Jo);
        r.Add(Mnemonic.Jno, &Jno);
        r.Add(Mnemonic.Jb, &Jb);
        r.Add(Mnemonic.Jae, &Jae);
        r.Add(Mnemonic.Je, &Je);
        r.Add(Mnemonic.Jne, &Jne);
        r.Add(Mnemonic.Jbe, &Jbe);
        r.Add(Mnemonic.Ja, &Ja);
        r.Add(Mnemonic.Js, &Js);
        r.Add(Mnemonic.Jns, &Jns);
        r.Add(Mnemonic.Jp, &Jp);
        r.Add(Mnemonic.Jnp, &Jnp);
        r.Add(Mnemonic.Jl, &Jl);
        r.Add(Mnemonic.Jge, &Jge);
        r.Add(Mnemonic.Jle, &Jle);
        r.Add(Mnemonic.Jg, &Jg);
        r.Add(Mnemonic.Jcxz, &JcxzW);
        r.Add(Mnemonic.Jecxz, &JcxzD);
        r.Add(Mnemonic.Jrcxz, &JcxzQ);
        foreach (var code in HandlerRegistry.CodesOf(Mnemonic.Loop).Concat(HandlerRegistry.CodesOf(Mnemonic.Loope)).Concat(HandlerRegistry.CodesOf(Mnemonic.Loopne)))
        {
            var mnemonic = code.Mnemonic();
            int addressSize = code.ToOpCode().AddressSize;
            r.Add(code, (mnemonic, addressSize) switch
            {
                (Mnemonic.Loop, 16) => &LoopW,
                (Mnemonic.Loop, 32) => &LoopD,
                (Mnemonic.Loop, _) => &LoopQ,
                (Mnemonic.Loope, 16) => &LoopeW,
                (Mnemonic.Loope, 32) => &LoopeD,
                (Mnemonic.Loope, _) => &LoopeQ,
                (_, 16) => &LoopneW,
                (_, 32) => &LoopneD,
                _ => &LoopneQ,
            });
        }

        r.Add(Mnemonic.Call, &CallIndirect);
        r.Add(Code.Call_rel16, &CallRelative);
        r.Add(Code.Call_rel32_32, &CallRelative);
        r.Add(Code.Call_rel32_64, &CallRelative);
        r.Add(Mnemonic.Ret, &RetNear);
        r.Add(Mnemonic.Int, &IntN);
        r.Add(Mnemonic.Int3, &Int3);
        // ICEBP (F1) is #UD on QEMU 7.2: its case in disas_insn sits under #ifdef WANT_ICEBP,
        // which nothing defines (target/i386/tcg/translate.c).
        r.Add(Mnemonic.Int1, &Ud);
        r.Add(Code.Bound_r16_m1616, &Bound16);
        r.Add(Code.Bound_r32_m3232, &Bound32);
        r.Add(Mnemonic.Into, &Into);
        r.Add(Mnemonic.Ud0, &Ud);
        r.Add(Mnemonic.Ud1, &Ud);
        r.Add(Mnemonic.Ud2, &Ud);
        RegisterFarControlFlow(r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void JumpIf(Cpu cpu, ref DecodedOp op, bool taken)
    {
        if (taken)
        {
            JmpRelativeJit(cpu, op.Disp, op.OpSize);
        }
    }

    private static void JmpRelative(Cpu cpu, ref DecodedOp op) => JmpRelativeJit(cpu, op.Disp, op.OpSize);

    /// <summary>JMP r/m (registered for the whole mnemonic; the relative and far forms are overridden by exact code).</summary>
    private static void JmpIndirect(Cpu cpu, ref DecodedOp op) =>
        JmpIndirectJit(cpu, op.OpSize, op.Kind0, op.Reg0, op.Imm, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    private static void Jo(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 0, op.Disp, op.OpSize);

    private static void Jno(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 1, op.Disp, op.OpSize);

    private static void Jb(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 2, op.Disp, op.OpSize);

    private static void Jae(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 3, op.Disp, op.OpSize);

    private static void Je(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 4, op.Disp, op.OpSize);

    private static void Jne(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 5, op.Disp, op.OpSize);

    private static void Jbe(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 6, op.Disp, op.OpSize);

    private static void Ja(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 7, op.Disp, op.OpSize);

    private static void Js(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 8, op.Disp, op.OpSize);

    private static void Jns(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 9, op.Disp, op.OpSize);

    private static void Jp(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 10, op.Disp, op.OpSize);

    private static void Jnp(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 11, op.Disp, op.OpSize);

    private static void Jl(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 12, op.Disp, op.OpSize);

    private static void Jge(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 13, op.Disp, op.OpSize);

    private static void Jle(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 14, op.Disp, op.OpSize);

    private static void Jg(Cpu cpu, ref DecodedOp op) => JccJit(cpu, 15, op.Disp, op.OpSize);

    private static void JcxzW(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, (ushort)cpu._gpr[Gpr.Rcx] == 0);

    private static void JcxzD(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, (uint)cpu._gpr[Gpr.Rcx] == 0);

    private static void JcxzQ(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, cpu._gpr[Gpr.Rcx] == 0);

    /// <summary>Decrements the count register at the address size (flags untouched); true when it is still non-zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool DecrementCount(Cpu cpu, int countSize)
    {
        ulong count = (cpu._gpr[Gpr.Rcx] - 1) & Cpu.Mask(countSize);
        cpu.WriteGpr(Gpr.Rcx, countSize, count);
        return count != 0;
    }

    private static void LoopW(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, DecrementCount(cpu, 2));

    private static void LoopD(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, DecrementCount(cpu, 4));

    private static void LoopQ(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, DecrementCount(cpu, 8));

    private static void LoopeW(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, DecrementCount(cpu, 2) && cpu.GetZF());

    private static void LoopeD(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, DecrementCount(cpu, 4) && cpu.GetZF());

    private static void LoopeQ(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, DecrementCount(cpu, 8) && cpu.GetZF());

    private static void LoopneW(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, DecrementCount(cpu, 2) && !cpu.GetZF());

    private static void LoopneD(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, DecrementCount(cpu, 4) && !cpu.GetZF());

    private static void LoopneQ(Cpu cpu, ref DecodedOp op) => JumpIf(cpu, ref op, DecrementCount(cpu, 8) && !cpu.GetZF());

    private static void CallRelative(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong ret = cpu._nextRip;
        cpu.Push(size, ret);
        cpu._nextRip = Cpu.IpMask(ret + op.Disp, size);
    }

    /// <summary>CALL r/m: the target is read before the return address is pushed (CALL [RSP] uses the old RSP).</summary>
    private static void CallIndirect(Cpu cpu, ref DecodedOp op) =>
        CallIndirectJit(cpu, op.OpSize, op.Kind0, op.Reg0, op.Imm, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    /// <summary>RET and RET imm16: pop the return address, then release imm16 bytes of arguments.</summary>
    private static void RetNear(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong target = cpu.PeekStack(size, 0);
        ulong release = op.Kind0 == OperandKind.Immediate ? (ushort)op.Imm : 0UL;
        cpu.SetSp(cpu._gpr[Gpr.Rsp] + (ulong)size + release);
        cpu._nextRip = Cpu.IpMask(target, size);
    }

    /// <summary>INT n; in virtual-8086 mode it needs IOPL 3, else #GP(0) (QEMU's check_vm86_iopl; INT3 and INTO do not).</summary>
    private static void IntN(Cpu cpu, ref DecodedOp op)
    {
        if ((cpu._flags & RFlags.VM) != 0 && (cpu._flags & RFlags.IOPL) != RFlags.IOPL)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        SoftwareInterrupt(cpu, (byte)op.Imm);
    }

    private static void Int3(Cpu cpu, ref DecodedOp op) => SoftwareInterrupt(cpu, Vector.BP);

    private static void Into(Cpu cpu, ref DecodedOp op)
    {
        if (cpu.GetOF())
        {
            SoftwareInterrupt(cpu, Vector.OF);
        }
    }

    private static void Ud(Cpu cpu, ref DecodedOp op) => throw new GuestFault(Vector.UD);

    /// <summary>
    /// BOUND r, m (QEMU helper_boundw / helper_boundl): both signed bounds are read (either read
    /// may fault), then #BR (vector 5, a fault) when the register is below the first or above
    /// the second. The second bound is at the operand's linear address + the operand size, not
    /// wrapped at the address size (QEMU adds to A0). Not encodable in 64-bit mode (62 is EVEX
    /// there; QEMU #UD).
    /// </summary>
    private static void Bound16(Cpu cpu, ref DecodedOp op) => Bound(cpu, ref op, 2);

    private static void Bound32(Cpu cpu, ref DecodedOp op) => Bound(cpu, ref op, 4);

    private static void Bound(Cpu cpu, ref DecodedOp op, int size)
    {
        int shift = 64 - (8 * size);
        ulong lin = cpu.MemLinear(ref op);
        long low = (long)(cpu.ReadSized(lin, size) << shift) >> shift;
        long high = (long)(cpu.ReadSized(cpu.WrapLinear(lin + (ulong)size), size) << shift) >> shift;
        long v = (long)(cpu.ReadGpr(op.Reg0, size) << shift) >> shift;
        if (v < low || v > high)
        {
            throw new GuestFault(Vector.BR);
        }
    }

    /// <summary>
    /// INT n, INT3, INTO: a trap, so the frame holds the next instruction's address. If delivery
    /// faults, the fault is reported at the INT itself with the stack pointer restored. In an SVM
    /// guest all three are the software-interrupt intercept, not an exception's (QEMU raises
    /// them with is_int set: raise_interrupt2).
    /// </summary>
    private static void SoftwareInterrupt(Cpu cpu, int vector)
    {
        cpu.CheckIntercept(Cpu.SvmExit.SoftwareInt);
        ulong rip = cpu._rip;
        ulong rsp = cpu._gpr[Gpr.Rsp];
        cpu._rip = cpu._nextRip;
        try
        {
            cpu.DeliverInterrupt(vector, null, external: false, software: true);
        }
        catch (GuestFault)
        {
            cpu._rip = rip;
            cpu._gpr[Gpr.Rsp] = rsp;
            throw;
        }
    }
}
