using Emulator.Core.Cpu;

namespace Emulator.Cli.Boot;

/// <summary>Ctrl-C / SIGTERM stop the run at the next instruction boundary, so the report is still written.</summary>
public sealed class CancelHandler : IDisposable
{
    private readonly Cpu _cpu;
    private readonly System.Runtime.InteropServices.PosixSignalRegistration? _term;

    public CancelHandler(Cpu cpu)
    {
        _cpu = cpu;
        Console.CancelKeyPress += OnCancel;
        _term = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM,
            ctx =>
            {
                ctx.Cancel = true;
                Stop();
            });
    }

    public bool Cancelled { get; private set; }

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        Stop();
    }

    private void Stop()
    {
        Cancelled = true;
        _cpu.RequestStop(StopReason.Requested, "stopped by signal");
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _term?.Dispose();
    }
}
