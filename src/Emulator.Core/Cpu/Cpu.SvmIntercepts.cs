namespace Emulator.Core.Cpu;

/// <summary>
/// SVM intercepts as QEMU 7.2 checks them (svm_helper.c cpu_svm_has_intercept,
/// cpu_svm_check_intercept_param, helper_svm_check_io): every check starts with one test of
/// <see cref="_svmGuest"/>, and every caller is a handler or path that is already cold (CPUID,
/// MSR and port access, control registers, exceptions, interrupts at the run loop's boundary).
/// </summary>
public sealed partial class Cpu
{
    /// <summary>cpu_svm_has_intercept: the CR/DR read and write vectors, the exception vector, else the 64-bit instruction vector from SVM_EXIT_INTR.</summary>
    private bool HasIntercept(uint exitCode) => exitCode switch
    {
        <= SvmExit.ReadCr0 + 8 => (_svmCrRead & (1 << (int)exitCode)) != 0,
        >= SvmExit.WriteCr0 and <= SvmExit.WriteCr0 + 8 => (_svmCrWrite & (1 << (int)(exitCode - SvmExit.WriteCr0))) != 0,
        >= SvmExit.ReadDr0 and <= SvmExit.ReadDr0 + 7 => (_svmDrRead & (1 << (int)(exitCode - SvmExit.ReadDr0))) != 0,
        >= SvmExit.WriteDr0 and <= SvmExit.WriteDr0 + 7 => (_svmDrWrite & (1 << (int)(exitCode - SvmExit.WriteDr0))) != 0,
        >= SvmExit.Exception0 and <= SvmExit.Exception0 + 31 => (_svmExceptions & (1u << (int)(exitCode - SvmExit.Exception0))) != 0,
        _ => exitCode - SvmExit.Intr < 64 && (_svmIntercepts & (1UL << (int)(exitCode - SvmExit.Intr))) != 0,
    };

    /// <summary>cpu_svm_check_intercept_param for everything but MSRs: a #VMEXIT when in a guest and the intercept is set.</summary>
    internal void CheckIntercept(uint exitCode, ulong exitInfo1 = 0)
    {
        if (_svmGuest && HasIntercept(exitCode))
        {
            throw VmExit(exitCode, exitInfo1);
        }
    }

    /// <summary>
    /// RDMSR (write false) and WRMSR (write true) against the MSR permission map: two bits per
    /// MSR, read then write, for 0–1FFFh, C0000000h–C0001FFFh and C0010000h–C0011FFFh; any other
    /// MSR exits whenever the MSR intercept is on. The map is read at its base from the VMCB now
    /// (QEMU: "FIXME: this should be read in at vmrun").
    /// </summary>
    internal void CheckMsrIntercept(bool write)
    {
        if (!_svmGuest || !HasIntercept(SvmExit.Msr))
        {
            return;
        }

        uint msr = (uint)_gpr[Gpr.Rcx];
        ulong bit = msr switch
        {
            <= 0x1FFF => (ulong)msr * 2,
            >= 0xC000_0000 and <= 0xC000_1FFF => (8192UL + msr - 0xC000_0000) * 2,
            >= 0xC001_0000 and <= 0xC001_1FFF => (16384UL + msr - 0xC001_0000) * 2,
            _ => throw VmExit(SvmExit.Msr, write ? 1UL : 0),
        };
        ulong map = PhysRead(_vmcb + Vmcb.MsrpmBase, 8);
        if ((PhysRead(map + bit / 8, 1) & ((1UL << (write ? 1 : 0)) << (int)(bit % 8))) != 0)
        {
            throw VmExit(SvmExit.Msr, write ? 1UL : 0);
        }
    }

    /// <summary>
    /// helper_svm_check_io: with the IOIO intercept on, the I/O permission map's bits for every
    /// byte of the access; EXITINFO1 is the port in 31:16 and the access (IN, string, REP, size)
    /// below, EXITINFO2 the next instruction's RIP. No address-size bits: 7.2's gen_check_io sets none.
    /// </summary>
    internal void CheckIoIntercept(ushort port, int size, bool input, bool isString, bool rep, ulong nextRip)
    {
        if (!_svmGuest || !HasIntercept(SvmExit.Ioio))
        {
            return;
        }

        uint info = (input ? 1u : 0) | (isString ? 1u << 2 : 0) | (rep ? 1u << 3 : 0) | (1u << (4 + System.Numerics.BitOperations.Log2((uint)size)));
        ulong map = PhysRead(_vmcb + Vmcb.IopmBase, 8);
        ulong mask = (1UL << size) - 1;
        if ((PhysRead(map + (ulong)(port / 8), 2) & (mask << (port & 7))) != 0)
        {
            PhysWrite(_vmcb + Vmcb.ExitInfo2, 8, nextRip);
            throw VmExit(SvmExit.Ioio, info | ((uint)port << 16));
        }
    }

    /// <summary>
    /// A guest page fault: with #PF intercepted CR2 keeps its value and the address goes to
    /// EXITINFO2 (x86_cpu_tlb_fill, sysemu/excp_helper.c); otherwise CR2 takes it.
    /// </summary>
    internal void RecordPageFaultAddress(ulong linear)
    {
        if (_svmGuest && (_svmExceptions & (1u << Vector.PF)) != 0)
        {
            PhysWrite(_vmcb + Vmcb.ExitInfo2, 8, linear);
        }
        else
        {
            _cr2 = linear;
        }
    }

    /// <summary>
    /// handle_even_inj and the end of do_interrupt_all: in a guest, an event being delivered is
    /// written to EVENTINJ unless one is already there (software interrupts as type SOFT, the
    /// rest as EXEPT; the error code outside real mode for the vectors that have one), so a
    /// #VMEXIT during delivery reports it in EXITINTINFO; after delivery the VALID bit is cleared.
    /// </summary>
    private void RecordEventBeingDelivered(int vector, bool software, uint? errorCode)
    {
        uint inject = (uint)PhysRead(_vmcb + Vmcb.EventInject, 4);
        if ((inject & EventValid) != 0)
        {
            return;
        }

        inject = (uint)vector | (software ? EventTypeSoftware : EventTypeException) | EventValid;
        if ((_cr0 & CrBits.PE) != 0 && HasErrorCode(vector))
        {
            inject |= EventValidError;
            PhysWrite(_vmcb + Vmcb.EventInjectErr, 4, errorCode ?? 0);
        }

        PhysWrite(_vmcb + Vmcb.EventInject, 4, inject);
    }

    private void ClearDeliveredEvent()
    {
        uint inject = (uint)PhysRead(_vmcb + Vmcb.EventInject, 4);
        PhysWrite(_vmcb + Vmcb.EventInject, 4, inject & ~EventValid);
    }

    /// <summary>
    /// The run loop's interrupt step while SVM can matter (in a guest or GIF clear), after
    /// x86_cpu_pending_interrupt and x86_cpu_exec_interrupt: nothing without GIF; SMI, NMI, INTR
    /// (gated by the host's IF at VMRUN under V_INTR_MASKING, else by IF and the shadow), then a
    /// virtual interrupt; each checks its intercept first, which exits instead of delivering
    /// (the INTR stays pending at the controller). True when something happened.
    /// </summary>
    private bool TakeInterruptWithSvm(out bool stopped)
    {
        stopped = false;
        if (!_gif)
        {
            _interruptShadow = false;
            return false;
        }

        if (_smiPending && !_inSmm)
        {
            if (_svmGuest && HasIntercept(SvmExit.Smi))
            {
                VmExitAtBoundary(SvmExit.Smi, 0);
                return true;
            }

            EnterSmm();
            return true;
        }

        bool shadow = _interruptShadow;
        _interruptShadow = false;
        if (shadow)
        {
            _shadowedInstruction = InstructionCount;
        }

        if (_nmiPending && !_nmiBlocked && !shadow)
        {
            if (_svmGuest && HasIntercept(SvmExit.Nmi))
            {
                VmExitAtBoundary(SvmExit.Nmi, 0);
                return true;
            }

            _nmiPending = false;
            _nmiBlocked = true;
            _halted = false;
            stopped = !TryDeliver(Vector.NMI, null, external: true);
            return true;
        }

        bool interruptsOpen = _svmVirtualMasking ? _svmHostIf : (_flags & RFlags.IF) != 0 && !shadow;
        if (interruptsOpen && InterruptController is { HasPendingInterrupt: true } pic)
        {
            if (_svmGuest && HasIntercept(SvmExit.Intr))
            {
                VmExitAtBoundary(SvmExit.Intr, 0);
                return true;
            }

            _virqPending = false;
            _halted = false;
            stopped = !TryDeliver(pic.Acknowledge(), null, external: true);
            return true;
        }

        if (_svmGuest && _virqPending && (_flags & RFlags.IF) != 0 && !shadow)
        {
            if (HasIntercept(SvmExit.VIntr))
            {
                VmExitAtBoundary(SvmExit.VIntr, 0);
                return true;
            }

            _halted = false;
            stopped = !TryDeliver((int)(PhysRead(_vmcb + Vmcb.IntVector, 4) & 0xFF), null, external: true);
            _virqPending = false;
            _svmIntCtl &= ~IntCtlVIrq;
            return true;
        }

        return false;
    }

    /// <summary>MOV to CR8 in a guest (helper_write_crN): the TPR only without V_INTR_MASKING, V_TPR always; V_IRQ re-evaluated against it.</summary>
    internal void WriteCr8(ulong value)
    {
        if (!_svmVirtualMasking)
        {
            _cr8 = value;
        }

        if (_svmGuest)
        {
            _svmIntCtl = (_svmIntCtl & ~IntCtlTpr) | (uint)(value & IntCtlTpr);
            _virqPending = VirtualInterruptRequested();
        }
    }

    /// <summary>MOV from CR8 (helper_read_crN): V_TPR under V_INTR_MASKING, else the TPR.</summary>
    internal ulong ReadCr8() => _svmVirtualMasking ? _svmIntCtl & IntCtlTpr : _cr8;

    /// <summary>
    /// A write to CR0 that the CR0 write intercept let through: the selective intercept exits
    /// when a bit other than TS and MP changes (helper_write_crN, SVM_EXIT_CR0_SEL_WRITE).
    /// </summary>
    internal void CheckCr0SelectiveWrite(ulong value)
    {
        if (_svmGuest && HasIntercept(SvmExit.Cr0SelectiveWrite) && ((_cr0 ^ value) & ~(CrBits.TS | CrBits.MP)) != 0)
        {
            throw VmExit(SvmExit.Cr0SelectiveWrite, 0);
        }
    }
}
