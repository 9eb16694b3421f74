namespace Emulator.Core.Cpu;

/// <summary>
/// Exception and interrupt delivery (Intel SDM Vol. 3, chapter 6): the real-mode IVT, 32-bit
/// protected-mode IDT gates (16- and 32-bit interrupt/trap gates, with a stack switch through the
/// TSS on a privilege change, and task gates, which switch tasks: Cpu.TaskSwitch.cs) and 64-bit
/// IDT gates (always pushing SS:RSP, 16-byte aligned, IST stacks). A fault while delivering becomes #DF; a fault while delivering #DF shuts the
/// CPU down (triple fault), which ends the run with a report.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>The last exception the guest raised (external interrupts and NMIs excluded); null when none since power-on.</summary>
    public GuestException? LastGuestException { get; private set; }

    /// <summary>
    /// Delivers a vector, escalating nested faults; false when the CPU triple-faulted. In an SVM
    /// guest a fault's intercept is checked before it is delivered (raise_interrupt2), a #VMEXIT
    /// unwinding to here completes, and a shutdown is a #VMEXIT (check_exception).
    /// </summary>
    private bool TryDeliver(int vector, uint? errorCode, bool external)
    {
        try
        {
            DeliverFault(vector, errorCode, external);
            return true;
        }
        catch (GuestFault second)
        {
            if (!TryInterceptFault(second, external))
            {
                return true;
            }

            // Simplified SDM Table 6-5: any fault while delivering is a double fault, and any fault
            // while delivering the double fault is a shutdown.
            if (LastException == Vector.DF)
            {
                return Shutdown($"triple fault: vector {second.Vector} while delivering #DF at {LinearRip:X}", external);
            }

            try
            {
                DeliverInterrupt(Vector.DF, 0, external: false);
                return true;
            }
            catch (GuestFault third)
            {
                return !TryInterceptFault(third, external) ||
                    Shutdown($"triple fault: vector {third.Vector} while delivering #DF at {LinearRip:X}", external);
            }
        }
    }

    /// <summary>A vector from the run loop: a #VMEXIT to complete, or a fault to deliver after its intercept check.</summary>
    private void DeliverFault(int vector, uint? errorCode, bool external)
    {
        if (vector == VmExitVector)
        {
            CompleteInstructionVmExit();
            return;
        }

        if (_svmGuest && !external)
        {
            CheckIntercept(SvmExit.Exception0 + (uint)vector, errorCode ?? 0);
        }

        DeliverInterrupt(vector, errorCode, external);
    }

    /// <summary>
    /// A fault raised while delivering: false when it was a #VMEXIT (a delivery's own intercept
    /// check) or its intercept sends it to the host, the exit then being complete.
    /// </summary>
    private bool TryInterceptFault(GuestFault fault, bool external)
    {
        if (fault.Vector == VmExitVector)
        {
            CompleteInstructionVmExit();
            return false;
        }

        if (_svmGuest && HasIntercept(SvmExit.Exception0 + (uint)fault.Vector))
        {
            VmExitWhileDelivering(SvmExit.Exception0 + (uint)fault.Vector, fault.ErrorCode ?? 0, external);
            return false;
        }

        return true;
    }

    /// <summary>An exit decided while delivering: it ends the instruction that raised the event, if one did (not an INTR or NMI).</summary>
    private void VmExitWhileDelivering(uint exitCode, ulong exitInfo1, bool external)
    {
        _ = VmExit(exitCode, exitInfo1);
        if (external)
        {
            CompleteVmExit();
        }
        else
        {
            CompleteInstructionVmExit();
        }
    }

    /// <summary>
    /// A #VMEXIT an instruction raised (its intercept, a failed VMRUN, an intercepted fault):
    /// the instruction counts as retired, so a single step ends at the host's next instruction
    /// as QEMU's does (cpu_handle_exception raises EXCP_DEBUG after do_vmexit when stepping).
    /// </summary>
    private void CompleteInstructionVmExit()
    {
        bool shadowed = _shadowedInstruction == InstructionCount;
        InstructionCount++;
        CompleteVmExit(shadowed);
    }

    /// <summary>A triple fault: the machine stops, or in an SVM guest a shutdown #VMEXIT (unconditional in QEMU).</summary>
    private bool Shutdown(string detail, bool external)
    {
        if (_svmGuest)
        {
            VmExitWhileDelivering(SvmExit.Shutdown, 0, external);
            return true;
        }

        RequestStop(StopReason.TripleFault, detail);
        return false;
    }

    /// <summary>
    /// Delivers <paramref name="vector"/>. The return address pushed is <c>_rip</c>: the faulting
    /// instruction for faults, the next instruction for INT n and external interrupts (callers set
    /// <c>_rip</c> accordingly).
    /// </summary>
    /// <paramref name="software"/> marks INT n, INT3 and INTO, which need gate DPL &gt;= CPL.
    internal void DeliverInterrupt(int vector, uint? errorCode, bool external, bool software = false)
    {
        if (_svmGuest)
        {
            RecordEventBeingDelivered(vector, software, errorCode);
        }

        LastException = vector;
        if (!external)
        {
            ExceptionCount++;
            LastGuestException = new GuestException(vector, LinearRip, InstructionCount);
        }

        _halted = false;
        if ((_cr0 & CrBits.PE) == 0)
        {
            DeliverReal(vector);
        }
        else if ((_efer & CrBits.EferLma) != 0)
        {
            DeliverLong(vector, errorCode, software);
        }
        else
        {
            DeliverProtected(vector, errorCode, software);
        }

        if (_svmGuest)
        {
            ClearDeliveredEvent();
        }

        _nextRip = _rip;
        _exitBlock = true;
    }

    private void DeliverReal(int vector)
    {
        ulong entry = (ulong)vector * 4;
        if (entry + 3 > _idtr.Limit)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        ushort ip = Read16(_idtr.Base + entry);
        ushort cs = Read16(_idtr.Base + entry + 2);
        ulong flags = GetFlags();
        Push(2, flags);
        Push(2, _seg[Seg.Cs].Selector);
        Push(2, _rip);
        // QEMU's do_interrupt_real clears RF too (target/i386/tcg/seg_helper.c).
        _flags = flags & ~(RFlags.IF | RFlags.TF | RFlags.AC | RFlags.RF);
        _lazy = LazyOp.None;
        LoadCodeSegment(cs, 0);
        _rip = ip;
    }

    /// <summary>
    /// QEMU's do_interrupt_protected order: the gate's type (S bit included; task gates switch
    /// tasks) #GP, a software interrupt's gate DPL below CPL #GP, not present #NP, each with
    /// the error code vector·8 + 2.
    /// </summary>
    private void DeliverProtected(int vector, uint? errorCode, bool software)
    {
        uint entry = (uint)vector * 8;
        if (entry + 7 > _idtr.Limit)
        {
            throw new GuestFault(Vector.GP, entry + 2);
        }

        ulong gate = Read64(WrapLinear(_idtr.Base + entry));
        int type = (int)((gate >> 40) & 0x1F);
        if (type is not (0x5 or 0x6 or 0x7 or 0xE or 0xF) || (software && DescriptorDpl(gate) < _cpl))
        {
            throw new GuestFault(Vector.GP, entry + 2);
        }

        if ((gate & DescP) == 0)
        {
            throw new GuestFault(Vector.NP, entry + 2);
        }

        if (type == 0x5)
        {
            DeliverThroughTaskGate(entry, gate, errorCode);
            return;
        }

        bool gate32 = (type & 8) != 0;
        bool trap = (type & 1) != 0;
        ushort selector = (ushort)(gate >> 16);
        ulong offset = (gate & 0xFFFF) | ((gate >> 32) & 0xFFFF0000);
        ulong desc = HandlerCodeDescriptor(selector, longMode: false);
        int targetDpl = (int)((desc >> 45) & 3);
        bool conforming = (desc & (1UL << 42)) != 0;
        int newCpl = conforming ? _cpl : targetDpl;
        ulong flags = GetFlags();
        int size = gate32 ? 4 : 2;
        ushort oldSs = _seg[Seg.Ss].Selector;
        ulong oldSp = _gpr[Gpr.Rsp];
        ushort oldCs = _seg[Seg.Cs].Selector;
        bool vm86 = (flags & RFlags.VM) != 0;
        if (newCpl < _cpl)
        {
            ulong ssDesc = InnerStackFromTss(newCpl, out ushort ss, out uint esp);
            var dataSelectors = (_seg[Seg.Gs].Selector, _seg[Seg.Fs].Selector, _seg[Seg.Ds].Selector, _seg[Seg.Es].Selector);
            SetSegmentFromDescriptor(Seg.Ss, ss, ssDesc);
            ChangeCpl(newCpl);
            UpdateMode();
            SetSpMasked(esp, StackPointerMask(_seg[Seg.Ss].Attributes));
            if (vm86)
            {
                // From virtual-8086 mode the frame starts with GS, FS, DS, ES, which become null.
                Push(size, dataSelectors.Item1);
                Push(size, dataSelectors.Item2);
                Push(size, dataSelectors.Item3);
                Push(size, dataSelectors.Item4);
                foreach (int seg in (ReadOnlySpan<int>)[Seg.Es, Seg.Ds, Seg.Fs, Seg.Gs])
                {
                    _seg[seg] = default;
                }
            }

            Push(size, oldSs);
            Push(size, oldSp);
        }
        else if (vm86)
        {
            // QEMU: virtual-8086 mode can only interrupt to a more privileged, non-conforming level.
            throw new GuestFault(Vector.GP, selector & 0xFFFCu);
        }

        Push(size, flags);
        Push(size, oldCs);
        Push(size, _rip);
        if (errorCode is uint code)
        {
            Push(size, code);
        }

        _flags &= ~RFlags.VM; // CS loads as a protected-mode segment
        LoadCodeSegment(selector, newCpl);
        _flags = flags & ~(RFlags.TF | RFlags.NT | RFlags.RF | RFlags.VM | (trap ? 0 : RFlags.IF));
        _lazy = LazyOp.None;
        // QEMU keeps a 286 gate's offset bits 31:16 too (do_interrupt_protected: env->eip = offset).
        _rip = offset;
        UpdateMode();
    }

    /// <summary>
    /// A task gate in the IDT: a task switch as a CALL (back link, NT), the old task resuming at
    /// the return address; the error code, if any, goes on the new task's stack at the new TSS's
    /// width (QEMU's do_interrupt_protected).
    /// </summary>
    private void DeliverThroughTaskGate(uint entry, ulong gate, uint? errorCode)
    {
        _rip = SwitchTask((ushort)entry, gate, TaskSwitchSource.Call, _rip);
        if (errorCode is uint code)
        {
            int size = (_tr.Attributes & 0x800) != 0 ? 4 : 2;
            ulong mask = _seg[Seg.Ss].Big ? 0xFFFF_FFFFUL : 0xFFFFUL;
            ulong esp = (_gpr[Gpr.Rsp] - (ulong)size) & mask;
            WriteSized(WrapLinear(_seg[Seg.Ss].Base + esp), size, code);
            SetSpMasked(esp, mask);
        }
    }

    /// <summary>QEMU's do_interrupt64 order: type (14 or 15) #GP, a software interrupt's gate DPL below CPL #GP, not present #NP (vector·16 + 2).</summary>
    private void DeliverLong(int vector, uint? errorCode, bool software)
    {
        uint entry = (uint)vector * 16;
        if (entry + 15 > _idtr.Limit)
        {
            throw new GuestFault(Vector.GP, entry + 2);
        }

        ulong lo = Read64(_idtr.Base + entry);
        ulong hi = Read64(_idtr.Base + entry + 8);
        int type = (int)((lo >> 40) & 0x1F);
        if (type is not (0xE or 0xF) || (software && DescriptorDpl(lo) < _cpl))
        {
            throw new GuestFault(Vector.GP, entry + 2);
        }

        if ((lo & DescP) == 0)
        {
            throw new GuestFault(Vector.NP, entry + 2);
        }

        ushort selector = (ushort)(lo >> 16);
        ulong offset = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF0000) | (hi << 32);
        int ist = (int)((lo >> 32) & 7);
        ulong desc = HandlerCodeDescriptor(selector, longMode: true);
        int targetDpl = (int)((desc >> 45) & 3);
        bool conforming = (desc & (1UL << 42)) != 0;
        int newCpl = conforming ? _cpl : targetDpl;
        ulong flags = GetFlags();
        ulong oldSs = _seg[Seg.Ss].Selector;
        ulong oldRsp = _gpr[Gpr.Rsp];
        ulong oldCs = _seg[Seg.Cs].Selector;
        ulong newRsp = oldRsp;
        if (ist != 0 || newCpl < _cpl)
        {
            // 64-bit TSS: RSP0..2 at +4, IST1..7 at +0x24 (SDM 7.7, Figure 7-11).
            newRsp = RspFromTss(ist != 0 ? ist + 3 : newCpl);
        }

        newRsp &= ~0xFUL;
        if (newCpl < _cpl)
        {
            _seg[Seg.Ss] = new SegmentRegister { Selector = (ushort)newCpl, Attributes = 0 };
        }

        // The 64-bit frame is always SS, RSP, RFLAGS, CS, RIP [, error code] (SDM 6.14.2).
        ulong sp = newRsp;
        sp -= 8; Write64(sp, oldSs);
        sp -= 8; Write64(sp, oldRsp);
        sp -= 8; Write64(sp, flags);
        sp -= 8; Write64(sp, oldCs);
        sp -= 8; Write64(sp, _rip);
        if (errorCode is uint code)
        {
            sp -= 8; Write64(sp, code);
        }

        LoadCodeSegment(selector, newCpl);
        _gpr[Gpr.Rsp] = sp;
        _flags = flags & ~(RFlags.TF | RFlags.NT | RFlags.RF | RFlags.VM | ((type & 1) != 0 ? 0 : RFlags.IF));
        _lazy = LazyOp.None;
        _rip = offset;
        UpdateMode();
    }

    /// <summary>
    /// The code segment an interrupt or trap gate names, checked as QEMU 7.2 checks it
    /// (seg_helper.c do_interrupt_protected, do_interrupt64): a null selector #GP(0); beyond its
    /// table, not a code segment, or DPL above CPL #GP(selector); not present #NP(selector); in
    /// long mode, not a 64-bit segment (L clear or D set) #GP(selector).
    /// </summary>
    private ulong HandlerCodeDescriptor(ushort selector, bool longMode)
    {
        if ((selector & 0xFFFC) == 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        const ulong S = 1UL << 44, Code = 1UL << 43, Present = 1UL << 47, L = 1UL << 53, D = 1UL << 54;
        if (!TryReadDescriptor(selector, out ulong desc) || (desc & S) == 0 || (desc & Code) == 0
            || DescriptorDpl(desc) > _cpl)
        {
            throw new GuestFault(Vector.GP, selector & 0xFFFCu);
        }

        if ((desc & Present) == 0)
        {
            throw new GuestFault(Vector.NP, selector & 0xFFFCu);
        }

        if (longMode && ((desc & L) == 0 || (desc & D) != 0))
        {
            throw new GuestFault(Vector.GP, selector & 0xFFFCu);
        }

        return desc;
    }
}
