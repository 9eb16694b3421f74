namespace Emulator.Core.Cpu;

/// <summary>
/// System Management Mode as QEMU 7.2's TCG x86_64 target implements it: the SMI input, entry
/// (QEMU target/i386/tcg/sysemu/smm_helper.c, do_smm_enter) with the AMD64 state-save map at
/// SMBASE+0x8000+0x7E00..0x7FFF, and RSM (helper_rsm) with SMBASE relocation. The map and the
/// entry state are tabled in docs/cpu.md, section "SMM". In SMM the CPU's accesses use the bus's
/// SMM view (<see cref="Memory.PhysicalBus.SmmView"/>, QEMU's address space 1 for attrs.secure
/// accesses), where the chipset's SMRAM is visible; the save area is written through it.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>QEMU's SMM_REVISION_ID for x86_64 (smm_helper.c): 0x64 = AMD64 map, bit 17 = SMBASE relocation.</summary>
    public const uint SmmRevisionId64 = 0x0002_0064;

    /// <summary>SMBASE after RESET (QEMU target/i386/cpu.c, x86_cpu_reset: env->smbase = 0x30000); INIT keeps it.</summary>
    public const uint DefaultSmBase = 0x3_0000;

    /// <summary>Revision-ID bit 17: the SMBASE field is reloaded at RSM (helper_rsm: val &amp; 0x20000).</summary>
    private const uint SmBaseRelocationBit = 1u << 17;

    /// <summary>Offsets of the save map from SMBASE+0x8000 (smm_helper.c; OvmfPkg QemuSmramSaveStateMap.h).</summary>
    private const uint SaveSegments = 0x7E00, SaveGdtr = 0x7E64, SaveLdtr = 0x7E70, SaveIdtr = 0x7E84, SaveTr = 0x7E90;

    private const uint SaveEfer = 0x7ED0, SaveRevision = 0x7EFC, SaveSmBase = 0x7F00, SaveCr4 = 0x7F48, SaveCr3 = 0x7F50;

    private const uint SaveCr0 = 0x7F58, SaveDr7 = 0x7F60, SaveDr6 = 0x7F68, SaveRFlags = 0x7F70, SaveRip = 0x7F78, SaveRax = 0x7FF8;

    /// <summary>Flat 4 GiB data segment loaded at entry: P, S, W, G, A (do_smm_enter's cpu_x86_load_seg_cache flags).</summary>
    private const uint SmmFlatAttributes = 0x0080_9300;

    internal bool _inSmm;
    internal bool _smiPending;

    /// <summary>NMIs were already blocked when SMM was entered (QEMU's HF2_SMM_INSIDE_NMI_MASK): RSM then keeps them blocked.</summary>
    internal bool _smmInsideNmi;

    /// <summary>The CPU runs in System Management Mode (QEMU's HF_SMM_MASK).</summary>
    public bool InSmm => _inSmm;

    /// <summary>
    /// Told at every change of <see cref="InSmm"/> (entry, RSM, reset, snapshot restore): devices
    /// that see SMM accesses differently (QEMU's attrs.secure, e.g. the secure CFI flash) keep
    /// their own copy instead of asking on every access.
    /// </summary>
    public Action<bool>? SmmChanged { get; set; }

    /// <summary>An SMI is latched and waits for the next instruction boundary outside SMM.</summary>
    public bool SmiPending => _smiPending;

    /// <summary>SMRAM state-save base (QEMU env->smbase); RSM reloads it when the revision ID has bit 17.</summary>
    public uint SmBase { get; internal set; } = DefaultSmBase;

    /// <summary>
    /// Use the 32-bit state-save map (QEMU builds it only into qemu-system-i386; every x86_64 build
    /// uses the AMD64 map, whatever the CPU model). A machine setting, not guest state.
    /// </summary>
    public bool SmmSaveMap32 { get; set; }

    /// <summary>SMIs taken so far (QEMU env->msr_smi_count, MSR 0x34).</summary>
    public long SmmEntries { get; internal set; }

    /// <summary>
    /// Instructions retired in SMM, each handler's RSM included, added at RSM (so a handler still
    /// running is not in it yet): the count at entry is kept and subtracted, nothing per instruction.
    /// </summary>
    public long SmmInstructions { get; internal set; }

    /// <summary><see cref="InstructionCount"/> when the current SMM visit began.</summary>
    internal long _smmEntryInstruction;

    /// <summary>
    /// The SMI input (QEMU's CPU_INTERRUPT_SMI): latched; taken at the next instruction boundary
    /// before NMI and INTR and whatever IF says, but not while in SMM: there it stays latched (one
    /// latch, further SMIs merge) until RSM (x86_cpu_pending_interrupt, target/i386/cpu.c).
    /// </summary>
    public void RaiseSmi()
    {
        _smiPending = true;
        _exitBlock = true;
    }

    /// <summary>Takes the latched SMI: saves the state map, then loads QEMU's SMM entry state (do_smm_enter).</summary>
    internal void EnterSmm()
    {
        _smiPending = false;
        _halted = false;
        SmmEntries++;
        _smmEntryInstruction = InstructionCount;
        SetInSmm(true);
        _smmInsideNmi = _nmiBlocked;
        _nmiBlocked = true;

        // SetInSmm switched the bus to the SMM view: the state is saved through it (do_smm_enter
        // stores via the CPU's SMM address space).
        if (SmmSaveMap32)
        {
            // qemu-system-i386: the 32-bit map, and EFER is left alone (no cpu_load_efer outside TARGET_X86_64).
            SaveSmmState32(SmBase + 0x8000UL);
        }
        else
        {
            SaveSmmState64(SmBase + 0x8000UL);
            _efer = 0;
        }

        SetFlags(RFlags.Reserved1);
        _rip = 0x8000;
        _cr0 &= ~(CrBits.PE | CrBits.EM | CrBits.TS | CrBits.PG);
        _cr4 = 0;
        _dr[7] = 0x400;
        DebugRegistersChanged();
        _seg[Seg.Cs] = new SegmentRegister { Selector = (ushort)(SmBase >> 4), Base = SmBase, Limit = 0xFFFF_FFFF, Attributes = SmmFlatAttributes };
        foreach (int s in (ReadOnlySpan<int>)[Seg.Ds, Seg.Es, Seg.Ss, Seg.Fs, Seg.Gs])
        {
            _seg[s] = new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF_FFFF, Attributes = SmmFlatAttributes };
        }

        _cpl = 0;
        FlushTlb();
        UpdateMode();
        _exitBlock = true;
    }

    /// <summary>
    /// RSM (helper_rsm): reloads everything the map holds, relocates SMBASE if the revision ID
    /// asks for it, leaves SMM and lets a latched SMI in. Segment caches come from the map, never
    /// from the GDT. Outside SMM RSM is #UD (QEMU translate.c: illegal_op without HF_SMM_MASK).
    /// </summary>
    internal void ReturnFromSmm()
    {
        if (!_inSmm)
        {
            throw new GuestFault(Vector.UD);
        }

        ulong map = SmBase + 0x8000UL;
        if (SmmSaveMap32)
        {
            RestoreSmmState32(map);
        }
        else
        {
            RestoreSmmState64(map);
        }

        // QEMU 7.2 takes CPL from SS.DPL (cpu_x86_load_seg_cache for R_SS).
        _cpl = _seg[Seg.Ss].Dpl;
        if (!_smmInsideNmi)
        {
            _nmiBlocked = false;
        }

        _smmInsideNmi = false;
        SetInSmm(false);

        // The handler runs with the count of the instructions before it, interpreted or compiled: + 1 is the RSM.
        SmmInstructions += InstructionCount - _smmEntryInstruction + 1;
        FlushTlb();
        UpdateMode();
        _exitBlock = true;
    }

    /// <summary>helper_rsm's TARGET_X86_64 branch: EFER, tables, GPRs, RIP, RFLAGS, DR6/7, CR4, CR3, CR0, segments, then SMBASE.</summary>
    private void RestoreSmmState64(ulong map)
    {
        _efer = SmramRead(map + SaveEfer, 8);
        _gdtr = new TableRegister { Base = SmramRead(map + SaveGdtr + 4, 8), Limit = (uint)SmramRead(map + SaveGdtr, 4) };
        _ldtr = ReadSavedSegment(map + SaveLdtr);
        _idtr = new TableRegister { Base = SmramRead(map + SaveIdtr + 4, 8), Limit = (uint)SmramRead(map + SaveIdtr, 4) };
        _tr = ReadSavedSegment(map + SaveTr);
        for (int i = 0; i < 16; i++)
        {
            _gpr[i] = SmramRead(map + SaveRax - (ulong)i * 8, 8);
        }

        _nextRip = SmramRead(map + SaveRip, 8);
        SetFlags((uint)SmramRead(map + SaveRFlags, 4));
        _dr[6] = (uint)SmramRead(map + SaveDr6, 4);
        _dr[7] = (uint)SmramRead(map + SaveDr7, 4);
        DebugRegistersChanged();
        _cr4 = (uint)SmramRead(map + SaveCr4, 4);
        _cr3 = SmramRead(map + SaveCr3, 8);
        LoadCr0((uint)SmramRead(map + SaveCr0, 4));
        for (int i = 0; i < 6; i++)
        {
            _seg[i] = ReadSavedSegment(map + SaveSegments + (ulong)i * 16);
        }

        RelocateSmBase(map + SaveRevision, map + SaveSmBase);
    }

    /// <summary>A revision ID with bit 17 makes RSM take the (possibly rewritten) SMBASE field: the relocation (helper_rsm).</summary>
    private void RelocateSmBase(ulong revisionAt, ulong smBaseAt)
    {
        if (((uint)SmramRead(revisionAt, 4) & SmBaseRelocationBit) != 0)
        {
            SmBase = (uint)SmramRead(smBaseAt, 4);
        }
    }

    /// <summary>Writes the AMD64 save map field by field, in do_smm_enter's TARGET_X86_64 order.</summary>
    private void SaveSmmState64(ulong map)
    {
        for (int i = 0; i < 6; i++)
        {
            WriteSavedSegment(map + SaveSegments + (ulong)i * 16, _seg[i]);
        }

        SmramWrite(map + SaveGdtr + 4, 8, _gdtr.Base);
        SmramWrite(map + SaveGdtr, 4, _gdtr.Limit);
        WriteSavedSegment(map + SaveLdtr, _ldtr);
        SmramWrite(map + SaveIdtr + 4, 8, _idtr.Base);
        SmramWrite(map + SaveIdtr, 4, _idtr.Limit);
        WriteSavedSegment(map + SaveTr, _tr);
        SmramWrite(map + SaveEfer, 8, _efer);
        for (int i = 0; i < 16; i++)
        {
            SmramWrite(map + SaveRax - (ulong)i * 8, 8, _gpr[i]);
        }

        SmramWrite(map + SaveRip, 8, _rip);
        SmramWrite(map + SaveRFlags, 4, (uint)GetFlags());
        SmramWrite(map + SaveDr6, 4, (uint)_dr[6]);
        SmramWrite(map + SaveDr7, 4, (uint)_dr[7]);
        SmramWrite(map + SaveCr4, 4, (uint)_cr4);
        SmramWrite(map + SaveCr3, 8, _cr3);
        SmramWrite(map + SaveCr0, 4, (uint)_cr0);
        SmramWrite(map + SaveRevision, 4, SmmRevisionId64);
        SmramWrite(map + SaveSmBase, 4, SmBase);
    }

    /// <summary>Selector 2, attributes 2 (descriptor bits 8–15 in 7:0, 20–23 in 15:12), limit 4, base 8.</summary>
    private void WriteSavedSegment(ulong at, SegmentRegister s)
    {
        SmramWrite(at, 2, s.Selector);
        SmramWrite(at + 2, 2, (s.Attributes >> 8) & 0xF0FF);
        SmramWrite(at + 4, 4, s.Limit);
        SmramWrite(at + 8, 8, s.Base);
    }

    private SegmentRegister ReadSavedSegment(ulong at) => new()
    {
        Selector = (ushort)SmramRead(at, 2),
        Attributes = ((uint)SmramRead(at + 2, 2) & 0xF0FF) << 8,
        Limit = (uint)SmramRead(at + 4, 4),
        Base = SmramRead(at + 8, 8),
    };

    /// <summary>Enters or leaves SMM: the bus switches to the matching view and listeners (the secure flash) hear of it.</summary>
    internal void SetInSmm(bool inSmm)
    {
        _inSmm = inSmm;
        _bus.SmmView = inSmm;
        SmmChanged?.Invoke(inSmm);
    }

    private ulong SmramRead(ulong address, int size) => _bus.Read(address, size);

    private void SmramWrite(ulong address, int size, ulong value) => _bus.Write(address, size, value);
}
