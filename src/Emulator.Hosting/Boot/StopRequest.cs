using Emulator.Core.Cpu;

namespace Emulator.Hosting.Boot;

/// <summary>
/// A request to stop a <see cref="BootSession"/> at the next instruction boundary, from any thread
/// (a signal handler, a harness's timeout), so the report is still built and the varstore saved.
/// A request that comes before the machine exists stops it as soon as it runs.
/// </summary>
public sealed class StopRequest
{
    private volatile Cpu? _cpu;

    /// <summary>True once <see cref="Request"/> was called, even after the CPU stopped on its own.</summary>
    public bool Requested { get; private set; }

    /// <summary>The signal named by the request (2 SIGINT, 15 SIGTERM), or 0.</summary>
    public int Signal { get; private set; }

    /// <summary>Set by <see cref="Request"/> or <see cref="Release"/>: what a wait after the run (QEMU's -no-shutdown) waits for.</summary>
    public ManualResetEventSlim Stopped { get; } = new(false);

    /// <summary>
    /// The CPU the request stops. A request that came before it existed stops it as soon as it
    /// runs: <see cref="Cpu.Run"/> clears earlier stop requests, so the check rides on its host poll.
    /// </summary>
    internal void Attach(Cpu cpu)
    {
        _cpu = cpu;
        cpu.HostPoll += () =>
        {
            if (Requested)
            {
                cpu.RequestStop(StopReason.Requested, "stopped by signal");
            }
        };
    }

    /// <summary>Stops the run; <paramref name="signal"/> is recorded for the caller's exit message.</summary>
    public void Request(int signal = 0)
    {
        Signal = signal;
        Requested = true;
        _cpu?.RequestStop(StopReason.Requested, "stopped by signal");
        Stopped.Set();
    }

    /// <summary>Ends a wait on <see cref="Stopped"/> without a stop request (the quit key).</summary>
    public void Release() => Stopped.Set();
}
