using Emulator.Core.Machine;
using Emulator.Core.Timing;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Serial;

namespace Emulator.Hosting.Serial;

/// <summary>
/// The COM1 console of one boot: output to stdout (written as the guest prints it, flushed at
/// every line and at every host poll, so a prompt without a newline shows at once) and to
/// <c>--serial-log</c>; the transcript that milestones and scripts watch; the screen a terminal
/// would show; input from a script
/// (<c>--serial-input</c>, <c>--expect</c>, <c>--send</c>) or typed live on stdin; the wall-clock
/// pacer; and the status line.
/// </summary>
internal sealed class ConsoleSession : IDisposable
{
    private readonly Stream _stdout;
    private readonly FileStream? _log;
    private StatusLine? _status;
    private bool _dirty;
    private bool _disposed;

    public ConsoleSession(BootOptions o, Stream stdout, HostConsole host)
    {
        _stdout = stdout;
        if (o.SerialLog != null)
        {
            try
            {
                _log = new FileStream(o.SerialLog, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 14);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new UsageException($"cannot write serial log '{o.SerialLog}': {e.Message}");
            }
        }

        var steps = new List<SerialScript.Step>();
        bool live = false;
        foreach (var (name, value) in o.SerialSteps)
        {
            if (name == BootOptions.SerialInputOption && value == "-")
            {
                live = true;
            }
            else if (name == BootOptions.ExpectOption)
            {
                steps.Add(new SerialScript.Step(null, value));
            }
            else
            {
                steps.Add(new SerialScript.Step(TextEscapes.Decode(name, value), null));
            }
        }

        if (live && steps.Count > 0)
        {
            throw new UsageException("--serial-input - (live stdin) cannot be combined with scripted input");
        }

        // A person at a terminal types live unless a script does the typing (or no port is on the console).
        live |= steps.Count == 0 && host.StdinIsTerminal && o.SerialPorts.Any(p => p.Backend.Kind == SerialBackendKind.Console);
        if (steps.Count > 0)
        {
            Script = new SerialScript(steps, Transcript);
        }
        else if (live && host.OpenStdin != null)
        {
            Live = new LiveInput(host.OpenStdin(), host.StdinIsTerminal, o.ConsoleKeys.Mux, o.ConsoleKeys.Signals);
        }

        bool pace = o.Pace switch
        {
            BootOptions.PaceRealTime => true,
            BootOptions.PaceOff => false,
            _ => Live?.Terminal == true,
        };
        if (pace)
        {
            Pacer = new RealTimePacer(Live?.Arrived);
        }
    }

    public ConsoleTranscript Transcript { get; } = new();

    /// <summary>What a terminal on the console shows now (the <c>idle</c> milestone records it).</summary>
    public TerminalScreen Screen { get; } = new();

    public SerialScript? Script { get; }

    public LiveInput? Live { get; }

    public RealTimePacer? Pacer { get; }

    /// <summary>The UART's input source.</summary>
    public int NextInput() => Script?.Next() ?? Live?.Next() ?? -1;

    /// <summary>Hooks the console into the machine: pacing of HLT and polling waits, host polls, the status line.</summary>
    public void Attach(PcMachine machine, MilestoneTracker tracker, TextWriter stderr, bool statusLine)
    {
        machine.Cpu.Pacer = Pacer;
        machine.WaitSkipper.Pacer = Pacer;
        machine.Cpu.HostPoll += Poll;
        if (Live != null)
        {
            var cpu = machine.Cpu;
            Live.QuitRequested += reason => cpu.RequestStop(Core.Cpu.StopReason.Requested, reason);
        }
        if (statusLine && Live?.Terminal != true)
        {
            _status = new StatusLine(stderr, machine.Cpu, () => tracker.Reached.Count > 0 ? tracker.Reached[^1].Name : "start");
        }
    }

    /// <summary>A byte the guest transmitted on COM1.</summary>
    public void Write(byte b)
    {
        _status?.Erase();
        Transcript.Append(b);
        Screen.Write(b);
        _stdout.WriteByte(b);
        _log?.WriteByte(b);
        _dirty = true;
        if (b == '\n')
        {
            Flush();
        }
    }

    private void Poll()
    {
        if (_dirty)
        {
            Flush();
        }

        _status?.Poll();
    }

    public void Flush()
    {
        _dirty = false;
        _stdout.Flush();
        _log?.Flush();
    }

    /// <summary>
    /// End of run: output flushed, the status line erased, the terminal restored. The boot calls
    /// it before writing its report and again when its scope ends; the second call does nothing
    /// (flushing the closed --serial-log would throw).
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _status?.Erase();
        Flush();
        _log?.Dispose();
        Live?.Dispose();
    }
}
