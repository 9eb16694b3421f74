using Emulator.Core.Cpu.Float;

namespace Emulator.Core.Cpu;

/// <summary>Saving and restoring the CPU's architectural state whole (see <see cref="CpuSnapshot"/>).</summary>
public sealed partial class Cpu
{
    public CpuSnapshot SaveState()
    {
        var gprs = new ulong[16];
        for (int i = 0; i < 16; i++)
        {
            gprs[i] = _gpr[i];
        }

        var segments = new SegmentRegister[6];
        for (int i = 0; i < 6; i++)
        {
            segments[i] = _seg[i];
        }

        return new CpuSnapshot
        {
            Gprs = gprs,
            Rip = _rip,
            RFlags = GetFlags(),
            Segments = segments,
            Gdtr = _gdtr,
            Idtr = _idtr,
            Ldtr = _ldtr,
            Tr = _tr,
            ControlRegisters = [_cr0, _cr2, _cr3, _cr4, _cr8],
            Efer = _efer,
            DebugRegisters = (ulong[])_dr.Clone(),
            Cpl = _cpl,
            Halted = _halted,
            InterruptShadow = _interruptShadow,
            NmiPending = _nmiPending,
            NmiBlocked = _nmiBlocked,
            InSmm = _inSmm,
            SmiPending = _smiPending,
            SmmInsideNmi = _smmInsideNmi,
            SmBase = SmBase,
            Svm = SaveSvm(),
            SmmEntries = SmmEntries,
            SmmInstructions = SmmInstructions,
            SmmEntryInstruction = _smmEntryInstruction,
            InstructionCount = InstructionCount,
            RepIterations = RepIterations,
            IdleTicks = IdleTicks,
            WaitTicks = WaitTicks,
            Msrs = Msrs.Snapshot(),
            X87 = (Float80[])Fpu.St.Clone(),
            Xmm = (UInt128[])Fpu.Xmm.Clone(),
            FpuControl = (Fpu.ControlWord, Fpu.StatusWord, Fpu.TagValid, Fpu.Top, Fpu.Mxcsr),
            FpuPointers = (Fpu.Fip, Fpu.Fcs, Fpu.Fdp, Fpu.Fds, Fpu.IgnoreNumericError),
            ExceptionCount = ExceptionCount,
            LastException = LastException,
            SkipBreakpointAt = _skipBreakpointAt,
            CodePages = DecodedCodePages(),
            SpillOwners = _spillOwners.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()),
        };
    }

    public void RestoreState(CpuSnapshot s)
    {
        if (s.Gprs.Length != 16 || s.Segments.Length != 6 || s.ControlRegisters.Length != 5 || s.DebugRegisters.Length != 8 ||
            s.X87.Length != 8 || s.Xmm.Length != 16)
        {
            throw new ArgumentException("snapshot has the wrong shape", nameof(s));
        }

        for (int i = 0; i < 16; i++)
        {
            _gpr[i] = s.Gprs[i];
        }

        for (int i = 0; i < 6; i++)
        {
            _seg[i] = s.Segments[i];
        }

        _rip = s.Rip;
        SetFlags(s.RFlags);
        _gdtr = s.Gdtr;
        _idtr = s.Idtr;
        _ldtr = s.Ldtr;
        _tr = s.Tr;
        (_cr0, _cr2, _cr3, _cr4, _cr8) = (s.ControlRegisters[0], s.ControlRegisters[1], s.ControlRegisters[2], s.ControlRegisters[3], s.ControlRegisters[4]);
        _efer = s.Efer;
        s.DebugRegisters.CopyTo(_dr, 0);
        DebugRegistersChanged();
        _cpl = s.Cpl;
        _halted = s.Halted;
        _interruptShadow = s.InterruptShadow;
        _nmiPending = s.NmiPending;
        _nmiBlocked = s.NmiBlocked;
        SetInSmm(s.InSmm);
        _smiPending = s.SmiPending;
        _smmInsideNmi = s.SmmInsideNmi;
        SmBase = s.SmBase;
        RestoreSvm(s.Svm);
        SmmEntries = s.SmmEntries;
        SmmInstructions = s.SmmInstructions;
        _smmEntryInstruction = s.SmmEntryInstruction;
        InstructionCount = s.InstructionCount;
        RepIterations = s.RepIterations;
        IdleTicks = s.IdleTicks;
        WaitTicks = s.WaitTicks;
        Msrs.Restore(s.Msrs);
        s.X87.CopyTo(Fpu.St, 0);
        s.Xmm.CopyTo(Fpu.Xmm, 0);
        (ushort control, ushort status, byte tags, int top, uint mxcsr) = s.FpuControl;
        Fpu.ControlWord = control;
        Fpu.StatusWord = status;
        Fpu.TagValid = tags;
        Fpu.Top = top;
        Fpu.Mxcsr = mxcsr;
        (Fpu.Fip, Fpu.Fcs, Fpu.Fdp, Fpu.Fds, Fpu.IgnoreNumericError) = s.FpuPointers;
        ExceptionCount = s.ExceptionCount;
        LastException = s.LastException;
        _lastBitness = -1;
        UpdateMode();
        FlushTlb();
        FlushCodeCache();
        _skipBreakpointAt = s.SkipBreakpointAt;
        foreach (ulong page in s.CodePages)
        {
            // The TLB was just flushed: no write pointer to revoke (CreateCodePage would scan it per page).
            if (page < LowPageCount)
            {
                SetLowCodePage(page, new CodePage());
            }
            else
            {
                _highCodePages[page] = new CodePage();
            }

            _bus.MarkCodePage(page);
        }

        foreach (var (page, owners) in s.SpillOwners)
        {
            _spillOwners[page] = [.. owners];
        }
    }

    private ulong[] DecodedCodePages()
    {
        var pages = new List<ulong>();
        pages.AddRange(_lowPagesUsed.Where(p => _codePages[p] != null).Order());
        pages.AddRange(_highCodePages.Keys.Order());
        return [.. pages];
    }
}
