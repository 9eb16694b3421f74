
namespace Emulator.Cli.Boot;

/// <summary>
/// Ctrl-C / SIGTERM stop the run at the next instruction boundary (<see cref="StopRequest"/>), so
/// the report is still written and the varstore saved. Installed when the command starts, before
/// the firmware is parsed and the machine built (seconds on a loaded host): a harness that sends
/// SIGTERM early must still get a clean stop, not the runtime's default death by signal (exit 143).
/// </summary>
public sealed class CancelHandler : IDisposable
{
    private const int SigInt = 2;
    private const int SigTerm = 15;

    private readonly StopRequest _stop;
    private readonly System.Runtime.InteropServices.PosixSignalRegistration? _term;

    public CancelHandler(StopRequest stop)
    {
        _stop = stop;
        Console.CancelKeyPress += OnCancel;
        _term = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM,
            ctx =>
            {
                ctx.Cancel = true;
                _stop.Request(SigTerm);
            });
    }

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        _stop.Request(SigInt);
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _term?.Dispose();
    }
}
