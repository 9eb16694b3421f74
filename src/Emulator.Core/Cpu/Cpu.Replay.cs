using System.Runtime.CompilerServices;

namespace Emulator.Core.Cpu;

/// <summary>
/// What re-executing history needs (a debugger's reverse execution, GdbHistory in the hosting
/// library). An instruction observer is told before every instruction runs without changing
/// which blocks the CPU runs: a tracer (<see cref="Tracer"/>) builds single-instruction blocks,
/// and the run loop takes timer events only between blocks, so tracing moves the instructions
/// where interrupts arrive; an observer keeps the blocks the run would have had and only
/// interprets them (compiled code has no per-instruction hook). <see cref="RunToBlockStart"/>
/// reaches a stop a run made after an interrupt's delivery, which no instruction count names.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>The <see cref="StopDetail"/> of <see cref="RunToBlockStart"/>'s stop.</summary>
    public const string BlockStartDetail = "block start";

    private bool _stopAtNextBlock;

    /// <summary>
    /// Runs only what comes before the next block — a pending interrupt's or fault's delivery,
    /// after idling to it when halted — and stops at that block, before it runs
    /// (<see cref="StopReason.Breakpoint"/>, <see cref="BlockStartDetail"/>); no instruction retires.
    /// </summary>
    public StopReason RunToBlockStart()
    {
        _stopAtNextBlock = true;
        try
        {
            return Run(long.MaxValue);
        }
        finally
        {
            _stopAtNextBlock = false;
        }
    }

    private Action<Cpu>? _observer;

    /// <summary>True while a tracer or an observer needs every block entered on the slow path.</summary>
    private bool _everyBlockSlow;

    /// <summary>Called before each instruction (CS:RIP at it, <see cref="InstructionCount"/> the instructions before it); null for none.</summary>
    public Action<Cpu>? InstructionObserver
    {
        get => _observer;
        set
        {
            _observer = value;
            _everyBlockSlow = _tracer != null || _observer != null;
        }
    }

    /// <summary>What the interpreter's loop does before each instruction, chosen at compile time (a struct: no call when it does nothing).</summary>
    private interface IInstructionHook
    {
        void Before(Cpu cpu);
    }

    private readonly struct NoInstructionHook : IInstructionHook
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Before(Cpu cpu)
        {
        }
    }

    private readonly struct ObserverHook : IInstructionHook
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Before(Cpu cpu) => cpu._observer?.Invoke(cpu);
    }
}
