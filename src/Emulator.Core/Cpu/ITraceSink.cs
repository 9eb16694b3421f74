namespace Emulator.Core.Cpu;

/// <summary>Receives the CPU state before every instruction while tracing (blocks are one instruction then).</summary>
public interface ITraceSink
{
    /// <summary>Called with the state before the instruction at CS:RIP executes; return false to stop tracing.</summary>
    bool BeforeInstruction(Cpu cpu);
}
