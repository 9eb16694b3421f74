using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Emulator.Core.Timing;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The run loop. Per block, not per instruction: timer deadlines, interrupts, HLT, breakpoints
/// and the instruction budget. Per instruction only: set the next RIP, call the handler through
/// its function pointer, count, and test the block-exit flag. Guest faults arrive as
/// <see cref="GuestFault"/> and are delivered here; the hot method itself has no try block.
/// </summary>
public sealed partial class Cpu
{
    private readonly Dictionary<Code, long> _unimplemented = [];
    private StopReason _stopReason;
    private string? _stopDetail;
    internal bool _halted;
    internal bool _interruptShadow;

    /// <summary>An NMI is latched and waits for delivery (SDM Vol. 3 §6.7).</summary>
    internal bool _nmiPending;

    /// <summary>An NMI handler runs: further NMIs wait until the next IRET (SDM Vol. 3 §6.7.1).</summary>
    internal bool _nmiBlocked;
    private int _lastBitness = -1;
    private ulong _skipBreakpointAt = ulong.MaxValue;
    private ITraceSink? _tracer;

    /// <summary>
    /// Whole-block runs after which a block is compiled to a .NET method. A compile costs about
    /// a millisecond of the compiler thread; the boot's hot loops run their blocks millions of
    /// times, and ~700 blocks pass this mark on the way to the Shell banner (Debian's 2 MB build, `--verbose`).
    /// </summary>
    public int CompileThreshold { get; set; } = 4000;

    /// <summary>Compile hot blocks (<see cref="Jit.BlockCompiler"/>); off runs everything in the interpreter.</summary>
    public bool BlockCompilation { get; set; } = true;

    /// <summary>This CPU's block compiler: its queue, thread and counters belong to the machine, not the process.</summary>
    private readonly Jit.BackgroundCompiler _compiler = new();

    /// <summary>Blocks compiled and refused so far by this CPU's block compiler, and why the last refusal happened (diagnostics).</summary>
    public (long Compiled, long Refused, string? LastRefusal) CompilerStatistics =>
        (_compiler.Compiled, _compiler.Failed, _compiler.LastFailure);

    /// <summary>Stops this CPU's compiler thread (the machine is done with it); blocks still queued stay interpreted.</summary>
    public void StopCompiler() => _compiler.Dispose();

    /// <summary>Compile on the CPU thread when a block gets hot, instead of on the compiler thread (tests).</summary>
    public bool CompileSynchronously { get; set; }

    /// <summary>
    /// For a compiled block that loops on itself: whether the run loop would run it again now
    /// (the checks <see cref="RunBlocks"/> makes before each block), so the loop can stay inside.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool CanRunAgain(long instructionLimit, int count, long generation) =>
        !_exitBlock && generation == _codeGeneration && instructionLimit - InstructionCount >= count &&
        (Scheduler is not { } scheduler || VirtualTime < scheduler.NextDeadline);

    /// <summary>Blocks this CPU compiled on its own thread (<see cref="CompileSynchronously"/>); the compiler thread's work is not counted here.</summary>
    public long BlocksCompiled { get; private set; }

    /// <summary>
    /// Compiles the block at CS:RIP now, on this thread, whatever its execution count: a block
    /// that faults on its first run never counts an execution, so it never reaches
    /// <see cref="CompileThreshold"/> (the CPU fuzzer compiles every block of a sequence with it,
    /// tests/Emulator.CpuFuzz.Tests). True when the block is compiled.
    /// </summary>
    internal bool CompileBlockAtRip()
    {
        var block = GetBlock();
        if (block.Compiled == null && _compiler.CompileNow(block))
        {
            BlocksCompiled++;
        }

        return block.Compiled != null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CompileHot(Block block)
    {
        if (CompileSynchronously)
        {
            if (_compiler.CompileNow(block))
            {
                BlocksCompiled++;
            }
        }
        else
        {
            _compiler.Enqueue(block);
        }
    }

    /// <summary>Called at a breakpoint before its instruction runs; return true to stop the run there.</summary>
    public Func<Cpu, ulong, bool>? BreakpointHit { get; set; }

    /// <summary>Called at the first instruction executed in a new mode (argument: 16, 32 or 64).</summary>
    public Action<Cpu, int>? ModeEntered { get; set; }

    public IInterruptController? InterruptController { get; set; }

    /// <summary>
    /// Called from the run loop between slices of blocks (at most every few thousand blocks, and
    /// on every idle step), on the CPU thread at an instruction boundary: host-side housekeeping
    /// that must see a consistent machine but never changes guest state, such as handing
    /// completed flash writes to the varstore writer.
    /// </summary>
    public Action? HostPoll { get; set; }

    /// <summary>
    /// Called when the CPU, halted by HLT, waits for an interrupt: once per idle step, before
    /// virtual time moves to the next deadline (the host's idle milestone watches it).
    /// </summary>
    public Action? Halting { get; set; }

    public Scheduler? Scheduler { get; set; }

    /// <summary>
    /// Virtual time in instruction ticks: retired instructions, extra REP iterations, and time
    /// skipped while the guest waited (HLT, recognised polling).
    /// </summary>
    public long VirtualTime
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => InstructionCount + RepIterations + IdleTicks + WaitTicks;
    }

    /// <summary>Ticks that HLT skipped ahead to the next timer deadline.</summary>
    public long IdleTicks { get; private set; }

    /// <summary>Ticks skipped inside recognised busy-wait loops (<see cref="BusyWaitSkipper"/>).</summary>
    public long WaitTicks { get; private set; }

    /// <summary>Holds the host before virtual time skips ahead (HLT); null runs waits as fast as possible.</summary>
    public IPacer? Pacer { get; set; }

    /// <summary>Moves virtual time ahead by <paramref name="ticks"/> as if the current instruction had taken that long.</summary>
    public void SkipWait(long ticks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ticks);
        WaitTicks += ticks;
    }

    public bool Halted => _halted;

    public string? StopDetail => _stopDetail;

    /// <summary>Instructions Iced decoded that no handler implements, with how often each was hit.</summary>
    public IReadOnlyDictionary<Code, long> Unimplemented => _unimplemented;

    /// <summary>The last exception delivered (vector), for reports; -1 when none.</summary>
    public int LastException { get; internal set; } = -1;

    public long ExceptionCount { get; internal set; }

    public ITraceSink? Tracer
    {
        get => _tracer;
        set
        {
            _tracer = value;
            _everyBlockSlow = _tracer != null || _observer != null;
            int limit = value == null ? Block.MaxOps : 1;
            if (limit != BlockLimit)
            {
                // Blocks are built for one limit; single-instruction blocks must not outlive tracing.
                BlockLimit = limit;
                FlushCodeCache();
            }
        }
    }

    internal void RecordUnimplemented(Code code) =>
        _unimplemented[code] = _unimplemented.GetValueOrDefault(code) + 1;

    /// <summary>
    /// Tells the CPU that the interrupt controller's state changed (a request raised, EOI, TPR):
    /// the run loop re-checks for a deliverable interrupt at the next instruction boundary.
    /// </summary>
    public void InterruptStateChanged() => _exitBlock = true;

    /// <summary>
    /// The NMI input (a local APIC NMI message): latched, delivered through vector 2 at the next
    /// instruction boundary whatever IF says, then blocked until IRET (QEMU's CPU_INTERRUPT_NMI
    /// and HF2_NMI_MASK). NMIs raised while one is latched or blocked merge into one.
    /// </summary>
    public void RaiseNmi()
    {
        _nmiPending = true;
        _exitBlock = true;
    }

    /// <summary>Asks the run loop to return at the next instruction boundary.</summary>
    public void RequestStop(StopReason reason, string? detail = null)
    {
        if (_stopReason == StopReason.None)
        {
            _stopReason = reason;
            _stopDetail = detail;
        }

        _exitBlock = true;
    }

    /// <summary>
    /// Like <see cref="RequestStop"/>, from a <see cref="BlockDecoding"/> handler: the run stops
    /// before the block being decoded executes, at its first instruction (a plain request there
    /// would stop after it).
    /// </summary>
    public void RequestStopBeforeBlock(StopReason reason, string detail)
    {
        RequestStop(reason, detail);
        _stopBeforeBlock = true;
    }

    private bool _stopBeforeBlock;

    /// <summary>
    /// NMI and INTR stay pending, not delivered (a debugger's single step, as QEMU's gdbstub
    /// steps with SSTEP_NOIRQ: a step never lands in an interrupt handler). A halted CPU still
    /// waits for them, so its holder must not set this while <see cref="Halted"/>.
    /// </summary>
    public bool HoldInterrupts { get; set; }

    /// <summary>Runs until <see cref="InstructionCount"/> reaches <paramref name="instructionLimit"/> or something stops it.</summary>
    public StopReason Run(long instructionLimit)
    {
        _stopReason = StopReason.None;
        _stopDetail = null;
        _stopBeforeBlock = false;
        while (true)
        {
            HostPoll?.Invoke();
            if (_stopReason != StopReason.None)
            {
                return _stopReason;
            }

            if (InstructionCount >= instructionLimit)
            {
                return StopReason.InstructionLimit;
            }

            var scheduler = Scheduler;
            if (scheduler != null && VirtualTime >= scheduler.NextDeadline)
            {
                scheduler.RunDue(VirtualTime);
            }

            if (_svmGuest || !_gif)
            {
                // SVM: GIF gates everything, intercepts come first (Cpu.SvmIntercepts.cs).
                if (TakeInterruptWithSvm(out bool stopped))
                {
                    if (stopped)
                    {
                        return _stopReason;
                    }

                    continue;
                }
            }
            else if (_smiPending && !_inSmm)
            {
                // SMI first, before the shadow, NMI and INTR, IF ignored; in SMM it stays latched
                // (QEMU target/i386/cpu.c, x86_cpu_pending_interrupt; tcg/sysemu/seg_helper.c).
                EnterSmm();
                continue;
            }
            else if (_interruptShadow)
            {
                // The instruction after STI / MOV SS runs before any interrupt is taken.
                _interruptShadow = false;
                _shadowedInstruction = InstructionCount;
            }
            else if (_nmiPending && !_nmiBlocked && !HoldInterrupts)
            {
                _nmiPending = false;
                _nmiBlocked = true;
                _halted = false;
                if (!TryDeliver(Vector.NMI, null, external: true))
                {
                    return _stopReason;
                }

                continue;
            }
            else if ((_flags & RFlags.IF) != 0 && !HoldInterrupts && InterruptController is { HasPendingInterrupt: true } pic)
            {
                _halted = false;
                if (!TryDeliver(pic.Acknowledge(), null, external: true))
                {
                    return _stopReason;
                }

                continue;
            }

            if (_halted)
            {
                Halting?.Invoke();
                if (!IdleUntilNextEvent())
                {
                    return StopReason.Halted;
                }

                continue;
            }

            try
            {
                RunBlocks(instructionLimit, SliceBlocks);
            }
            catch (GuestFault fault)
            {
                if (!TryDeliver(fault.Vector, fault.ErrorCode, external: false))
                {
                    return _stopReason;
                }
            }
        }
    }

    /// <summary>
    /// Blocks run per call of <see cref="RunBlocks"/>. The hot loop lives in a method that is
    /// called many times, so the runtime's tiered compiler promotes it (with profile-guided
    /// optimisation) instead of leaving one long call in on-stack-replacement code.
    /// </summary>
    private const int SliceBlocks = 4096;

    /// <summary>
    /// Runs up to <paramref name="maxBlocks"/> blocks, returning early for anything the outer loop
    /// handles: a stop request, the instruction limit, a timer deadline, a possible interrupt, HLT.
    /// A boot runs about 160 million blocks of ~5 instructions each, so this loop keeps only the
    /// link check and the exit tests inline; the block lookup and everything rare (mode entry,
    /// breakpoints, tracing) live in separate methods so the hot state stays in registers. Never
    /// inlined: <see cref="Run"/> is entered once per boot and runs as on-stack-replacement code,
    /// which would otherwise carry this loop without its profile.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RunBlocks(long instructionLimit, int maxBlocks)
    {
        var scheduler = Scheduler;
        Block? previous = null;
        for (int n = 0; n < maxBlocks; n++)
        {
            if (n > 0 && (_exitBlock || InstructionCount >= instructionLimit || (scheduler != null && VirtualTime >= scheduler.NextDeadline)))
            {
                // The last block ended on an event (mode or IF change, HLT, stop request, code
                // write, interrupt controller write ...) or time is due: the outer loop decides.
                return;
            }

            Block block;
            if (previous != null && previous.LinkGeneration == _codeGeneration && previous.LinkRip0 == _rip)
            {
                block = previous.Link0!;
            }
            else if (previous != null && previous.LinkGeneration == _codeGeneration && previous.LinkRip1 == _rip)
            {
                block = previous.Link1!;
            }
            else
            {
                block = LookUpAndLink(previous);
                if (_stopBeforeBlock | _stopAtNextBlock)
                {
                    // Asked while the block was decoded (a debugger stopping at a module's entry),
                    // or by RunToBlockStart: the block has not run, RIP is its first instruction.
                    if (_stopAtNextBlock)
                    {
                        RequestStop(StopReason.Breakpoint, BlockStartDetail);
                    }

                    _stopBeforeBlock = false;
                    return;
                }
            }

            previous = block;
            if (block.Bitness != _lastBitness || block.SlowEntry || _everyBlockSlow)
            {
                if (!EnterBlockSlow(block, instructionLimit))
                {
                    if (_ranObserved)
                    {
                        // It ran observed: on to the next block as after any block.
                        _ranObserved = false;
                        continue;
                    }

                    return;
                }
            }
            else
            {
                _skipBreakpointAt = ulong.MaxValue;
            }

            long before = InstructionCount;
            long budget = instructionLimit - before;
            if (block.Compiled is { } compiled && budget >= block.Count)
            {
                n += compiled(this, block.Ops, instructionLimit, maxBlocks - n) - 1;
            }
            else
            {
                // No observer here: while one watches, every block runs in EnterBlockSlow.
                ExecuteBlock<NoInstructionHook>(block, budget < block.Count ? (int)budget : block.Count);
                if (++block.Executions == CompileThreshold && BlockCompilation && !_everyBlockSlow)
                {
                    CompileHot(block);
                }
            }

            if (block.Counter is { } counter)
            {
                // A guest fault leaves the block by exception: its executed part goes uncounted.
                counter.Instructions += InstructionCount - before;
            }
        }
    }

    /// <summary>The block at CS:RIP from the cache (decoding it if needed), remembered as a successor of <paramref name="previous"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Block LookUpAndLink(Block? previous)
    {
        long generation = _codeGeneration;
        var block = GetBlock();
        previous?.Link(generation, _rip, block);
        return block;
    }

    /// <summary>Set by <see cref="EnterBlockSlow"/> when it ran the block under the observer: the run loop goes on to the next block.</summary>
    private bool _ranObserved;

    /// <summary>
    /// Block entry when something rare applies: the first block in a new mode, a breakpoint at
    /// the block's start, an active tracer or instruction observer, or a block built for stepping
    /// (TF, RF, DR7: Cpu.Debug.cs), which runs here, as does every block while an
    /// <see cref="InstructionObserver"/> watches (interpreted: compiled code has no per-instruction
    /// hook; <see cref="_ranObserved"/> tells). False when the run loop must not run the block: it
    /// stops, or the block has run here (a stepping block ends the slice, so the outer loop
    /// re-checks everything).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterBlockSlow(Block block, long instructionLimit)
    {
        if (block.Bitness != _lastBitness)
        {
            _lastBitness = block.Bitness;
            ModeEntered?.Invoke(this, block.Bitness);
            if (_stopReason != StopReason.None)
            {
                return false;
            }
        }

        if (block.BreakpointAtStart && BreakpointHit != null)
        {
            ulong lin = LinearRip;
            if (lin != _skipBreakpointAt && BreakpointHit(this, lin))
            {
                _skipBreakpointAt = lin;
                RequestStop(StopReason.Breakpoint);
                return false;
            }
        }

        _skipBreakpointAt = ulong.MaxValue;
        if (_tracer != null && !_tracer.BeforeInstruction(this))
        {
            Tracer = null;
        }

        if (block.Stepping)
        {
            RunSteppingBlock(block);
            return false;
        }

        if (_observer != null)
        {
            long budget = instructionLimit - InstructionCount;
            ExecuteBlock(block, budget < block.Count ? (int)budget : block.Count);
            _ranObserved = true;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Runs the first <paramref name="count"/> instructions of a block. Only a block's last
    /// instruction can transfer control, so the others just advance RIP; the last one, when it is
    /// a branch, gets <c>_nextRip</c> to set. Inlined into the block loop: a boot runs ~160 million
    /// blocks, and a call with its register saves per block costs more than the loop itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ExecuteBlock(Block block, int count)
    {
        if (_observer == null)
        {
            ExecuteBlock<NoInstructionHook>(block, count);
        }
        else
        {
            ExecuteBlock<ObserverHook>(block, count);
        }
    }

    /// <summary>The interpreter's loop over a block's first <paramref name="count"/> instructions, with <typeparamref name="THook"/> told before each (nothing, in the run's own instantiation).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void ExecuteBlock<THook>(Block block, int count)
        where THook : struct, IInstructionHook
    {
        ref DecodedOp op = ref MemoryMarshal.GetArrayDataReference(block.Ops);
        _exitBlock = false;
        int plain = block.LastIsBranch && count == block.Count ? count - 1 : count;
        ref DecodedOp end = ref Unsafe.Add(ref op, plain);
        while (Unsafe.IsAddressLessThan(ref op, ref end))
        {
            default(THook).Before(this);
            op.Handler(this, ref op);
            _rip += op.Length;
            InstructionCount++;
            if (_exitBlock)
            {
                return;
            }

            op = ref Unsafe.Add(ref op, 1);
        }

        if (plain < count)
        {
            default(THook).Before(this);
            _nextRip = _rip + op.Length;
            op.Handler(this, ref op);
            _rip = _nextRip;
            InstructionCount++;
        }
    }

    /// <summary>
    /// The guest waits for an event without halting (a host probe recognised the wait, e.g. an
    /// OS loader polling a console whose input only a timer event can change): virtual time jumps
    /// to the next deadline as at HLT and counts as idle, and the run loop delivers the event
    /// after the current block. Nothing happens with interrupts disabled or no timer armed (the
    /// wait could then only end by the guest's own work). Returns whether time moved.
    /// </summary>
    public bool IdleUntilNextDeadline()
    {
        if ((_flags & RFlags.IF) == 0 || Scheduler is not { } scheduler || scheduler.NextDeadline == long.MaxValue || scheduler.NextDeadline <= VirtualTime)
        {
            return false;
        }

        Pacer?.WaitUntil(scheduler.NextDeadline);
        IdleTicks += scheduler.NextDeadline - VirtualTime;
        return true;
    }

    /// <summary>HLT with interrupts enabled: jump virtual time to the next deadline. False if nothing can wake us.</summary>
    private bool IdleUntilNextEvent()
    {
        if ((_flags & RFlags.IF) == 0 || Scheduler is not { } scheduler || scheduler.NextDeadline == long.MaxValue)
        {
            _stopDetail ??= (_flags & RFlags.IF) == 0 ? "HLT with interrupts disabled" : "HLT with no timer armed";
            return false;
        }

        IdleUntilNextDeadline();
        scheduler.RunDue(VirtualTime);
        return true;
    }
}
