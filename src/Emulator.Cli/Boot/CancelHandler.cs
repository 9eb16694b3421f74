using Emulator.Core.Cpu;

namespace Emulator.Cli.Boot;

/// <summary>
/// Ctrl-C / SIGTERM stop the run at the next instruction boundary, so the report is still written
/// and the varstore saved. Installed when the command starts, before the firmware is parsed and
/// the machine built (seconds on a loaded host): a harness that sends SIGTERM early must still get
/// a clean stop, not the runtime's default death by signal (exit 143).
/// </summary>
public sealed class CancelHandler : IDisposable
{
    private readonly System.Runtime.InteropServices.PosixSignalRegistration? _term;
    private volatile Cpu? _cpu;

    public CancelHandler()
    {
        Console.CancelKeyPress += OnCancel;
        _term = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM,
            ctx =>
            {
                ctx.Cancel = true;
                Stop(SigTerm);
            });
    }

    private const int SigInt = 2;
    private const int SigTerm = 15;

    public bool Cancelled { get; private set; }

    /// <summary>
    /// The CPU the signals stop. A signal that came before it existed stops it as soon as it runs:
    /// <see cref="Cpu.Run"/> clears earlier stop requests, so the check rides on its host poll.
    /// </summary>
    public void Attach(Cpu cpu)
    {
        _cpu = cpu;
        cpu.HostPoll += () =>
        {
            if (Cancelled)
            {
                cpu.RequestStop(StopReason.Requested, "stopped by signal");
            }
        };
    }

    /// <summary>The signal that stopped the run (2 SIGINT, 15 SIGTERM), or 0.</summary>
    public int Signal { get; private set; }

    /// <summary>Set once a signal (or <see cref="Release"/>) arrives, even after the CPU stopped on its own.</summary>
    public ManualResetEventSlim Stopped { get; } = new(false);

    /// <summary>Ends a wait on <see cref="Stopped"/> without a signal (the quit key).</summary>
    public void Release() => Stopped.Set();

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        Stop(SigInt);
    }

    private void Stop(int signal)
    {
        Signal = signal;
        Cancelled = true;
        _cpu?.RequestStop(StopReason.Requested, "stopped by signal");
        Stopped.Set();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _term?.Dispose();
        Stopped.Dispose();
    }
}
