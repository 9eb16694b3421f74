using Emulator.Core.Machine;

namespace Emulator.Hosting.Boot;

/// <summary>
/// The rule of the <c>idle</c> milestone — the boot has finished and the firmware waits for the
/// user (a Shell prompt, the Boot Manager menu, a setup page): the console has printed something
/// in this boot, and since the first input wait after the last byte printed the guest has done
/// nothing but wait for input for <see cref="QuietNs"/> of virtual time.
///
/// An input wait is a read of a UART's line status or receive register with nothing received, a
/// read of the keyboard controller's status with its output buffer empty, a call of the
/// firmware's console-input service by an OS loader (GRUB polls it in a loop and never halts:
/// <see cref="ConsoleInputPolls"/>), or a HLT — what OVMF
/// does when it waits: the DXE core's WaitForEvent signals the idle-loop event, on which CpuDxe
/// halts until the next timer tick (edk2 Event.c CoreWaitForEvent, CpuDxe.c
/// IdleLoopEventCallback; LocalApicTimerDxe ticks every 10 ms), and TerminalDxe and
/// Ps2KeyboardDxe poll their devices from 20 ms timers (KEYBOARD_TIMER_INTERVAL). Waiting means
/// the input waits follow each other closely: between two consecutive ones the guest may be busy
/// (virtual time not spent halted: executed instructions, REP iterations and skipped PM-timer
/// polling) for at most <see cref="MaxBusyBetweenWaitsNs"/>. An idle Shell is busy at most
/// 4.4 µs between two (Debian's 2 MB build). A silent computation, or a long Stall, is not idle
/// even though those timers keep polling through it: 20 ms of busy time lie between their polls.
/// Any longer busy stretch, or any byte printed, opens a new window at the next input wait.
///
/// Driven by device reads and HLT only (never per instruction), and by virtual time and
/// instruction counts only, so it fires at the same instruction on every run: at the first input
/// wait at least <see cref="QuietNs"/> after the window opened, at most one timer tick late.
/// </summary>
internal sealed class IdleDetector
{
    /// <summary>How long the console stays quiet while the guest waits: 3 virtual seconds.</summary>
    public const long QuietNs = 3_000_000_000;

    /// <summary>The most busy time allowed between two consecutive input waits: 1 virtual ms.</summary>
    public const long MaxBusyBetweenWaitsNs = 1_000_000;

    private const long NoWindow = -1;

    private readonly Func<long> _bytesPrinted;
    private long _printedAtBoot;
    private long _printedAtLastWait;
    private long _busyAtLastWait;
    private long _windowStart = NoWindow;
    private bool _fired;

    /// <param name="bytesPrinted">How many bytes the console has printed so far (it only grows).</param>
    public IdleDetector(Func<long> bytesPrinted)
    {
        _bytesPrinted = bytesPrinted;
    }

    /// <summary>Raised (CPU thread, inside the waiting instruction) when a window reaches <see cref="QuietNs"/>.</summary>
    public event Action? Detected;

    /// <summary>Listens to the machine's input waits: the UARTs, the keyboard controller and HLT.</summary>
    public void Watch(PcMachine machine) => OnInputWait(machine, () => InputWaitNow(machine.Cpu));

    /// <summary>Also counts the calls of the firmware's console-input services as input waits: an OS loader's prompt (<see cref="ConsoleInputPolls"/>).</summary>
    public void Watch(ConsoleInputPolls polls, Core.Cpu.Cpu cpu) => polls.Polled += () => InputWaitNow(cpu);

    /// <summary>An input wait now: busy time is virtual time not spent halted.</summary>
    private void InputWaitNow(Core.Cpu.Cpu cpu) => InputWait(cpu.VirtualTime - cpu.IdleTicks, cpu.VirtualTime);

    /// <summary>Calls <paramref name="wait"/> at every input wait of <paramref name="machine"/> (CPU thread, inside the waiting instruction).</summary>
    public static void OnInputWait(PcMachine machine, Action wait)
    {
        machine.Cpu.Halting += wait;
        foreach (var uart in machine.SerialPorts)
        {
            uart.InputAwaited += wait;
        }

        machine.Keyboard.InputAwaited += wait;
    }

    /// <summary>A machine reset: the new boot has printed nothing yet.</summary>
    public void BeginBoot()
    {
        _printedAtBoot = _bytesPrinted();
        _windowStart = NoWindow;
    }

    /// <summary>The guest waits for input, <paramref name="busyNs"/> of busy time and <paramref name="virtualNs"/> of virtual time into the run.</summary>
    public void InputWait(long busyNs, long virtualNs)
    {
        long printed = _bytesPrinted();
        bool close = busyNs - _busyAtLastWait <= MaxBusyBetweenWaitsNs;
        bool quiet = printed == _printedAtLastWait;
        _busyAtLastWait = busyNs;
        _printedAtLastWait = printed;
        if (printed == _printedAtBoot)
        {
            return;
        }

        if (_windowStart == NoWindow || !close || !quiet)
        {
            _windowStart = virtualNs;
            _fired = false;
        }
        else if (!_fired && virtualNs - _windowStart >= QuietNs)
        {
            _fired = true;
            Detected?.Invoke();
        }
    }
}
