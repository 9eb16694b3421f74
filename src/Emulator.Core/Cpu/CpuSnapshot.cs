using Emulator.Core.Cpu.Float;

namespace Emulator.Core.Cpu;

/// <summary>
/// The whole architectural state of the CPU as plain data, for machine snapshots: registers,
/// segment caches, descriptor tables, control and debug registers, MSRs, x87/SSE state, the
/// run state (halted, interrupt shadow, NMI latch and blocking, SMM and the SMI latch, SVM) and the counters that define virtual time. Decoded
/// blocks and the TLB are caches and are rebuilt after a restore.
/// </summary>
public sealed record CpuSnapshot
{
    public required ulong[] Gprs { get; init; }

    public required ulong Rip { get; init; }

    public required ulong RFlags { get; init; }

    public required SegmentRegister[] Segments { get; init; }

    public required TableRegister Gdtr { get; init; }

    public required TableRegister Idtr { get; init; }

    public required SegmentRegister Ldtr { get; init; }

    public required SegmentRegister Tr { get; init; }

    public required ulong[] ControlRegisters { get; init; }

    public required ulong Efer { get; init; }

    public required ulong[] DebugRegisters { get; init; }

    public required int Cpl { get; init; }

    public required bool Halted { get; init; }

    public required bool InterruptShadow { get; init; }

    /// <summary>An NMI latched and not yet delivered.</summary>
    public bool NmiPending { get; init; }

    /// <summary>An NMI handler is running (NMIs blocked until IRET).</summary>
    public bool NmiBlocked { get; init; }

    /// <summary>In System Management Mode, an SMI latched, and NMIs blocked before SMM entry (QEMU HF_SMM_MASK, CPU_INTERRUPT_SMI, HF2_SMM_INSIDE_NMI_MASK).</summary>
    public bool InSmm { get; init; }

    public bool SmiPending { get; init; }

    public bool SmmInsideNmi { get; init; }

    /// <summary>The SMRAM state-save base (QEMU env->smbase), 0x30000 after RESET.</summary>
    public uint SmBase { get; init; } = Cpu.DefaultSmBase;

    /// <summary>SVM: guest mode, GIF, the VMCB and its intercepts (null: the reset state, which older files also get).</summary>
    public SvmSnapshot? Svm { get; init; }

    /// <summary>SMIs taken so far (QEMU env->msr_smi_count).</summary>
    public long SmmEntries { get; init; }

    /// <summary>Instructions retired in SMM so far, and the instruction count at the current SMM entry.</summary>
    public long SmmInstructions { get; init; }

    public long SmmEntryInstruction { get; init; }

    public required long InstructionCount { get; init; }

    public required long RepIterations { get; init; }

    public required long IdleTicks { get; init; }

    public required long WaitTicks { get; init; }

    public required IReadOnlyDictionary<uint, ulong> Msrs { get; init; }

    public required Float80[] X87 { get; init; }

    public required UInt128[] Xmm { get; init; }

    /// <summary>FCW, FSW, abridged tag, TOP, MXCSR.</summary>
    public required (ushort Control, ushort Status, byte Tags, int Top, uint Mxcsr) FpuControl { get; init; }

    /// <summary>The x87 last-instruction pointers FCS:FIP and FDS:FDP, and IGNNE# (absent in older files: zeros).</summary>
    public (ulong Fip, ushort Fcs, ulong Fdp, ushort Fds, bool IgnoreNumericError) FpuPointers { get; init; }

    /// <summary>Guest exceptions delivered so far, and the last vector (a double fault's detection reads it); -1 for none.</summary>
    public long ExceptionCount { get; init; }

    public int LastException { get; init; } = -1;

    /// <summary>The breakpoint the run stopped at, which the next block entry steps over instead of stopping again.</summary>
    public ulong SkipBreakpointAt { get; init; } = ulong.MaxValue;

    /// <summary>
    /// The physical pages that held decoded blocks, and for each page the pages whose blocks spill
    /// into it. A guest write to such a page ends the running block (the cache drops the page), and
    /// the run loop checks timer deadlines and interrupts only between blocks; so a restored CPU
    /// must end blocks on the same writes as the saved one would have, or an interrupt could
    /// land one instruction elsewhere. The blocks themselves are decoded again on demand.
    /// </summary>
    public ulong[] CodePages { get; init; } = [];

    public IReadOnlyDictionary<ulong, ulong[]> SpillOwners { get; init; } = new Dictionary<ulong, ulong[]>();
}
