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
    private readonly List<string> _moduleBreaks = [];
    private readonly Func<string, string>? _monitor;
    private readonly GdbSymbols? _symbols;
    private readonly GdbHistory _history;
    private volatile bool _interrupt;
    private bool _stopped;
    private ulong? _hitAt;
    private bool _librariesChanged;
    private string? _pendingStopReply;
    private string? _moduleBreakHit;
    private bool _libraryStop;

    public GdbSession(
        GdbServer server, PcMachine machine, ModuleRecognizer modules, Func<string, string>? monitor, bool waitAtStart, StopRequest stop, ILoggerFactory loggers,
        GdbSymbols? symbols = null, Serial.ReplayGate? replay = null)
    {
        _symbols = symbols;
        _server = server;
        _machine = machine;
        _stop = stop;
        _log = loggers.CreateLogger("emu.gdb");
        _monitor = monitor;
        _stopped = waitAtStart;
        var cpu = machine.Cpu;
        _stub = new GdbStub(cpu, Monitor, () => modules.Started.Where(m => m.Boot == modules.Boot).Select(Library), reverse: replay != null);
        _history = new GdbHistory(machine, replay ?? new Serial.ReplayGate(), () => _stub.Breakpoints, _stub.SuspendWatchpoints, loggers.CreateLogger("emu.gdb.history"));
        modules.ModuleStarted += OnModuleStarted;
        var inner = cpu.BreakpointHit;
        cpu.BreakpointHit = (c, linear) =>
        {
            bool other = inner?.Invoke(c, linear) ?? false;
            if (!_history.Replaying && _stub.IsBreakpoint(linear))
            {
                _hitAt = linear;
                return true;
            }

            return other;
        };
        cpu.HostPoll += () =>
        {
            if (_interrupt && !_history.Replaying)
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

            ClearStopCauses();
            var reason = _server.HasClient && _stub.ReverseEnabled ? _history.RunLive(instructionLimit, holdInterrupts: false) : _machine.Run(instructionLimit);
            if (reason == StopReason.Breakpoint && StoppedForGdb())
            {
                // Cleared once stopped, never before running: an interrupt sent as the guest
                // resumes must still stop it.
                bool onlyForLibraries = _libraryStop && _hitAt == null && cpu.LastHostWatchHit == null && !_interrupt && _moduleBreakHit == null;
                _interrupt = false;
                _stopped = true;
                _log.LogDebug("gdb: stopped at 0x{Rip:X} ({Why})", cpu.LinearRip, Why());
                if (onlyForLibraries)
                {
                    // gdb loads the new module's symbols, sets the breakpoints that were pending
                    // on it, and resumes by itself.
                    _librariesChanged = false;
                    _server.Send(_stub.StopReply(librariesChanged: true));
                    continue;
                }

                ReportStop(_stub.StopReply(cpu.LastHostWatchHit));
                continue;
            }

            Ended(reason);
            return reason;
        }
    }

    private bool StoppedForGdb() => _hitAt != null || _machine.Cpu.LastHostWatchHit != null || _interrupt || _moduleBreakHit != null || _libraryStop;

    /// <summary>
    /// A started module as gdb loads it: with <c>--symbols</c>, its symbol file placed where the
    /// image runs (<see cref="GdbSymbols"/>); otherwise its name at its image's base, which gdb
    /// lists without symbols.
    /// </summary>
    private GdbLibrary Library(ModuleRecognizer.ModuleStart m) =>
        _symbols?.Find(m.Module.Name, m.Module.FileGuid, m.ImageStart) is { } file
            ? new GdbLibrary(file.Path, file.SegmentAddress)
            : new GdbLibrary(m.Module.Name ?? m.Module.FileGuid.ToString(), m.ImageStart);

    /// <summary>
    /// Tells gdb the guest stopped. When modules started since gdb last heard, a library stop
    /// (<c>T05library:</c>) goes first: gdb reads the list and resumes at once, and that resume
    /// gets <paramref name="reply"/> without running anything. One extra exchange per stop, none
    /// per module: stopping at each of the boot's ~150 module starts cost about 12 % of its speed.
    /// </summary>
    private void ReportStop(string reply)
    {
        if (_librariesChanged)
        {
            _librariesChanged = false;
            _pendingStopReply = reply;
            _server.Send(_stub.StopReply(librariesChanged: true));
            return;
        }

        _server.Send(reply);
    }

    /// <summary>
    /// A module starts (found as its entry block is decoded): gdb hears of the new library at the
    /// next stop (<see cref="ReportStop"/>); when a <c>monitor break-module</c> names the module, the
    /// guest stops before its entry runs. With <c>--symbols</c>, a module that has a symbol file
    /// stops the guest there too, for a library stop only: gdb loads the symbols and inserts the
    /// breakpoints pending on them (<c>break DxeMain</c> before DxeCore exists) before the module's
    /// first instruction runs.
    /// </summary>
    private void OnModuleStarted(ModuleRecognizer.ModuleStart start)
    {
        if (_history.Replaying)
        {
            return;
        }

        _librariesChanged = true;
        if (_server.HasClient && _symbols?.Find(start.Module.Name, start.Module.FileGuid, start.ImageStart) != null)
        {
            _libraryStop = true;
            _machine.Cpu.RequestStopBeforeBlock(StopReason.Breakpoint, InterruptDetail);
        }

        string name = start.Module.Name ?? string.Empty;
        string guid = start.Module.FileGuid.ToString();
        if (_server.HasClient && _moduleBreaks.FirstOrDefault(b => b.Equals(name, StringComparison.OrdinalIgnoreCase) || b.Equals(guid, StringComparison.OrdinalIgnoreCase)) is { } hit)
        {
            _moduleBreakHit = hit;
            _machine.Cpu.RequestStopBeforeBlock(StopReason.Breakpoint, InterruptDetail);
        }
    }

    /// <summary>The session's own monitor commands (break-module), then the boot's.</summary>
    private string Monitor(string command)
    {
        if (command == "history")
        {
            var (checkpoints, bytes, segments) = _history.Size;
            return _history.Start < 0
                ? "no history yet (it starts when the guest runs under gdb)\n"
                : $"history: instructions {_history.Start:N0} to {_history.Frontier:N0}, at {_history.Position:N0}{(_history.InPast ? " (replaying)" : string.Empty)}; "
                    + $"{checkpoints} checkpoints ({bytes / (1024 * 1024):N0} MiB of RAM images), {segments} segments\n";
        }

        if (command == "break-module")
        {
            return _moduleBreaks.Count == 0 ? "no break-module set\n" : "stops at the entry of: " + string.Join(", ", _moduleBreaks) + "\n";
        }

        if (command.StartsWith("break-module ", StringComparison.Ordinal))
        {
            string name = command["break-module ".Length..].Trim();
            _moduleBreaks.Add(name);
            return $"the guest stops when module {name} starts (at its entry, before it runs)\n";
        }

        return _monitor?.Invoke(command) ?? $"unknown monitor command '{command}'\n";
    }

    /// <summary>Serves gdb until it resumes the guest (null) or the run must end (the reason).</summary>
    private StopReason? Serve(long instructionLimit)
    {
        while (true)
        {
            if (_stop.Requested)
            {
                LeaveHistory();
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
                    LeaveHistory();
                    _pendingStopReply = null;
                    _stub.ClearPoints();
                    _stopped = false;
                    return null;
                case GdbEventKind.Packet:
                    if (e.Packet.StartsWith("qXfer:libraries:read::0,", StringComparison.Ordinal))
                    {
                        _librariesChanged = false; // gdb reads the whole list now
                    }

                    bool changesMachine = GdbStub.ChangesMachine(e.Packet);
                    if (changesMachine && _history.InPast)
                    {
                        _server.Send("E.the past is read-only: go forward to where the run stopped first");
                        break;
                    }

                    var (reply, resume) = _stub.Handle(e.Packet);
                    if (changesMachine)
                    {
                        // History does not hold gdb's change: it starts again from here.
                        _history.Clear();
                    }

                    if (reply != null)
                    {
                        _server.Send(reply);
                    }

                    if (e.Packet == "QStartNoAckMode")
                    {
                        _server.StopAcknowledging();
                    }

                    if (resume is GdbResume.Continue or GdbResume.Step && _pendingStopReply is { } pending)
                    {
                        // gdb resumes after the library stop: the real stop is still to tell.
                        _pendingStopReply = null;
                        _server.Send(pending);
                        continue;
                    }

                    switch (resume)
                    {
                        case GdbResume.Continue when _history.InPast && InHistory(() => _history.FindForward(_history.Position, _stub.Breakpoints)) != null:
                            // A breakpoint in replayed history: stopped there.
                            ReportStop(_stub.StopReply());
                            break;
                        case GdbResume.Continue:
                            _stopped = false;
                            return null;
                        case GdbResume.Step when _history.InPast:
                            InHistory(() => _history.GoTo(_history.Position + 1) ? 0 : null);
                            ReportStop(_stub.StopReply());
                            break;
                        case GdbResume.ReverseStep:
                            _history.KeepFrontier();
                            ReportStop(_history.Start >= 0 && InHistory(() => _history.GoTo(_history.Position - 1) ? 0 : null) != null
                                ? _stub.StopReply() : HistoryBegins);
                            break;
                        case GdbResume.ReverseContinue:
                            _history.KeepFrontier();
                            ReportStop(_history.Start >= 0 && InHistory(() => _history.FindBackward(_history.Position, _stub.Breakpoints)) != null
                                ? _stub.StopReply() : HistoryBegins);
                            break;
                        case GdbResume.Step when Step(instructionLimit) is { } ended:
                            Ended(ended);
                            return ended;
                        case GdbResume.Step:
                            ReportStop(_stub.StopReply(_machine.Cpu.LastHostWatchHit));
                            break;
                        case GdbResume.Detach:
                            LeaveHistory();
                            _pendingStopReply = null;
                            _stub.ClearPoints();
                            _server.DropClient();
                            _stopped = false;
                            return null;
                        case GdbResume.Kill:
                            // The run ends where it stopped, not in replayed history: the report and
                            // the varstore file describe the frontier.
                            LeaveHistory();
                            _log.LogInformation("gdb: killed");
                            _server.DropClient();
                            return StopReason.Requested;
                    }

                    break;
            }
        }
    }

    /// <summary>The stop reply for a reverse command that reached the start of history (gdb: "No more reverse-execution history").</summary>
    private const string HistoryBegins = "T05replaylog:begin;thread:01;";

    /// <summary>
    /// Runs a move through history; its result, or null. A replay that did not retrace the run
    /// (an emulator fault) is told to gdb's console and logged, and the machine goes back to where
    /// the run stopped, its history forgotten.
    /// </summary>
    private long? InHistory(Func<long?> move)
    {
        try
        {
            return move();
        }
        catch (GdbReplayException e)
        {
            _log.LogError("gdb: {Error}; back to instruction {Frontier:N0}, history dropped", e.Message, _history.Frontier);
            _server.Send("O" + Convert.ToHexStringLower(System.Text.Encoding.UTF8.GetBytes($"emu: {e.Message}; back to where the run stopped, history dropped\n")));
            _history.Recover();
            return null;
        }
    }

    /// <summary>gdb leaves: back to where the run stopped (the host's files are there), history dropped.</summary>
    private void LeaveHistory()
    {
        if (_history.InPast)
        {
            InHistory(() => _history.GoTo(_history.Frontier) ? 0 : null);
        }

        _history.Clear();
    }

    private void ClearStopCauses()
    {
        _hitAt = null;
        _moduleBreakHit = null;
        _libraryStop = false;
        _machine.Cpu.LastHostWatchHit = null;
    }

    private string Why() =>
        _hitAt != null ? "breakpoint" : _machine.Cpu.LastHostWatchHit != null ? "watchpoint" : _moduleBreakHit != null ? "module " + _moduleBreakHit + " starts"
        : _libraryStop ? "a module with symbols starts" : "interrupt";

    /// <summary>One instruction, interrupts held (a halted CPU: the delivery and the handler's first instruction); null while the run goes on, else the reason it ended.</summary>
    private StopReason? Step(long instructionLimit)
    {
        var cpu = _machine.Cpu;
        ClearStopCauses();
        long target = Math.Min(instructionLimit, cpu.InstructionCount + 1);
        // As QEMU's gdbstub (SSTEP_NOIRQ): the step runs the instruction, not an interrupt
        // handler; a halted CPU needs its interrupt to get anywhere, so it keeps it.
        cpu.HoldInterrupts = !cpu.Halted;
        StopReason reason;
        try
        {
            reason = _stub.ReverseEnabled ? _history.RunLive(target, cpu.HoldInterrupts) : _machine.Run(target);
        }
        finally
        {
            cpu.HoldInterrupts = false;
        }

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
