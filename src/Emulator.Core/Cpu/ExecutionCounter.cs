namespace Emulator.Core.Cpu;

/// <summary>
/// A tally of instructions executed in the blocks that carry it (see <see cref="Cpu.CounterForBlock"/>):
/// how a front end learns how many instructions ran inside one firmware module without a check per instruction.
/// </summary>
public sealed class ExecutionCounter
{
    public ExecutionCounter()
    {
    }

    /// <summary>A counter that continues a saved tally (a session restored from a state file).</summary>
    public ExecutionCounter(long instructions) => Instructions = instructions;

    public long Instructions { get; internal set; }
}
