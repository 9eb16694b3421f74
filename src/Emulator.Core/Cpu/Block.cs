namespace Emulator.Core.Cpu;

/// <summary>
/// A run of decoded instructions starting at one physical address and ending at a control
/// transfer, a mode-changing instruction, a breakpoint, the end of its page, or a length cap.
/// Keyed by physical address and bitness, so code that is reached through different linear
/// mappings shares one block, and a write to the page drops it.
/// </summary>
internal sealed class Block
{
    public const int MaxOps = 64;

    public Block(DecodedOp[] ops, int count, ulong physStart, int bitness, bool lastIsBranch)
    {
        Ops = ops;
        Count = count;
        PhysStart = physStart;
        Bitness = bitness;
        LastIsBranch = lastIsBranch;
    }

    public DecodedOp[] Ops { get; }

    public int Count { get; }

    public ulong PhysStart { get; }

    public int Bitness { get; }

    public bool LastIsBranch { get; }

    /// <summary>A breakpoint is set at the block's first instruction (blocks are split at breakpoints).</summary>
    public bool BreakpointAtStart { get; init; }

    /// <summary>
    /// Built while TF or RF was set or DR7 armed a breakpoint: one instruction, run with the
    /// debug checks (<see cref="Cpu.SteppingNow"/>), never compiled.
    /// </summary>
    public bool Stepping { get; init; }

    /// <summary>The run loop must enter this block through its slow path (<see cref="BreakpointAtStart"/> or <see cref="Stepping"/>).</summary>
    public bool SlowEntry { get; init; }

    /// <summary>Where the instructions this block executes are tallied, if anyone asked (<see cref="Cpu.CounterForBlock"/>).</summary>
    public ExecutionCounter? Counter { get; init; }

    // Links to the blocks that followed this one (the taken and the fall-through target of a
    // conditional branch), valid while the CPU's code generation is unchanged: no TLB flush,
    // code write, mode or CS change since they were made (Bochs-style trace linking).
    public Block? Link0;
    public Block? Link1;
    public ulong LinkRip0 = ulong.MaxValue;
    public ulong LinkRip1 = ulong.MaxValue;
    public long LinkGeneration = -1;

    /// <summary>Times the interpreter ran the whole block; at <see cref="Cpu.CompileThreshold"/> it is compiled.</summary>
    public int Executions;

    /// <summary>The block compiled to a .NET method (<see cref="Jit.BlockCompiler"/>), once it is hot.</summary>
    public Jit.CompiledBlock? Compiled;

    public void Link(long generation, ulong rip, Block next)
    {
        if (LinkGeneration != generation)
        {
            LinkGeneration = generation;
            LinkRip1 = ulong.MaxValue;
            Link1 = null;
            LinkRip0 = rip;
            Link0 = next;
        }
        else
        {
            // Keep the most recent two targets.
            LinkRip1 = LinkRip0;
            Link1 = Link0;
            LinkRip0 = rip;
            Link0 = next;
        }
    }
}
