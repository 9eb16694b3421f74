namespace Emulator.Core.Cpu;

/// <summary>
/// AMD SVM as QEMU 7.2's TCG models it for qemu64 (target/i386/tcg/sysemu/svm_helper.c; the
/// facts and QEMU's own omissions are in docs/cpu-svm.md): the guest-mode state, VMRUN (host
/// state to the HSAVE page, guest state and intercepts from the VMCB, event injection) and
/// #VMEXIT (guest state to the VMCB, host state back from HSAVE). The intercept checks are in
/// Cpu.SvmIntercepts.cs, the instructions in Handlers/Svm.cs. The VMCB is read and written
/// physically (QEMU's x86_ld*_phys / MMU_PHYS_IDX), through the bus's current view.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>Not an exception vector: a <see cref="GuestFault"/> with it unwinds to the run loop, which completes a #VMEXIT (QEMU's EXCP_VMEXIT).</summary>
    internal const int VmExitVector = 0x100;

    /// <summary>In an SVM guest (QEMU's HF_GUEST_MASK): the intercept checks are live.</summary>
    internal bool _svmGuest;

    /// <summary>The global interrupt flag (HF2_GIF_MASK): set at reset, by VMRUN and STGI; cleared by #VMEXIT and CLGI.</summary>
    internal bool _gif = true;

    /// <summary>Physical address of the current VMCB (env->vm_vmcb).</summary>
    internal ulong _vmcb;

    /// <summary>The intercept vectors VMRUN copies from the VMCB (env->intercept, intercept_cr_*, intercept_dr_*, intercept_exceptions).</summary>
    internal ulong _svmIntercepts;
    internal ushort _svmCrRead, _svmCrWrite, _svmDrRead, _svmDrWrite;
    internal uint _svmExceptions;

    /// <summary>The VMCB's V_INTR control word (env->int_ctl): V_TPR, V_IRQ, priority, V_IGN_TPR, V_INTR_MASKING.</summary>
    internal uint _svmIntCtl;

    /// <summary>V_INTR_MASKING was set at VMRUN (HF2_VINTR_MASK), and the host's IF then (HF2_HIF_MASK), which gates physical interrupts instead of the guest's IF.</summary>
    internal bool _svmVirtualMasking, _svmHostIf;

    /// <summary>A virtual interrupt is requested (CPU_INTERRUPT_VIRQ).</summary>
    internal bool _virqPending;

    /// <summary>
    /// The instruction (by <see cref="InstructionCount"/>) that runs in the STI/MOV SS shadow the
    /// run loop has just consumed: QEMU's HF_INHIBIT_IRQ is still set while it runs, so a #VMEXIT
    /// it raises writes INT_STATE 1. -1 when none.
    /// </summary>
    internal long _shadowedInstruction = -1;

    /// <summary>Added to the TSC that RDTSC reads (env->tsc_offset).</summary>
    internal ulong _svmTscOffset;

    /// <summary>The VMCB and its control fields (target/i386/svm.h, struct vmcb: control area at 0, save area at 0x400).</summary>
    internal static class Vmcb
    {
        public const ulong InterceptCrRead = 0x000, InterceptCrWrite = 0x002, InterceptDrRead = 0x004, InterceptDrWrite = 0x006;
        public const ulong InterceptExceptions = 0x008, Intercept = 0x00C, IopmBase = 0x040, MsrpmBase = 0x048, TscOffset = 0x050;
        public const ulong Asid = 0x058, TlbControl = 0x05C, IntCtl = 0x060, IntVector = 0x064, IntState = 0x068;
        public const ulong ExitCode = 0x070, ExitInfo1 = 0x078, ExitInfo2 = 0x080, ExitIntInfo = 0x088, ExitIntInfoErr = 0x08C;
        public const ulong NestedControl = 0x090, EventInject = 0x0A8, EventInjectErr = 0x0AC;

        public const ulong Es = 0x400, Cs = 0x410, Ss = 0x420, Ds = 0x430, Fs = 0x440, Gs = 0x450, Gdtr = 0x460, Ldtr = 0x470;
        public const ulong Idtr = 0x480, Tr = 0x490, Cpl = 0x4CB, Efer = 0x4D0, Cr4 = 0x548, Cr3 = 0x550, Cr0 = 0x558;
        public const ulong Dr7 = 0x560, Dr6 = 0x568, RFlags = 0x570, Rip = 0x578, Rsp = 0x5D8, Rax = 0x5F8, Star = 0x600;
        public const ulong LStar = 0x608, CStar = 0x610, SfMask = 0x618, KernelGsBase = 0x620, SysenterCs = 0x628;
        public const ulong SysenterEsp = 0x630, SysenterEip = 0x638, Cr2 = 0x640;
    }

    /// <summary>The #VMEXIT codes QEMU raises (svm.h SVM_EXIT_*).</summary>
    internal static class SvmExit
    {
        public const uint ReadCr0 = 0x00, WriteCr0 = 0x10, ReadDr0 = 0x20, WriteDr0 = 0x30, Exception0 = 0x40;
        public const uint Intr = 0x60, Nmi = 0x61, Smi = 0x62, VIntr = 0x64, Cr0SelectiveWrite = 0x65;
        public const uint IdtrRead = 0x66, GdtrRead = 0x67, LdtrRead = 0x68, TrRead = 0x69, IdtrWrite = 0x6A, GdtrWrite = 0x6B;
        public const uint LdtrWrite = 0x6C, TrWrite = 0x6D, Rdtsc = 0x6E, Rdpmc = 0x6F, Pushf = 0x70, Popf = 0x71, Cpuid = 0x72;
        public const uint Rsm = 0x73, Iret = 0x74, SoftwareInt = 0x75, Invd = 0x76, Pause = 0x77, Hlt = 0x78, Invlpg = 0x79;
        public const uint Invlpga = 0x7A, Ioio = 0x7B, Msr = 0x7C, Shutdown = 0x7F, Vmrun = 0x80, Vmmcall = 0x81, Vmload = 0x82;
        public const uint Vmsave = 0x83, Stgi = 0x84, Clgi = 0x85, Skinit = 0x86, Wbinvd = 0x89;

        /// <summary>SVM_EXIT_ERR (-1) passes through cpu_vmexit's uint32_t parameter, so the VMCB's 64-bit field reads 0xFFFFFFFF.</summary>
        public const uint Invalid = 0xFFFF_FFFF;
    }

    private const uint IntCtlTpr = 0xF, IntCtlVIrq = 1u << 8, IntCtlIgnoreTpr = 1u << 20, IntCtlVIntrMasking = 1u << 24;
    private const uint EventValid = 1u << 31, EventValidError = 1u << 11;
    private const uint EventTypeIntr = 0 << 8, EventTypeNmi = 2 << 8, EventTypeException = 3 << 8, EventTypeSoftware = 4 << 8;

    /// <summary>SVM_MSRPM_SIZE and SVM_IOPM_SIZE: VMRUN refuses maps that would end past the physical address space.</summary>
    private const ulong MsrpmSize = 1UL << 13, IopmSize = (1UL << 13) + 1;

    /// <summary>EFER bits QEMU knows (MSR_EFER_RESERVED is the rest): SCE, LME, LMA, NXE, SVME, FFXSR.</summary>
    private const ulong EferDefined = CrBits.EferSce | CrBits.EferLme | CrBits.EferLma | CrBits.EferNxe | CrBits.EferSvme | (1UL << 14);

    /// <summary>CR4 bits VMRUN accepts for qemu64 (cr4_reserved_bits: CR4_RESERVED_MASK leaves PCIDE, no feature removes it).</summary>
    private const ulong Cr4AcceptedByVmrun = 0x7FF | (1UL << 17);

    public bool InSvmGuest => _svmGuest;

    public bool GlobalInterruptFlag => _gif;

    private ulong HostSaveArea => Msrs.Stored(MsrFile.VmHsavePa);

    private ulong PhysRead(ulong address, int size) => _bus.Read(address, size);

    private void PhysWrite(ulong address, int size, ulong value) => _bus.Write(address, size, value);

    /// <summary>
    /// QEMU's cpu_vmexit: writes the exit code and EXITINFO1 to the VMCB now and unwinds; the
    /// run loop then completes the exit (<see cref="CompleteVmExit"/>). The guest RIP saved is
    /// that of the instruction being run, which handlers leave in place until they finish.
    /// </summary>
    internal GuestFault VmExit(uint exitCode, ulong exitInfo1)
    {
        PhysWrite(_vmcb + Vmcb.ExitCode, 8, exitCode);
        PhysWrite(_vmcb + Vmcb.ExitInfo1, 8, exitInfo1);
        return new GuestFault(VmExitVector);
    }

    /// <summary>A #VMEXIT from the run loop (intercepted INTR, NMI, SMI, VINTR; shutdown): no instruction to unwind.</summary>
    private void VmExitAtBoundary(uint exitCode, ulong exitInfo1)
    {
        _ = VmExit(exitCode, exitInfo1);
        CompleteVmExit();
    }

    /// <summary>VMRUN (helper_vmrun), after the #UD/#GP checks of its handler.</summary>
    internal void Vmrun(ulong vmcb, ulong nextRip)
    {
        CheckIntercept(SvmExit.Vmrun, 0);
        _vmcb = vmcb;
        SaveStateArea(HostSaveArea, nextRip);
        _svmIntercepts = PhysRead(vmcb + Vmcb.Intercept, 8);
        _svmCrRead = (ushort)PhysRead(vmcb + Vmcb.InterceptCrRead, 2);
        _svmCrWrite = (ushort)PhysRead(vmcb + Vmcb.InterceptCrWrite, 2);
        _svmDrRead = (ushort)PhysRead(vmcb + Vmcb.InterceptDrRead, 2);
        _svmDrWrite = (ushort)PhysRead(vmcb + Vmcb.InterceptDrWrite, 2);
        _svmExceptions = (uint)PhysRead(vmcb + Vmcb.InterceptExceptions, 4);
        ulong nestedControl = PhysRead(vmcb + Vmcb.NestedControl, 8);
        uint asid = (uint)PhysRead(vmcb + Vmcb.Asid, 8);
        ulong physLimit = 1UL << Model.PhysicalAddressBits;
        if ((PhysRead(vmcb + Vmcb.MsrpmBase, 8) & ~0xFFFUL) >= physLimit - MsrpmSize ||
            (PhysRead(vmcb + Vmcb.IopmBase, 8) & ~0xFFFUL) >= physLimit - IopmSize ||
            !HasIntercept(SvmExit.Vmrun) || asid == 0)
        {
            throw VmExit(SvmExit.Invalid, 0);
        }

        if ((nestedControl & 1) != 0)
        {
            // QEMU 7.2 turns nested paging on whatever CPUID says (qemu64 does not advertise NPT);
            // emu does not walk nested page tables, so it stops instead of running the guest wrongly.
            RequestStop(StopReason.Unsupported, "SVM guest with nested paging (VMCB NP_ENABLE): not modelled");
        }

        _svmGuest = true;
        _svmTscOffset = PhysRead(vmcb + Vmcb.TscOffset, 8);
        ulong vmrunRip = _rip;
        try
        {
            LoadGuestState(vmcb);
        }
        catch (GuestFault fault) when (fault.Vector == VmExitVector)
        {
            // cpu_vmexit restores the state of the VMRUN instruction itself (cpu_restore_state),
            // so a check that fails after the guest's RIP was loaded saves VMRUN's address.
            _rip = vmrunRip;
            throw;
        }
    }

    /// <summary>
    /// The state VMRUN keeps in the HSAVE page and #VMEXIT writes to the VMCB (helper_vmrun,
    /// do_vmexit): ES, CS, SS, DS, GDTR, IDTR, CR0, CR2, CR3, CR4, DR6, DR7, EFER, RFLAGS, RIP,
    /// RSP, RAX. The two write them in different orders, which shows only if the areas overlap.
    /// </summary>
    private void SaveStateArea(ulong area, ulong rip)
    {
        SaveSvmSegment(area + Vmcb.Es, _seg[Seg.Es]);
        SaveSvmSegment(area + Vmcb.Cs, _seg[Seg.Cs]);
        SaveSvmSegment(area + Vmcb.Ss, _seg[Seg.Ss]);
        SaveSvmSegment(area + Vmcb.Ds, _seg[Seg.Ds]);
        PhysWrite(area + Vmcb.Gdtr + 8, 8, _gdtr.Base);
        PhysWrite(area + Vmcb.Gdtr + 4, 4, _gdtr.Limit);
        PhysWrite(area + Vmcb.Idtr + 8, 8, _idtr.Base);
        PhysWrite(area + Vmcb.Idtr + 4, 4, _idtr.Limit);
        PhysWrite(area + Vmcb.Cr0, 8, _cr0);
        PhysWrite(area + Vmcb.Cr2, 8, _cr2);
        PhysWrite(area + Vmcb.Cr3, 8, _cr3);
        PhysWrite(area + Vmcb.Cr4, 8, _cr4);
        PhysWrite(area + Vmcb.Dr6, 8, _dr[6]);
        PhysWrite(area + Vmcb.Dr7, 8, _dr[7]);
        PhysWrite(area + Vmcb.Efer, 8, _efer);
        PhysWrite(area + Vmcb.RFlags, 8, GetFlags());
        PhysWrite(area + Vmcb.Rip, 8, rip);
        PhysWrite(area + Vmcb.Rsp, 8, _gpr[Gpr.Rsp]);
        PhysWrite(area + Vmcb.Rax, 8, _gpr[Gpr.Rax]);
    }

    /// <summary>The guest half of helper_vmrun: its consistency checks (#VMEXIT with SVM_EXIT_ERR), state, TLB control, GIF, V_IRQ and event injection.</summary>
    private void LoadGuestState(ulong vmcb)
    {
        ulong cr0 = PhysRead(vmcb + Vmcb.Cr0, 8);
        if ((cr0 >> 32) != 0 || ((cr0 & CrBits.NW) != 0 && (cr0 & CrBits.CD) == 0))
        {
            throw VmExit(SvmExit.Invalid, 0);
        }

        ulong cr3 = PhysRead(vmcb + Vmcb.Cr3, 8);
        if ((_efer & CrBits.EferLma) != 0 && (cr3 >> Model.PhysicalAddressBits) != 0)
        {
            throw VmExit(SvmExit.Invalid, 0);
        }

        ulong cr4 = PhysRead(vmcb + Vmcb.Cr4, 8);
        if ((cr4 & ~Cr4AcceptedByVmrun) != 0)
        {
            throw VmExit(SvmExit.Invalid, 0);
        }

        // "clear exit_info_2 so we behave like the real hardware"
        PhysWrite(vmcb + Vmcb.ExitInfo2, 8, 0);
        LoadCr0(cr0);
        _cr4 = cr4;
        WriteCr3(cr3);
        _cr2 = PhysRead(vmcb + Vmcb.Cr2, 8);
        _svmIntCtl = (uint)PhysRead(vmcb + Vmcb.IntCtl, 4);
        _svmVirtualMasking = (_svmIntCtl & IntCtlVIntrMasking) != 0;
        _svmHostIf = _svmVirtualMasking && (_flags & RFlags.IF) != 0;
        _efer = PhysRead(vmcb + Vmcb.Efer, 8);
        LoadSvmFlags(PhysRead(vmcb + Vmcb.RFlags, 8));
        LoadSvmSegments(vmcb);
        _idtr = ReadSvmTable(vmcb + Vmcb.Idtr);
        _gdtr = ReadSvmTable(vmcb + Vmcb.Gdtr);
        LoadRipRspRaxAndDebug(vmcb);
        FinishModeChange();
        if ((_dr[6] >> 32) != 0 || (_dr[7] >> 32) != 0 || IsEferInvalidForVmrun())
        {
            throw VmExit(SvmExit.Invalid, 0);
        }

        if (PhysRead(vmcb + Vmcb.TlbControl, 1) == 1)
        {
            FlushTlb();
        }

        _gif = true;
        _virqPending = VirtualInterruptRequested();
        InjectEvent(vmcb);
    }

    /// <summary>helper_vmrun's is_efer_invalid_state, on the guest's EFER, CR0, CR4 and CS.</summary>
    private bool IsEferInvalidForVmrun()
    {
        bool pagedLongMode = (_efer & CrBits.EferLme) != 0 && (_cr0 & CrBits.PG) != 0;
        return (_efer & CrBits.EferSvme) == 0 || (_efer & ~EferDefined) != 0 ||
            ((_efer & (CrBits.EferLma | CrBits.EferLme)) != 0 && !Model.LongMode) ||
            (pagedLongMode && ((_cr4 & CrBits.Cr4Pae) == 0 || (_cr0 & CrBits.PE) == 0 || (_seg[Seg.Cs].Long && _seg[Seg.Cs].Big)));
    }

    /// <summary>
    /// EVENTINJ (helper_vmrun): INTR is delivered at once (do_interrupt_x86_hardirq); NMI, an
    /// exception (not 2, not 31 and up) and a software interrupt at the guest's first boundary,
    /// which here is now. The error code goes with the exceptions that have one, whatever the
    /// VALID_ERR bit says (QEMU's "FIXME: need to implement valid_err"). No intercept is checked.
    /// </summary>
    private void InjectEvent(ulong vmcb)
    {
        uint inject = (uint)PhysRead(vmcb + Vmcb.EventInject, 4);
        if ((inject & EventValid) == 0)
        {
            return;
        }

        int vector = (int)(inject & 0xFF);
        uint error = (uint)PhysRead(vmcb + Vmcb.EventInjectErr, 4);
        uint? errorCode = HasErrorCode(vector) && (_cr0 & CrBits.PE) != 0 ? error : null;
        switch (inject & (7u << 8))
        {
            case EventTypeIntr:
                DeliverInterrupt(vector, null, external: true);
                break;
            case EventTypeNmi:
                DeliverInterrupt(Vector.NMI, null, external: true);
                break;
            case EventTypeException when vector != Vector.NMI && vector < 31:
                DeliverInterrupt(vector, errorCode, external: false);
                break;
            case EventTypeSoftware:
                DeliverInterrupt(vector, null, external: false, software: true);
                break;
            default:
                throw VmExit(SvmExit.Invalid, 0);
        }
    }

    /// <summary>QEMU's exception_has_error_code: #DF, #TS, #NP, #SS, #GP, #PF, #AC.</summary>
    internal static bool HasErrorCode(int vector) => vector is 8 or (>= 10 and <= 14) or 17;

    /// <summary>ctl_has_irq: V_IRQ set and, unless V_IGN_TPR, its priority at least V_TPR.</summary>
    private bool VirtualInterruptRequested() =>
        (_svmIntCtl & IntCtlVIrq) != 0 && ((_svmIntCtl & IntCtlIgnoreTpr) != 0 || ((_svmIntCtl >> 16) & 0xF) >= (_svmIntCtl & IntCtlTpr));

    /// <summary>QEMU's do_vmexit: the guest state to the VMCB, then the host state from HSAVE; GIF cleared.</summary>
    internal void CompleteVmExit(bool shadowed = false)
    {
        ulong vmcb = _vmcb, hsave = HostSaveArea;
        PhysWrite(vmcb + Vmcb.IntState, 4, _interruptShadow || shadowed ? 1u : 0u);
        _interruptShadow = false;
        _shadowedInstruction = -1;
        SaveStateArea(vmcb, _rip);
        PhysWrite(vmcb + Vmcb.IntCtl, 4, _svmIntCtl);
        PhysWrite(vmcb + Vmcb.Cpl, 1, (ulong)_cpl);

        _svmVirtualMasking = _svmHostIf = false;
        _svmGuest = false;
        _svmIntercepts = 0;
        _svmExceptions = 0;
        _virqPending = false;
        _svmIntCtl = 0;
        _svmTscOffset = 0;
        _gdtr = ReadSvmTable(hsave + Vmcb.Gdtr);
        _idtr = ReadSvmTable(hsave + Vmcb.Idtr);
        LoadCr0(PhysRead(hsave + Vmcb.Cr0, 8) | CrBits.PE);
        _cr4 = PhysRead(hsave + Vmcb.Cr4, 8);
        WriteCr3(PhysRead(hsave + Vmcb.Cr3, 8));
        _efer = PhysRead(hsave + Vmcb.Efer, 8);
        LoadSvmFlags(PhysRead(hsave + Vmcb.RFlags, 8) & ~RFlags.VM);
        LoadSvmSegments(hsave);
        LoadRipRspRaxAndDebug(hsave);

        // The event being injected or delivered when the exit came (handle_even_inj kept it in EVENTINJ).
        PhysWrite(vmcb + Vmcb.ExitIntInfo, 4, PhysRead(vmcb + Vmcb.EventInject, 4));
        PhysWrite(vmcb + Vmcb.ExitIntInfoErr, 4, PhysRead(vmcb + Vmcb.EventInjectErr, 4));
        PhysWrite(vmcb + Vmcb.EventInject, 4, 0);
        _gif = false;
        _halted = false;
        FinishModeChange();
    }

    /// <summary>
    /// RFLAGS as cpu_load_eflags loads it from a VMCB or HSAVE: its parameter is an <c>int</c>,
    /// so the low 32 bits are kept whole (reserved bits 3, 5, 15 and 22–31 included, which
    /// PUSHF and the next #VMEXIT then show) and bit 31 sign-extends through the 64-bit eflags.
    /// </summary>
    private void LoadSvmFlags(ulong value)
    {
        _flags = (ulong)(long)(int)(uint)value | RFlags.Reserved1;
        _lazy = LazyOp.None;
    }

    /// <summary>RIP, RSP, RAX, DR7 and DR6 from a state area (VMRUN's guest, #VMEXIT's host); the next RIP is the loaded one.</summary>
    private void LoadRipRspRaxAndDebug(ulong area)
    {
        _rip = _nextRip = PhysRead(area + Vmcb.Rip, 8);
        _gpr[Gpr.Rsp] = PhysRead(area + Vmcb.Rsp, 8);
        _gpr[Gpr.Rax] = PhysRead(area + Vmcb.Rax, 8);
        _dr[7] = PhysRead(area + Vmcb.Dr7, 8);
        _dr[6] = PhysRead(area + Vmcb.Dr6, 8);
        DebugRegistersChanged();
    }

    /// <summary>ES, CS, SS, DS through cpu_x86_load_seg_cache: SS's DPL becomes the CPL.</summary>
    private void LoadSvmSegments(ulong area)
    {
        _seg[Seg.Es] = ReadSvmSegment(area + Vmcb.Es);
        _seg[Seg.Cs] = ReadSvmSegment(area + Vmcb.Cs);
        _seg[Seg.Ss] = ReadSvmSegment(area + Vmcb.Ss);
        _seg[Seg.Ds] = ReadSvmSegment(area + Vmcb.Ds);
        _cpl = _seg[Seg.Ss].Dpl;
    }

    private void FinishModeChange()
    {
        FlushTlb();
        UpdateMode();
        _exitBlock = true;
    }

    /// <summary>svm_save_seg: selector, the 12-bit attribute (descriptor bits 8–15 and 20–23), limit, base.</summary>
    private void SaveSvmSegment(ulong at, SegmentRegister s)
    {
        PhysWrite(at, 2, s.Selector);
        PhysWrite(at + 8, 8, s.Base);
        PhysWrite(at + 4, 4, s.Limit);
        PhysWrite(at + 2, 2, ((s.Attributes >> 8) & 0xFF) | ((s.Attributes >> 12) & 0x0F00));
    }

    /// <summary>svm_load_seg: the base sign-extended from bit 47 (svm_canonicalization, 48-bit linear addresses without LA57).</summary>
    private SegmentRegister ReadSvmSegment(ulong at)
    {
        uint attributes = (uint)PhysRead(at + 2, 2);
        return new SegmentRegister
        {
            Selector = (ushort)PhysRead(at, 2),
            Base = Canonical(PhysRead(at + 8, 8)),
            Limit = (uint)PhysRead(at + 4, 4),
            Attributes = ((attributes & 0xFF) << 8) | ((attributes & 0x0F00) << 12),
        };
    }

    /// <summary>GDTR/IDTR as VMRUN and #VMEXIT read them: svm_load_seg's base and limit (the base canonicalised too).</summary>
    private TableRegister ReadSvmTable(ulong at) => new() { Base = Canonical(PhysRead(at + 8, 8)), Limit = (uint)PhysRead(at + 4, 4) };

    private static ulong Canonical(ulong address) => (ulong)((long)(address << 16) >> 16);
}
