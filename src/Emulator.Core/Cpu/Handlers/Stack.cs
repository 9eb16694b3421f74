using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Stack instructions (Intel SDM Vol. 2): PUSH/POP of registers, memory, immediates and segment
/// registers, PUSHA/POPA, PUSHF/POPF, ENTER and LEAVE. The stack address width follows SS.B or
/// long mode (<see cref="Cpu.Push"/>); the data width is the instruction's operand size.
/// Multi-slot instructions work on a local stack pointer and commit RSP last, so a fault part way
/// leaves RSP as it was and the instruction restarts cleanly.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterStack(HandlerRegistry r)
    {
        r.Add(Mnemonic.Push, &Push);
        r.Add(Mnemonic.Pop, &Pop);
        foreach (var code in new[] { Code.Pushw_ES, Code.Pushw_CS, Code.Pushw_SS, Code.Pushw_DS, Code.Pushw_FS, Code.Pushw_GS })
        {
            r.Add(code, &PushSegW);
        }

        foreach (var code in new[] { Code.Pushd_ES, Code.Pushd_CS, Code.Pushd_SS, Code.Pushd_DS, Code.Pushd_FS, Code.Pushd_GS })
        {
            r.Add(code, &PushSegD);
        }

        r.Add(Code.Pushq_FS, &PushSegQ);
        r.Add(Code.Pushq_GS, &PushSegQ);
        foreach (var code in new[] { Code.Popw_ES, Code.Popw_SS, Code.Popw_DS, Code.Popw_FS, Code.Popw_GS })
        {
            r.Add(code, &PopSegW);
        }

        foreach (var code in new[] { Code.Popd_ES, Code.Popd_SS, Code.Popd_DS, Code.Popd_FS, Code.Popd_GS })
        {
            r.Add(code, &PopSegD);
        }

        r.Add(Code.Popq_FS, &PopSegQ);
        r.Add(Code.Popq_GS, &PopSegQ);
        r.Add(Mnemonic.Pusha, &Pusha);
        r.Add(Mnemonic.Pushad, &Pusha);
        r.Add(Mnemonic.Popa, &Popa);
        r.Add(Mnemonic.Popad, &Popa);
        r.Add(Mnemonic.Pushf, &Pushf);
        r.Add(Mnemonic.Pushfd, &Pushf);
        r.Add(Mnemonic.Pushfq, &Pushf);
        r.Add(Mnemonic.Popf, &Popf);
        r.Add(Mnemonic.Popfd, &Popf);
        r.Add(Mnemonic.Popfq, &Popf);
        r.Add(Mnemonic.Enter, &Enter);
        r.Add(Mnemonic.Leave, &Leave);
    }

    /// <summary>PUSH r/m, reg, imm: the source is read before RSP moves (PUSH RSP pushes the old value).</summary>
    private static void Push(Cpu cpu, ref DecodedOp op) =>
        PushJit(cpu, op.OpSize, op.Kind0, op.Reg0, op.Imm, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    /// <summary>POP r/m: RSP is incremented before a memory destination's address is computed (SDM Vol. 2, POP).</summary>
    private static void Pop(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        if (op.Kind0 == OperandKind.Gpr)
        {
            cpu.WriteGpr(op.Reg0, size, cpu.Pop(size));
            return;
        }

        ulong oldSp = cpu._gpr[Gpr.Rsp];
        ulong v = cpu.Pop(size);
        try
        {
            cpu.WriteOp0(ref op, size, v);
        }
        catch (GuestFault)
        {
            cpu._gpr[Gpr.Rsp] = oldSp;
            throw;
        }
    }

    private static void PushSegW(Cpu cpu, ref DecodedOp op) => cpu.Push(2, cpu._seg[op.Reg0].Selector);

    /// <summary>PUSH Sreg with a 32/64-bit operand size: the selector zero-extended to the slot, as QEMU stores it.</summary>
    private static void PushSegD(Cpu cpu, ref DecodedOp op) => cpu.Push(4, cpu._seg[op.Reg0].Selector);

    private static void PushSegQ(Cpu cpu, ref DecodedOp op) => cpu.Push(8, cpu._seg[op.Reg0].Selector);

    private static void PopSegW(Cpu cpu, ref DecodedOp op) => PopSegment(cpu, op.Reg0, 2);

    private static void PopSegD(Cpu cpu, ref DecodedOp op) => PopSegment(cpu, op.Reg0, 4);

    private static void PopSegQ(Cpu cpu, ref DecodedOp op) => PopSegment(cpu, op.Reg0, 8);

    /// <summary>
    /// POP Sreg: the segment is loaded before RSP moves, so a faulting load leaves RSP alone; RSP
    /// then moves at the width of the stack the selector was read from, even when the pop loaded
    /// SS with another B bit (QEMU 7.2 translate.c, pop es/ss/ds: gen_pop_update after
    /// gen_movl_seg_T0 adds at the block's translation-time stack size; test386's POST 9 checks
    /// it); POP SS inhibits interrupts for one instruction.
    /// </summary>
    private static void PopSegment(Cpu cpu, int seg, int size)
    {
        ushort selector = (ushort)cpu.PeekStack(size, 0);
        int stackSize = cpu._stackSize;
        cpu.LoadSegment(seg, selector);
        cpu.SetSp(cpu._gpr[Gpr.Rsp] + (ulong)size, stackSize);
        if (seg == Seg.Ss)
        {
            cpu._interruptShadow = true;
            cpu._exitBlock = true;
        }
    }

    /// <summary>Writes a stack slot <paramref name="size"/> bytes below <paramref name="sp"/> and returns the new (unmasked) pointer.</summary>
    private static ulong PushAt(Cpu cpu, ulong sp, int size, ulong value)
    {
        sp -= (ulong)size;
        cpu.WriteSized(cpu.Linear(Seg.Ss, cpu.StackMask(sp)), size, value);
        return sp;
    }

    /// <summary>PUSHA/PUSHAD: AX, CX, DX, BX, the original SP, BP, SI, DI.</summary>
    private static void Pusha(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong sp = cpu._gpr[Gpr.Rsp];
        ulong start = sp;
        for (int reg = Gpr.Rax; reg <= Gpr.Rdi; reg++)
        {
            sp = PushAt(cpu, sp, size, reg == Gpr.Rsp ? start : cpu._gpr[reg]);
        }

        cpu.SetSp(sp);
    }

    /// <summary>POPA/POPAD: DI, SI, BP, (SP slot skipped), BX, DX, CX, AX.</summary>
    private static void Popa(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong di = cpu.PeekStack(size, 0);
        ulong si = cpu.PeekStack(size, (ulong)size);
        ulong bp = cpu.PeekStack(size, (ulong)size * 2);
        ulong bx = cpu.PeekStack(size, (ulong)size * 4);
        ulong dx = cpu.PeekStack(size, (ulong)size * 5);
        ulong cx = cpu.PeekStack(size, (ulong)size * 6);
        ulong ax = cpu.PeekStack(size, (ulong)size * 7);
        cpu.WriteGpr(Gpr.Rdi, size, di);
        cpu.WriteGpr(Gpr.Rsi, size, si);
        cpu.WriteGpr(Gpr.Rbp, size, bp);
        cpu.WriteGpr(Gpr.Rbx, size, bx);
        cpu.WriteGpr(Gpr.Rdx, size, dx);
        cpu.WriteGpr(Gpr.Rcx, size, cx);
        cpu.WriteGpr(Gpr.Rax, size, ax);
        cpu.SetSp(cpu._gpr[Gpr.Rsp] + (ulong)size * 8);
    }

    /// <summary>PUSHF/PUSHFD/PUSHFQ: the image has VM and RF cleared (SDM Vol. 2, PUSHF).</summary>
    private static void Pushf(Cpu cpu, ref DecodedOp op)
    {
        cpu.CheckIntercept(Cpu.SvmExit.Pushf);
        if ((cpu._flags & RFlags.VM) != 0 && (cpu._flags & RFlags.IOPL) != RFlags.IOPL)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        cpu.Push(op.OpSize, cpu.GetFlags() & ~(RFlags.VM | RFlags.RF));
    }

    /// <summary>
    /// POPF/POPFD/POPFQ (SDM Vol. 2, POPF): at CPL 0 every writable flag loads, including IF and
    /// IOPL; IOPL only at CPL 0 and IF only when CPL &lt;= IOPL. RF is cleared; VM, VIF and VIP
    /// keep their values. A 16-bit POPF replaces bits 15:0 only. IF may change: end the block.
    /// </summary>
    private static void Popf(Cpu cpu, ref DecodedOp op)
    {
        cpu.CheckIntercept(Cpu.SvmExit.Popf);
        int size = op.OpSize;
        ulong old = cpu.GetFlags();
        if ((old & RFlags.VM) != 0 && (old & RFlags.IOPL) != RFlags.IOPL)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        ulong v = cpu.PeekStack(size, 0);
        ulong writable = RFlags.Writable & ~RFlags.RF;
        if (cpu._cpl > 0 && (cpu._cr0 & CrBits.PE) != 0)
        {
            writable &= ~RFlags.IOPL;
            if (cpu._cpl > (int)((old & RFlags.IOPL) >> 12))
            {
                writable &= ~RFlags.IF;
            }
        }

        if ((old & RFlags.VM) != 0)
        {
            writable &= ~RFlags.IOPL;
        }

        if (size == 2)
        {
            writable &= 0xFFFF;
        }

        cpu.SetSp(cpu._gpr[Gpr.Rsp] + (ulong)size);
        cpu.SetFlags(((old & ~writable) | (v & writable)) & ~RFlags.RF);
        cpu._exitBlock = true;
    }

    /// <summary>ENTER imm16, imm8 (SDM Vol. 2, ENTER): nesting level mod 32, display of outer frame pointers, then the allocation.</summary>
    private static void Enter(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong alloc = (ushort)op.Imm;
        int level = op.Insn.Immediate8_2nd & 31;
        ulong sp = PushAt(cpu, cpu._gpr[Gpr.Rsp], size, cpu._gpr[Gpr.Rbp]);
        ulong frame = sp;
        if (level > 0)
        {
            ulong bp = cpu._gpr[Gpr.Rbp];
            for (int i = 1; i < level; i++)
            {
                bp -= (ulong)size;
                ulong outer = cpu.ReadSized(cpu.Linear(Seg.Ss, cpu.StackMask(bp)), size);
                sp = PushAt(cpu, sp, size, outer);
            }

            sp = PushAt(cpu, sp, size, frame);
        }

        // The allocated area itself is not touched (QEMU's gen_enter does not probe it either).
        sp -= alloc;
        cpu.WriteGpr(Gpr.Rbp, size, cpu.StackMask(frame));
        cpu.SetSp(sp);
    }

    /// <summary>LEAVE: SP = BP at the stack's address size, then POP BP at the operand size.</summary>
    private static void Leave(Cpu cpu, ref DecodedOp op) =>
        LeaveJit(cpu, op.OpSize);
}
