namespace Emulator.Core.Cpu;

/// <summary>What started a task switch: it decides the busy bits, the back link and NT (QEMU's SWITCH_TSS_*).</summary>
internal enum TaskSwitchSource
{
    Jump,
    Call,
    Iret,
}

/// <summary>
/// Hardware task switches as QEMU 7.2's switch_tss_ra and tss_load_seg
/// (target/i386/tcg/seg_helper.c): JMP/CALL to a TSS or task gate, IRET with NT, interrupts
/// through task gates; 16- and 32-bit TSSs. The state goes to the old TSS, the busy bits and back
/// link are updated, then CR0.TS, TR, CR3 (32-bit TSS with paging), EFLAGS, the registers, the
/// LDT and the segments load from the new TSS, the last two with their #TS/#NP faults raised in
/// the new task. QEMU ignores the TSS's debug trap bit, and so does this.
/// </summary>
public sealed partial class Cpu
{
    private const uint TssBusy = 0x200;

    /// <summary>
    /// Switches to the task of <paramref name="selector"/> (a TSS descriptor, or a task gate naming
    /// one); <paramref name="returnEip"/> is saved as the old task's EIP. Returns the new EIP.
    /// All memory accesses are supervisor ones (QEMU's cpu_*_kernel).
    /// </summary>
    internal ulong SwitchTask(ushort selector, ulong desc, TaskSwitchSource source, ulong returnEip)
    {
        int oldCpl = _cpl;
        ChangeCpl(0);
        TaskState next;
        try
        {
            next = SaveAndLeaveTask(ref selector, ref desc, source, returnEip);
        }
        catch (GuestFault)
        {
            ChangeCpl(oldCpl);
            throw;
        }

        return EnterTask(selector, desc, next);
    }

    /// <summary>
    /// The checks (a task gate's present bit, then the TSS it names: in the GDT, a TSS, present,
    /// long enough), the new task's state read, and the old task's state saved with the busy bits
    /// and back link updated. Faults here belong to the old task.
    /// </summary>
    private TaskState SaveAndLeaveTask(ref ushort tssSelector, ref ulong desc, TaskSwitchSource source, ulong returnEip)
    {
        int type = (int)(desc >> 40) & 0xF;
        if (type == 5)
        {
            if ((desc & DescP) == 0)
            {
                throw new GuestFault(Vector.NP, tssSelector & 0xFFFCu);
            }

            tssSelector = (ushort)(desc >> 16);
            uint error = tssSelector & 0xFFFCu;
            if ((tssSelector & 4) != 0)
            {
                throw new GuestFault(Vector.TS, error);
            }

            if (!TryReadDescriptor(tssSelector, out desc) || (desc & DescS) != 0 || (((desc >> 40) & 7) != 1))
            {
                throw new GuestFault(Vector.GP, error);
            }

            type = (int)(desc >> 40) & 0xF;
        }

        uint tssError = tssSelector & 0xFFFCu;
        if ((desc & DescP) == 0)
        {
            throw new GuestFault(Vector.NP, tssError);
        }

        bool tss32 = (type & 8) != 0;
        uint limit = DescriptorLimit(desc);
        ulong tssBase = DescriptorBase(desc);
        if ((tssSelector & 4) != 0 || limit < (tss32 ? 103u : 43u))
        {
            throw new GuestFault(Vector.TS, tssError);
        }

        var next = ReadTaskState(tssBase, tss32);
        bool oldTss32 = (_tr.Attributes & 0x800) != 0;

        // QEMU touches both ends of the old TSS first, so a #PF comes before anything changes.
        ulong oldEnd = _tr.Base + (oldTss32 ? 103u : 43u);
        Write8(WrapLinear(_tr.Base), Read8(WrapLinear(_tr.Base)));
        Write8(WrapLinear(oldEnd), Read8(WrapLinear(oldEnd)));
        if (source is TaskSwitchSource.Jump or TaskSwitchSource.Iret)
        {
            SetTssBusy(_tr.Selector, false);
        }

        ulong oldFlags = GetFlags() & (source == TaskSwitchSource.Iret ? ~RFlags.NT : ~0UL);
        SaveTaskState(returnEip, oldFlags, oldTss32);
        if (source == TaskSwitchSource.Call)
        {
            Write16(WrapLinear(tssBase), _tr.Selector);
            next.Flags |= RFlags.NT;
        }

        if (source is TaskSwitchSource.Jump or TaskSwitchSource.Call)
        {
            SetTssBusy(tssSelector, true);
        }

        return next;
    }

    /// <summary>CR0.TS, TR, CR3, EFLAGS, registers, LDT and segments of the new task; faults here belong to it.</summary>
    private ulong EnterTask(ushort tssSelector, ulong desc, TaskState next)
    {
        bool tss32 = (desc & (8UL << 40)) != 0;
        // QEMU sets EIP before loading the segments: their faults report the new task's EIP.
        _rip = next.Eip;
        _cr0 |= CrBits.TS;
        _tr = new SegmentRegister { Selector = tssSelector, Base = DescriptorBase(desc), Limit = DescriptorLimit(desc), Attributes = DescriptorAttributes(desc) & ~TssBusy };
        if (tss32 && (_cr0 & CrBits.PG) != 0)
        {
            WriteCr3(next.Cr3);
        }

        LoadTaskRegisters(next, tss32);
        LoadTaskSegments(next);
        if (next.Eip > _seg[Seg.Cs].Limit)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        // QEMU resets the local breakpoint enables (DR7 L0..L3).
        _dr[7] &= ~0x55UL;
        return next.Eip;
    }

    private struct TaskState
    {
        public ulong Cr3, Eip, Flags;
        public ushort Ldt;
        public uint[] Regs;
        public ushort[] Segs;
    }

    /// <summary>Where a TSS keeps the task state, and at which width (SDM Vol. 3, Figures 7-2 and 7-11).</summary>
    private readonly record struct TssLayout(int Width, uint Eip, uint Flags, uint Regs, uint Segs, uint SegStep, int SegCount, uint Ldt)
    {
        public static readonly TssLayout Tss32 = new(4, 0x20, 0x24, 0x28, 0x48, 4, 6, 0x60);
        public static readonly TssLayout Tss16 = new(2, 0x0E, 0x10, 0x12, 0x22, 2, 4, 0x2A);
    }

    /// <summary>The new task's CR3 (32-bit only), EIP, EFLAGS, 8 registers, selectors (FS, GS 0 in a 16-bit TSS) and LDT selector.</summary>
    private TaskState ReadTaskState(ulong tssBase, bool tss32)
    {
        var layout = tss32 ? TssLayout.Tss32 : TssLayout.Tss16;
        var s = new TaskState { Regs = new uint[8], Segs = new ushort[6] };
        ulong At(uint offset) => WrapLinear(tssBase + offset);
        s.Cr3 = tss32 ? Read32(At(0x1C)) : 0;
        s.Eip = ReadSized(At(layout.Eip), layout.Width);
        s.Flags = ReadSized(At(layout.Flags), layout.Width);
        for (uint i = 0; i < 8; i++)
        {
            s.Regs[i] = (uint)ReadSized(At(layout.Regs + (i * (uint)layout.Width)), layout.Width);
        }

        for (uint i = 0; i < layout.SegCount; i++)
        {
            s.Segs[i] = Read16(At(layout.Segs + (i * layout.SegStep)));
        }

        s.Ldt = Read16(At(layout.Ldt));
        if (tss32)
        {
            Read32(At(0x64)); // the T bit: read, not used (as QEMU)
        }

        return s;
    }

    private void SetTssBusy(ushort selector, bool busy)
    {
        ulong at = WrapLinear(_gdtr.Base + (uint)(selector & ~7) + 4);
        uint high = Read32(at);
        Write32(at, busy ? high | TssBusy : high & ~TssBusy);
    }

    /// <summary>Saves EIP, EFLAGS, the 8 registers and the segment selectors in the current TSS (16-bit: 4 selectors).</summary>
    private void SaveTaskState(ulong eip, ulong flags, bool tss32)
    {
        var layout = tss32 ? TssLayout.Tss32 : TssLayout.Tss16;
        ulong At(uint offset) => WrapLinear(_tr.Base + offset);
        WriteSized(At(layout.Eip), layout.Width, eip);
        WriteSized(At(layout.Flags), layout.Width, flags);
        for (uint i = 0; i < 8; i++)
        {
            WriteSized(At(layout.Regs + (i * (uint)layout.Width)), layout.Width, _gpr[(int)i]);
        }

        for (uint i = 0; i < layout.SegCount; i++)
        {
            Write16(At(layout.Segs + (i * layout.SegStep)), _seg[(int)i].Selector);
        }
    }

    /// <summary>EFLAGS (TF, AC, ID, IF, IOPL, VM, RF, NT and the status flags; only the low 16 bits from a 16-bit TSS) and the registers.</summary>
    private void LoadTaskRegisters(TaskState next, bool tss32)
    {
        ulong mask = RFlags.TF | RFlags.AC | RFlags.ID | RFlags.IF | RFlags.IOPL | RFlags.VM | RFlags.RF | RFlags.NT;
        mask = (tss32 ? mask : mask & 0xFFFF) | RFlags.Arith | RFlags.DF;
        SetFlags((GetFlags() & ~mask) | (next.Flags & mask));
        for (int i = 0; i < 8; i++)
        {
            _gpr[i] = tss32 ? next.Regs[i] : (_gpr[i] & ~0xFFFFUL & 0xFFFF_FFFFUL) | next.Regs[i];
        }
    }

    /// <summary>
    /// The selectors first without descriptors, then the LDT (#TS(LDT) if in an LDT, past the GDT,
    /// not an LDT descriptor or not present), then CS, SS, ES, DS, FS, GS through
    /// <see cref="LoadTaskSegment"/> at the CPL of the new CS's RPL.
    /// </summary>
    private void LoadTaskSegments(TaskState next)
    {
        bool vm86 = (_flags & RFlags.VM) != 0;
        for (int i = 0; i < 6; i++)
        {
            if (vm86)
            {
                LoadVm86Segment(i, next.Segs[i]);
            }
            else
            {
                _seg[i] = new SegmentRegister { Selector = next.Segs[i] };
            }
        }

        ChangeCpl(vm86 ? 3 : 0);
        UpdateMode();
        _ldtr = new SegmentRegister { Selector = (ushort)(next.Ldt & ~4) };
        uint ldtError = next.Ldt & 0xFFFCu;
        if ((next.Ldt & 4) != 0)
        {
            throw new GuestFault(Vector.TS, ldtError);
        }

        if (ldtError != 0)
        {
            uint index = (uint)(next.Ldt & ~7);
            if (index + 7 > _gdtr.Limit)
            {
                throw new GuestFault(Vector.TS, ldtError);
            }

            ulong ldt = Read64(WrapLinear(_gdtr.Base + index));
            if ((ldt & DescS) != 0 || ((ldt >> 40) & 0xF) != 2 || (ldt & DescP) == 0)
            {
                throw new GuestFault(Vector.TS, ldtError);
            }

            _ldtr = new SegmentRegister { Selector = (ushort)(next.Ldt & ~4), Base = DescriptorBase(ldt), Limit = DescriptorLimit(ldt), Attributes = DescriptorAttributes(ldt) };
        }

        if (vm86)
        {
            return;
        }

        int cpl = next.Segs[Seg.Cs] & 3;
        foreach (int seg in (ReadOnlySpan<int>)[Seg.Cs, Seg.Ss, Seg.Es, Seg.Ds, Seg.Fs, Seg.Gs])
        {
            LoadTaskSegment(seg, next.Segs[seg], cpl);
        }

        UpdateMode();
    }

    /// <summary>
    /// QEMU's tss_load_seg: a null CS or SS, a selector past its table, a system descriptor, a CS
    /// that is not code or whose DPL is not its RPL, an SS that is not writable data or whose DPL
    /// is not CPL and RPL, an execute-only code segment for a data register, or a data/non-conforming
    /// code segment below CPL or RPL: #TS(selector); not present #NP(selector). CPL follows SS.
    /// </summary>
    private void LoadTaskSegment(int seg, ushort selector, int cpl)
    {
        uint error = selector & 0xFFFCu;
        if (error == 0)
        {
            if (seg is Seg.Cs or Seg.Ss)
            {
                throw new GuestFault(Vector.TS, 0);
            }

            return;
        }

        if (!TryReadDescriptor(selector, out ulong desc) || (desc & DescS) == 0)
        {
            throw new GuestFault(Vector.TS, error);
        }

        int rpl = selector & 3, dpl = DescriptorDpl(desc);
        bool code = (desc & DescCode) != 0;
        bool refused = seg switch
        {
            Seg.Cs => !code || dpl != rpl,
            Seg.Ss => code || (desc & DescW) == 0 || dpl != cpl || dpl != rpl,
            _ => (code && (desc & DescR) == 0) || (((desc >> 40) & 0xF) < 12 && (dpl < cpl || dpl < rpl)),
        };
        if (refused)
        {
            throw new GuestFault(Vector.TS, error);
        }

        if ((desc & DescP) == 0)
        {
            throw new GuestFault(Vector.NP, error);
        }

        SetSegmentFromDescriptor(seg, selector, desc);
        if (seg == Seg.Ss)
        {
            ChangeCpl(dpl);
        }
    }
}
