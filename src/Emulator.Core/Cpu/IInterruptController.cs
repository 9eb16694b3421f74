namespace Emulator.Core.Cpu;

/// <summary>What the CPU asks of the interrupt hardware (local APIC, or the PIC on a bare machine).</summary>
public interface IInterruptController
{
    /// <summary>True when a maskable interrupt is waiting for delivery.</summary>
    bool HasPendingInterrupt { get; }

    /// <summary>The CPU accepts the highest-priority pending interrupt: returns its vector.</summary>
    int Acknowledge();
}
