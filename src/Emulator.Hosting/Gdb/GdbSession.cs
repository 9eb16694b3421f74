using Emulator.Core.Cpu;
using Emulator.Core.Machine;
using Emulator.Hosting.Boot;
using Microsoft.Extensions.Logging;

namespace Emulator.Hosting.Gdb;

/// <summary>
/// A boot run under a gdb server (<c>--gdb</c>): it takes the place of <see cref="PcMachine.Run"/>
/// and alternates between running the guest and serving gdb while it is stopped, all on the CPU
/// thread. The guest stops for gdb at its breakpoints and watchpoints, after a step, on the
/// interrupt byte, and when a client attaches (as QEMU's gdbstub stops the VM then); with
/// <c>--gdb-wait</c> (QEMU's -S) it waits at the reset vector. A client that detaches or goes away
/// leaves the guest running without its breakpoints, so a lost debugger never hangs the guest.
/// When the run ends by itself (power-off, a hang, the instruction limit, --until), gdb is told the
/// process exited and the run's reason goes back to the boot.
/// </summary>
internal sealed class GdbSession
{
    /// <summary>The <see cref="Cpu.StopDetail"/> of a stop gdb asked for (interrupt or attach).</summary>
    public const string InterruptDetail = "gdb interrupt";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly GdbServer _server;
    private readonly PcMachine _machine;
    private readonly GdbStub _stub;
    private readonly StopRequest _stop;
    private readonly ILogger _log;
    private volatile bool _interrupt;
    private bool _stopped;
    private ulong? _hitAt;

    public GdbSession(GdbServer server, PcMachine machine, Func<string, string>? monitor, bool waitAtStart, StopRequest stop, ILogger log)
    {
        _server = server;
        _machine = machine;
        _stop = stop;
        _log = log;
        _stopped = waitAtStart;
        var cpu = machine.Cpu;
        _stub = new GdbStub(cpu, monitor);
        var inner = cpu.BreakpointHit;
        cpu.BreakpointHit = (c, linear) =>
        {
            bool other = inner?.Invoke(c, linear) ?? false;
            if (_stub.IsBreakpoint(linear))
            {
                _hitAt = linear;
                return true;
            }

            return other;
        };
        cpu.HostPoll += () =>
        {
            if (_interrupt)
            {
                cpu.RequestStop(StopReason.Breakpoint, InterruptDetail);
            }
        };
        server.Interrupted += () => _interrupt = true;
    }

    /// <summary>Runs the guest up to <paramref name="instructionLimit"/> with gdb in charge of stopping and resuming it; the reason the run ended.</summary>
    public StopReason Run(long instructionLimit)
    {
        var cpu = _machine.Cpu;
        while (true)
        {
            if (_stopped && Serve(instructionLimit) is { } ended)
            {
                return ended;
            }

            _hitAt = null;
            cpu.LastHostWatchHit = null;
            var reason = _machine.Run(instructionLimit);
            if (reason == StopReason.Breakpoint && StoppedForGdb())
            {
                // Cleared once stopped, never before running: an interrupt sent as the guest
                // resumes must still stop it.
                _interrupt = false;
                _stopped = true;
                _log.LogDebug("gdb: stopped at 0x{Rip:X} ({Why})", cpu.LinearRip, _hitAt != null ? "breakpoint" : cpu.LastHostWatchHit != null ? "watchpoint" : "interrupt");
                _server.Send(_stub.StopReply(cpu.LastHostWatchHit));
                continue;
            }

            Ended(reason);
            return reason;
        }
    }

    private bool StoppedForGdb() => _hitAt != null || _machine.Cpu.LastHostWatchHit != null || _interrupt;

    /// <summary>Serves gdb until it resumes the guest (null) or the run must end (the reason).</summary>
    private StopReason? Serve(long instructionLimit)
    {
        while (true)
        {
            if (_stop.Requested)
            {
                return StopReason.Requested;
            }

            if (!_server.TryTake(PollInterval, out var e))
            {
                continue;
            }

            switch (e.Kind)
            {
                case GdbEventKind.Connected or GdbEventKind.Interrupt:
                    // Already stopped: what these asked for is done.
                    _interrupt = false;
                    break;
                case GdbEventKind.Disconnected:
                    _stub.ClearPoints();
                    _stopped = false;
                    return null;
                case GdbEventKind.Packet:
                    var (reply, resume) = _stub.Handle(e.Packet);
                    if (reply != null)
                    {
                        _server.Send(reply);
                    }

                    if (e.Packet == "QStartNoAckMode")
                    {
                        _server.StopAcknowledging();
                    }

                    switch (resume)
                    {
                        case GdbResume.Continue:
                            _stopped = false;
                            return null;
                        case GdbResume.Step when Step(instructionLimit) is { } ended:
                            Ended(ended);
                            return ended;
                        case GdbResume.Step:
                            _server.Send(_stub.StopReply(_machine.Cpu.LastHostWatchHit));
                            break;
                        case GdbResume.Detach:
                            _stub.ClearPoints();
                            _server.DropClient();
                            _stopped = false;
                            return null;
                        case GdbResume.Kill:
                            _log.LogInformation("gdb: killed");
                            _server.DropClient();
                            return StopReason.Requested;
                    }

                    break;
            }
        }
    }

    /// <summary>One instruction (or the delivery of an event and its handler's first one); null while the run goes on, else the reason it ended.</summary>
    private StopReason? Step(long instructionLimit)
    {
        var cpu = _machine.Cpu;
        _hitAt = null;
        cpu.LastHostWatchHit = null;
        long target = Math.Min(instructionLimit, cpu.InstructionCount + 1);
        var reason = _machine.Run(target);
        _interrupt = false;
        return reason switch
        {
            StopReason.InstructionLimit when cpu.InstructionCount < instructionLimit => null,
            StopReason.Breakpoint when StoppedForGdb() => null,
            _ => reason,
        };
    }

    /// <summary>The run ends on its own: gdb hears the "process" exited, so it does not wait for a stop.</summary>
    private void Ended(StopReason reason)
    {
        _log.LogDebug("gdb: the run ended ({Reason})", reason);
        _server.Send("W00");
    }
}
