using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Far control transfers (Intel SDM Vol. 2): JMP and CALL ptr16:16/16:32 and m16:16/16:32/16:64,
/// RETF [imm16] and IRET/IRETD/IRETQ in real, protected, compatibility and 64-bit mode. They load
/// CS through <see cref="Cpu.LoadCodeSegment"/> and may change the mode (OVMF enters long mode
/// with a 32-bit RETF to a 64-bit code segment), so each ends the block. Returns to an outer
/// privilege level also pop SS:SP; 64-bit IRET always does (as QEMU's helper_ret_protected).
/// JMP and CALL through call gates and to TSSs are in ControlFlow.Gates.cs; IRET with NT returns
/// to the previous task (Cpu.TaskSwitch.cs); IRETD with VM in the image enters virtual-8086 mode.
/// </summary>
internal static unsafe partial class Handlers
{
    private static void RegisterFarControlFlow(HandlerRegistry r)
    {
        r.Add(Code.Jmp_ptr1616, &JmpFarPtr);
        r.Add(Code.Jmp_ptr1632, &JmpFarPtr);
        r.Add(Code.Jmp_m1616, &JmpFarMem<S2>);
        r.Add(Code.Jmp_m1632, &JmpFarMem<S4>);
        r.Add(Code.Jmp_m1664, &JmpFarMem<S8>);
        r.Add(Code.Call_ptr1616, &CallFarPtr);
        r.Add(Code.Call_ptr1632, &CallFarPtr);
        r.Add(Code.Call_m1616, &CallFarMem<S2>);
        r.Add(Code.Call_m1632, &CallFarMem<S4>);
        r.Add(Code.Call_m1664, &CallFarMem<S8>);
        r.Add(Mnemonic.Retf, &RetFar);
        r.Add(Mnemonic.Iret, &Iret);
        r.Add(Mnemonic.Iretd, &Iret);
        r.Add(Mnemonic.Iretq, &Iret);
    }

    /// <summary>The offset of a ptr16:16/16:32 immediate, by operand size.</summary>
    private static ulong FarPtrOffset(ref DecodedOp op) => op.OpSize == 2 ? op.Insn.FarBranch16 : op.Insn.FarBranch32;

    /// <summary>Reads an m16:16/16:32/16:64 operand: the offset of <paramref name="size"/> bytes, then the selector.</summary>
    private static ulong ReadFarPointer(Cpu cpu, ref DecodedOp op, int size, out ushort selector)
    {
        ulong lin = cpu.MemLinear(ref op);
        ulong offset = cpu.ReadSized(lin, size);
        selector = cpu.Read16(cpu.WrapLinear(lin + (ulong)size));
        return offset;
    }

    private static void JmpFarPtr(Cpu cpu, ref DecodedOp op) =>
        JumpFar(cpu, op.Insn.FarBranchSelector, FarPtrOffset(ref op), op.OpSize);

    private static void JmpFarMem<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        ulong offset = ReadFarPointer(cpu, ref op, S.Size, out ushort selector);
        JumpFar(cpu, selector, offset, S.Size);
    }

    private static void JumpFar(Cpu cpu, ushort selector, ulong offset, int size)
    {
        if (TryGetSystemTarget(cpu, selector, out ulong gate))
        {
            JumpThroughGate(cpu, selector, gate);
            return;
        }

        CheckSamePrivilegeTarget(cpu, selector);
        cpu.LoadCodeSegment(selector, cpu._cpl);
        cpu._nextRip = Cpu.IpMask(offset, size);
        cpu._exitBlock = true;
    }

    private static void CallFarPtr(Cpu cpu, ref DecodedOp op) =>
        CallFar(cpu, op.Insn.FarBranchSelector, FarPtrOffset(ref op), op.OpSize);

    private static void CallFarMem<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        ulong offset = ReadFarPointer(cpu, ref op, S.Size, out ushort selector);
        CallFar(cpu, selector, offset, S.Size);
    }

    /// <summary>
    /// Far CALL: CS and the return offset are written below SP first (a fault there changes
    /// nothing visible), SP is committed at the old stack width, then CS loads; a faulting CS
    /// load puts SP back.
    /// </summary>
    private static void CallFar(Cpu cpu, ushort selector, ulong offset, int size)
    {
        if (TryGetSystemTarget(cpu, selector, out ulong gate))
        {
            CallThroughGate(cpu, selector, gate);
            return;
        }

        CheckSamePrivilegeTarget(cpu, selector);
        ulong oldRsp = cpu._gpr[Gpr.Rsp];
        ulong sp = PushAt(cpu, oldRsp, size, cpu._seg[Seg.Cs].Selector);
        sp = PushAt(cpu, sp, size, cpu._nextRip);
        cpu.SetSp(sp);
        try
        {
            cpu.LoadCodeSegment(selector, cpu._cpl);
        }
        catch (GuestFault)
        {
            cpu._gpr[Gpr.Rsp] = oldRsp;
            throw;
        }

        cpu._nextRip = Cpu.IpMask(offset, size);
        cpu._exitBlock = true;
    }

    /// <summary>
    /// Protected-mode rule for a direct far JMP/CALL to a code segment (SDM Vol. 3, 5.8.1):
    /// non-conforming needs RPL &lt;= CPL and DPL = CPL, conforming needs DPL &lt;= CPL.
    /// </summary>
    private static void CheckSamePrivilegeTarget(Cpu cpu, ushort selector)
    {
        if ((cpu._cr0 & CrBits.PE) == 0 || (cpu._flags & RFlags.VM) != 0 || (selector & 0xFFFC) == 0)
        {
            return;
        }

        ulong desc = cpu.ReadDescriptor(selector);
        uint attr = Cpu.DescriptorAttributes(desc);
        int dpl = (int)((attr >> 13) & 3);
        bool codeSegment = (attr & 0x1800) == 0x1800;
        bool conforming = (attr & 0x400) != 0;
        if (codeSegment && (conforming ? dpl > cpu._cpl : (dpl != cpu._cpl || (selector & 3) > cpu._cpl)))
        {
            throw new GuestFault(Vector.GP, selector & 0xFFFCu);
        }
    }

    /// <summary>
    /// RETF [imm16]: pops offset and CS at the operand size (8-byte slots for REX.W), then releases
    /// imm16 bytes; in protected mode CS is checked first (<see cref="CheckReturnCode"/>), and a
    /// return to an outer level pops SS:SP above the released bytes and releases them again on the
    /// outer stack (QEMU's helper_ret_protected).
    /// </summary>
    private static void RetFar(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        ulong release = op.Kind0 == OperandKind.Immediate ? (ushort)op.Imm : 0UL;
        ulong offset = cpu.PeekStack(size, 0);
        ushort selector = (ushort)cpu.PeekStack(size, (ulong)size);
        if (!IsProtected(cpu))
        {
            cpu.SetSp(cpu._gpr[Gpr.Rsp] + (ulong)size * 2 + release);
            cpu.LoadCodeSegment(selector, 0);
        }
        else
        {
            ulong code = CheckReturnCode(cpu, selector);
            ulong slot = (ulong)size * 2 + release;
            if ((selector & 3) != cpu._cpl)
            {
                ulong newSp = cpu.PeekStack(size, slot);
                ushort newSs = (ushort)cpu.PeekStack(size, slot + (ulong)size);
                ReturnToOuterLevel(cpu, selector, code, newSs, newSp + release);
            }
            else
            {
                cpu.SetSp(cpu._gpr[Gpr.Rsp] + slot);
                cpu.SetSegmentFromDescriptor(Seg.Cs, selector, code);
                cpu.UpdateMode();
            }
        }

        cpu._nextRip = Cpu.IpMask(offset, size);
        cpu._exitBlock = true;
    }

    private static bool IsProtected(Cpu cpu) => (cpu._cr0 & CrBits.PE) != 0 && (cpu._flags & RFlags.VM) == 0;

    /// <summary>
    /// The CS checks of a protected-mode RETF/IRET, in QEMU's order (helper_ret_protected): null
    /// #GP(0); past its table, not a code segment, RPL below CPL, DPL above RPL (conforming) or not
    /// RPL (non-conforming): #GP(CS); not present #NP(CS). Returns the descriptor.
    /// </summary>
    private static ulong CheckReturnCode(Cpu cpu, ushort selector)
    {
        uint error = selector & 0xFFFCu;
        int rpl = selector & 3;
        if (error == 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        if (!cpu.TryReadDescriptor(selector, out ulong code) || (code & Cpu.DescS) == 0 || (code & Cpu.DescCode) == 0 || rpl < cpu._cpl)
        {
            throw new GuestFault(Vector.GP, error);
        }

        int dpl = Cpu.DescriptorDpl(code);
        if ((code & Cpu.DescC) != 0 ? dpl > rpl : dpl != rpl)
        {
            throw new GuestFault(Vector.GP, error);
        }

        if ((code & Cpu.DescP) == 0)
        {
            throw new GuestFault(Vector.NP, error);
        }

        return code;
    }

    /// <summary>
    /// The SS of a return to level <paramref name="rpl"/>: a null selector is allowed in long mode
    /// below ring 3 (null returned), else #GP(0); RPL not the new level, past its table, not a
    /// writable data segment, DPL not the new level: #GP(SS); not present #NP(SS), not #SS, as QEMU.
    /// </summary>
    private static ulong? CheckReturnStack(Cpu cpu, ushort ss, int rpl)
    {
        uint error = ss & 0xFFFCu;
        if (error == 0)
        {
            return LongModeActive(cpu) && rpl != 3 ? null : throw new GuestFault(Vector.GP, 0);
        }

        if ((ss & 3) != rpl || !cpu.TryReadDescriptor(ss, out ulong desc)
            || (desc & Cpu.DescS) == 0 || (desc & Cpu.DescCode) != 0 || (desc & Cpu.DescW) == 0 || Cpu.DescriptorDpl(desc) != rpl)
        {
            throw new GuestFault(Vector.GP, error);
        }

        return (desc & Cpu.DescP) != 0 ? desc : throw new GuestFault(Vector.NP, error);
    }

    /// <summary>
    /// Return to CS's RPL with a new SS:SP, both checked before either loads: SP is written at the
    /// new SS's width (all 64 bits for a 64-bit CS), and ES, DS, FS, GS holding a data or
    /// non-conforming code segment with DPL below the new CPL become null (QEMU's validate_seg:
    /// selector 0, not present, base and limit kept; a null FS/GS is left alone).
    /// </summary>
    private static void ReturnToOuterLevel(Cpu cpu, ushort cs, ulong code, ushort ss, ulong sp)
    {
        int rpl = cs & 3;
        if (CheckReturnStack(cpu, ss, rpl) is { } ssDesc)
        {
            cpu.SetSegmentFromDescriptor(Seg.Ss, ss, ssDesc);
        }
        else
        {
            // QEMU's flat, writable, present null SS of DPL rpl (G, B, P, S, W, A).
            uint attributes = (1u << 23) | (1u << 22) | 0x8000 | 0x1000 | (uint)(rpl << 13) | 0x200 | 0x100;
            cpu._seg[Seg.Ss] = new SegmentRegister { Selector = ss, Base = 0, Limit = 0xFFFF_FFFF, Attributes = attributes };
        }

        cpu.SetSegmentFromDescriptor(Seg.Cs, cs, code);
        cpu.ChangeCpl(rpl);
        cpu.UpdateMode();
        cpu.SetSpMasked(sp, cpu._bitness == 64 ? ulong.MaxValue : Cpu.StackPointerMask(cpu._seg[Seg.Ss].Attributes));
        foreach (int seg in (ReadOnlySpan<int>)[Seg.Es, Seg.Ds, Seg.Fs, Seg.Gs])
        {
            ref SegmentRegister r = ref cpu._seg[seg];
            bool nullSelector = (r.Selector & 0xFFFC) == 0;
            bool conformingCode = (r.Attributes & 0xC00) == 0xC00;
            if (!(nullSelector && seg is Seg.Fs or Seg.Gs) && !conformingCode && r.Dpl < rpl)
            {
                r = r with { Selector = 0, Attributes = r.Attributes & ~0x8000u };
            }
        }

        cpu.UpdateMode();
    }

    /// <summary>IRET/IRETD/IRETQ (SDM Vol. 2, IRET): real-address mode, then protected and IA-32e mode returns.</summary>
    private static void Iret(Cpu cpu, ref DecodedOp op)
    {
        cpu.CheckIntercept(Cpu.SvmExit.Iret);
        // SDM Vol. 3 §6.7.1: IRET ends NMI blocking, even when it faults.
        cpu._nmiBlocked = false;
        int size = op.OpSize;
        ulong offset = cpu.PeekStack(size, 0);
        ushort selector = (ushort)cpu.PeekStack(size, (ulong)size);
        ulong image = cpu.PeekStack(size, (ulong)size * 2);
        ulong old = cpu.GetFlags();
        int oldCpl = cpu._cpl;
        if (!IsProtected(cpu))
        {
            if ((old & RFlags.VM) != 0)
            {
                // Virtual-8086 IRET needs IOPL 3 (VME is not modelled).
                if ((old & RFlags.IOPL) != RFlags.IOPL)
                {
                    throw new GuestFault(Vector.GP, 0);
                }

                image = (image & ~RFlags.IOPL) | (old & RFlags.IOPL);
            }

            cpu.LoadCodeSegment(selector, 0);
            cpu.SetSp(cpu._gpr[Gpr.Rsp] + (ulong)size * 3);

            // Real mode: a 32-bit IRET keeps VM, VIF and VIP (mask 0x257FD5 / 0x1A0000 in the SDM).
            ulong flags = size == 2 ? (old & ~0xFFFFUL) | (image & 0xFFFF) : (image & 0x257FD5) | (old & 0x1A0000);
            cpu.SetFlags(flags);
        }
        else
        {
            if ((old & RFlags.NT) != 0)
            {
                ReturnToPreviousTask(cpu);
                return;
            }

            if (size == 4 && (image & RFlags.VM) != 0)
            {
                ReturnToVirtual8086(cpu, offset, selector, image);
                return;
            }

            ulong code = CheckReturnCode(cpu, selector);
            if (cpu._bitness == 64 || (selector & 3) != oldCpl)
            {
                ulong newSp = cpu.PeekStack(size, (ulong)size * 3);
                ushort newSs = (ushort)cpu.PeekStack(size, (ulong)size * 4);
                ReturnToOuterLevel(cpu, selector, code, newSs, newSp);
            }
            else
            {
                cpu.SetSp(cpu._gpr[Gpr.Rsp] + (ulong)size * 3);
                cpu.SetSegmentFromDescriptor(Seg.Cs, selector, code);
                cpu.UpdateMode();
            }

            cpu.SetFlags(IretFlags(old, image, size, oldCpl));
        }

        cpu._nextRip = Cpu.IpMask(offset, size);
        cpu._exitBlock = true;
    }

    /// <summary>
    /// IRET with NT (QEMU's helper_iret_protected): #GP(0) in long mode; the back link in the
    /// current TSS must name a busy TSS in the GDT, else #TS(back link); then the task switch.
    /// </summary>
    private static void ReturnToPreviousTask(Cpu cpu)
    {
        if (LongModeActive(cpu))
        {
            throw new GuestFault(Vector.GP, 0);
        }

        ushort backLink = cpu.Read16(cpu.WrapLinear(cpu._tr.Base));
        // The type test with the S bit (mask 0x17) accepts the busy TSSs, 3 and 11.
        if ((backLink & 4) != 0 || !cpu.TryReadDescriptor(backLink, out ulong desc) || ((desc >> 40) & 0x17) != 3)
        {
            throw new GuestFault(Vector.TS, backLink & 0xFFFCu);
        }

        cpu._nextRip = cpu.SwitchTask(backLink, desc, TaskSwitchSource.Iret, cpu._nextRip);
        cpu._exitBlock = true;
    }

    /// <summary>
    /// IRETD with VM in the image (QEMU's return_to_vm86, which checks neither CPL nor the
    /// selectors): ESP, SS, ES, DS, FS, GS follow on the stack; EFLAGS loads TF, AC, ID, IF, IOPL,
    /// VM, NT, VIF, VIP and the status flags; all six segments load as QEMU's load_seg_vm; CPL 3.
    /// </summary>
    private static void ReturnToVirtual8086(Cpu cpu, ulong offset, ushort cs, ulong image)
    {
        ulong esp = cpu.PeekStack(4, 12);
        Span<ushort> selectors = [(ushort)cpu.PeekStack(4, 16), (ushort)cpu.PeekStack(4, 20), (ushort)cpu.PeekStack(4, 24), (ushort)cpu.PeekStack(4, 28), (ushort)cpu.PeekStack(4, 32)];
        ulong mask = RFlags.TF | RFlags.AC | RFlags.ID | RFlags.IF | RFlags.IOPL | RFlags.VM | RFlags.NT | RFlags.VIF | RFlags.VIP | RFlags.Arith | RFlags.DF;
        cpu.SetFlags((cpu.GetFlags() & ~mask) | (image & mask));
        cpu.LoadVm86Segment(Seg.Cs, cs);
        cpu.LoadVm86Segment(Seg.Ss, selectors[0]);
        cpu.LoadVm86Segment(Seg.Es, selectors[1]);
        cpu.LoadVm86Segment(Seg.Ds, selectors[2]);
        cpu.LoadVm86Segment(Seg.Fs, selectors[3]);
        cpu.LoadVm86Segment(Seg.Gs, selectors[4]);
        cpu.ChangeCpl(3);
        cpu.UpdateMode();
        cpu._gpr[Gpr.Rsp] = (uint)esp;
        cpu._nextRip = offset & 0xFFFF;
        cpu._exitBlock = true;
    }

    /// <summary>Which flags a protected-mode IRET restores: IF only when CPL &lt;= IOPL, IOPL only at CPL 0, RF/AC/ID/VIF/VIP only from a 32/64-bit image.</summary>
    private static ulong IretFlags(ulong old, ulong image, int size, int cpl)
    {
        ulong mask = RFlags.Arith | RFlags.TF | RFlags.DF | RFlags.NT;
        if (size >= 4)
        {
            mask |= RFlags.RF | RFlags.AC | RFlags.ID | RFlags.VIF | RFlags.VIP;
        }

        if (cpl <= (int)((old & RFlags.IOPL) >> 12))
        {
            mask |= RFlags.IF;
        }

        if (cpl == 0)
        {
            mask |= RFlags.IOPL;
        }

        return (old & ~mask) | (image & mask);
    }
}
