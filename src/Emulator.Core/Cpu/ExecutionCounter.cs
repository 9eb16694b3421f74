namespace Emulator.Core.Cpu;

/// <summary>
/// A tally of instructions executed in the blocks that carry it (see <see cref="Cpu.CounterForBlock"/>):
/// how a front end learns how many instructions ran inside one firmware module without a check per instruction.
/// </summary>
public sealed class ExecutionCounter
{
    public long Instructions { get; internal set; }
}
