using Emulator.Hosting.Compare;
using Microsoft.Extensions.Logging;

namespace Emulator.Cli.Boot;

/// <summary>
/// <c>boot</c>: runs a <see cref="BootSession"/> with the serial console on stdout and milestones
/// on stderr as they are reached, then prints the module timeline and writes the JSON report when
/// asked. Exit status: 0 the <c>--until</c> milestone was reached (or, without it, the guest
/// powered off); 1 the run fell short (limit, guest fault, halted for good); 2 bad input; with
/// <c>--debug-exit</c>, the status the guest wrote there, as QEMU's isa-debug-exit gives it.
/// </summary>
public sealed class BootCommand(ILoggerFactory loggers, Stream serialOut, TextWriter stderr, HostConsole host)
{
    public int Run(BootOptions o)
    {
        var session = new BootSession(o, serialOut, stderr, loggers, host);
        using var signals = new CancelHandler(session.Stop);
        var report = session.Run();
        if (o.Timeline)
        {
            ModuleTimeline.Write(stderr, report.Modules, report.Instructions);
        }

        if (o.Report != null)
        {
            ReportFile.Save(o.Report, report);
        }

        // isa-debug-exit: the guest's own verdict, as QEMU exits with it (always odd, so never 0 or 2).
        if (session.GuestExitStatus is { } status && session.Saved && session.InternalError == null)
        {
            return status;
        }

        return session.Succeeded ? 0 : 1;
    }
}
