using Emulator.Core.Cpu;
using Emulator.Core.Devices.Pci;
using Emulator.Core.Devices.Ps2;

namespace Emulator.Core.Machine;

/// <summary>What asked for a machine reset.</summary>
public enum ResetCause
{
    /// <summary>The PIIX3 reset control register 0xCF9 (bit 2).</summary>
    ResetControl,

    /// <summary>The keyboard controller pulsed the reset line (0x64 ← 0xFE, or output port bit 0 cleared).</summary>
    KeyboardController,

    /// <summary>Port 0x92 bit 0 (fast reset).</summary>
    FastReset,

    /// <summary>The CPU shut down after a fault while delivering a double fault.</summary>
    TripleFault,
}

/// <summary>A reset the machine went through: when (instruction index, virtual time) and why.</summary>
public sealed record MachineReset(int Boot, long Instruction, long VirtualTime, ResetCause Cause, string Detail);

/// <summary>
/// Machine reset the way QEMU performs qemu_system_reset: the CPU returns to its reset state,
/// every device to its power-on registers, flash chips to read-array mode with their contents
/// (the varstore) kept, PCI configuration (PAM, PIRQ routing, PM base) back to power-on values,
/// and RAM is NOT cleared — the firmware re-initialises what it needs, as on QEMU. Kept across a
/// reset like QEMU keeps them: RAM, flash contents, CMOS RAM and the clock, the ISA BIOS copy,
/// the CPU-hotplug block's mode, virtual time and the instruction count.
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>Resets the machine allows before a run ends with <see cref="StopReason.ResetLimit"/>.</summary>
    public const int DefaultMaxResets = 16;

    private readonly List<MachineReset> _resets = [];
    private (ResetCause Cause, string Detail)? _pendingReset;
    private string? _stopDetail;

    /// <summary>Resets performed (or, with <see cref="MachineOptions.NoReboot"/>, the one that ended the run), in order.</summary>
    public IReadOnlyList<MachineReset> Resets => _resets;

    /// <summary>Why the last <see cref="Run"/> stopped, in words (the CPU's detail unless the machine decided).</summary>
    public string? StopDetail => _stopDetail ?? Cpu.StopDetail;

    /// <summary>The current boot: 0 from power-on, one more after each reset.</summary>
    public int Boot { get; private set; }

    /// <summary>Raised after the machine reset and before the first instruction of the new boot.</summary>
    public event Action<MachineReset>? Rebooted;

    /// <summary>
    /// A device asks for a reset: the current instruction completes, then <see cref="Run"/>
    /// resets the machine (or stops with <see cref="StopReason.Reset"/> under NoReboot).
    /// </summary>
    public void RequestReset(ResetCause cause, string detail)
    {
        _pendingReset ??= (cause, detail);
        Cpu.RequestStop(StopReason.Reset, detail);
    }

    /// <summary>
    /// Runs until <paramref name="instructionLimit"/> instructions have executed in total or
    /// something other than a reboot stops the CPU. Guest resets and triple faults restart the
    /// machine (QEMU's qemu_system_reset_request: a triple fault is a reset request there) unless
    /// <see cref="MachineOptions.NoReboot"/> is set, in which case they end the run; a run that
    /// resets more than <see cref="MachineOptions.MaxResets"/> times stops with
    /// <see cref="StopReason.ResetLimit"/> instead of looping.
    /// </summary>
    public StopReason Run(long instructionLimit)
    {
        _stopDetail = null;
        while (true)
        {
            // A reset requested in the same instruction as another stop (a milestone) is still due.
            var reason = _pendingReset == null ? Cpu.Run(instructionLimit) : StopReason.Reset;
            (ResetCause Cause, string Detail) request;
            if (reason == StopReason.Reset && _pendingReset is { } pending)
            {
                request = pending;
            }
            else if (reason == StopReason.TripleFault)
            {
                request = (ResetCause.TripleFault, Cpu.StopDetail ?? "triple fault");
            }
            else
            {
                return reason;
            }

            _pendingReset = null;
            var record = new MachineReset(Boot, Cpu.InstructionCount, Cpu.VirtualTime, request.Cause, request.Detail);
            _resets.Add(record);
            if (Options.NoReboot)
            {
                return reason;
            }

            if (_resets.Count > Options.MaxResets)
            {
                _stopDetail = $"more than {Options.MaxResets} resets (a reset loop); the last: {request.Detail}";
                return StopReason.ResetLimit;
            }

            Reset();
            Rebooted?.Invoke(record);
        }
    }

    /// <summary>
    /// Resets the machine now (QEMU qemu_devices_reset, which walks the device tree, then the CPU
    /// reset): every device in <see cref="Devices"/> in wiring order, then the CPU; see the class
    /// summary for what is kept.
    /// </summary>
    public void Reset()
    {
        foreach (var device in _devices)
        {
            device.Reset();
        }

        Cpu.Reset();
        if (Boot == 0 && Options.BootOrderOnce != null)
        {
            // vl.c restore_boot_order: -boot once= held for the first boot only.
            SetBootOrderCmosBytes(Options.BootOrder);
        }

        Boot++;
    }

    private void WireResetSources()
    {
        Action<byte> reset = v => RequestReset(ResetCause.ResetControl, $"reset control register 0xCF9 ← 0x{v:X2}");
        ResetControl = AddDevice(Options.Chipset == PcChipset.Q35
            ? new ResetControlRegister(reset, "ich9-reset-control", ResetControlRegister.Ich9KeptBits)
            : new ResetControlRegister(reset));
        Pci.ResetControl = ResetControl;
        Keyboard = AddDevice(new I8042(() => RequestReset(ResetCause.KeyboardController, "keyboard controller reset pulse (0x64)")));
        Ports.Register(I8042.DataPort, I8042.PortCount, Keyboard);
        Ports.Register(I8042.CommandPort, I8042.PortCount, Keyboard.CommandRegister);
        Port92.ResetRequested += () => RequestReset(ResetCause.FastReset, "port 0x92 fast reset");
    }
}
