using Emulator.Core.Cpu;
using Emulator.Core.Devices;
using Emulator.Core.Memory;
using Emulator.Core.Timing;

namespace Emulator.Core.Machine;

/// <summary>One device's saved state under its machine-unique name.</summary>
public sealed record NamedDeviceState(string Name, DeviceState State);

/// <summary>The machine's own run state: the boot number, the resets so far, and a reset requested but not yet performed.</summary>
public sealed record MachineRunState(int Boot, IReadOnlyList<MachineReset> Resets, ResetCause? PendingResetCause, string? PendingResetDetail);

/// <summary>
/// A whole PC machine at an instruction boundary (after QEMU's savevm: every device's VMState,
/// RAM and the flash contents): the CPU, each device's <see cref="DeviceState"/> by name, the
/// scheduler's pending deadlines with their tie order, the busy-wait skipper's streak, the port
/// access count it reads, RAM (an immutable <see cref="RamImage"/> that restores copy-on-write),
/// the flash chips' contents and the machine's boot and reset record. Everything that decides
/// what the guest does next is here; host attachments (serial backends, listeners, the code
/// cache's blocks) are not. Restoring it onto a machine built with the same RAM size and flash
/// layout makes that machine continue exactly as this one would have
/// (<see cref="PcMachine.Restore"/>). Dispose releases the RAM image; machines restored from it keep
/// their own mapping.
/// </summary>
public sealed record MachineSnapshot : IDisposable
{
    /// <summary>The only machine type there is: QEMU's i440FX "pc".</summary>
    public const string PcI440fx = "pc-i440fx";

    public string MachineType { get; init; } = PcI440fx;

    public required ulong RamSize { get; init; }

    /// <summary>Where each flash chip sat (unit, name, base, size): a restore needs the same layout.</summary>
    public required IReadOnlyList<FlashPlacement> FlashLayout { get; init; }

    public required CpuSnapshot Cpu { get; init; }

    public required IReadOnlyList<NamedDeviceState> Devices { get; init; }

    public required SchedulerState Scheduler { get; init; }

    public required BusyWaitState BusyWait { get; init; }

    public required long PortAccesses { get; init; }

    public required MachineRunState Run { get; init; }

    /// <summary>The unassigned-access log (what the run report lists; guests never see it).</summary>
    public required UnassignedLogState Unassigned { get; init; }

    public required RamImage Ram { get; init; }

    /// <summary>Each flash unit's contents, in unit order.</summary>
    public required IReadOnlyList<byte[]> Flash { get; init; }

    public void Dispose() => Ram.Dispose();
}
