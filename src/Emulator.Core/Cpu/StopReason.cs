namespace Emulator.Core.Cpu;

/// <summary>Why <see cref="Cpu.Run"/> returned.</summary>
public enum StopReason
{
    None,

    /// <summary>The instruction budget ran out.</summary>
    InstructionLimit,

    /// <summary>A breakpoint handler asked to stop (milestone reached, debugger).</summary>
    Breakpoint,

    /// <summary>HLT with nothing that could ever wake the CPU (interrupts off, or no timer armed).</summary>
    Halted,

    /// <summary>An exception while delivering a double fault: the CPU shuts down (SDM 6.15, #DF).</summary>
    TripleFault,

    /// <summary>The guest powered the machine off (ACPI S5 through the PM1 control register).</summary>
    PowerOff,

    /// <summary>A device or the host asked the machine to stop (power off, reset request, signal).</summary>
    Requested,

    /// <summary>
    /// The guest asked for a machine reset (reset control register, keyboard controller, port
    /// 0x92). The machine restarts unless it was told to stop on resets (QEMU's -no-reboot).
    /// </summary>
    Reset,

    /// <summary>The machine reset more often than its reset limit allows (a reset loop).</summary>
    ResetLimit,

    /// <summary>The host's hang detector found the guest spinning in a dead loop (see the CLI's HangDetector).</summary>
    Hang,

    /// <summary>The guest asked the emulator to exit with a status (QEMU's isa-debug-exit test device).</summary>
    GuestExit,

    /// <summary>The guest asked for something emu does not model (an SVM guest with nested paging); the detail names it.</summary>
    Unsupported,
}
