namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// The logged run: QEMU started with <c>-singlestep -d cpu,fpu,nochain</c>, its log filtered to
/// the sequence (<c>-dfilter</c>), runs a case to the final HLT or an exception handler in one
/// <c>continue</c> and the states come from its log (<see cref="QemuCpuLog"/>) instead of a gdb
/// round trip per instruction (two round trips per step were most of a long campaign's time).
/// The states are the stepped run's except that memory is read at the end only; a case whose
/// logged states disagree with emu is run again stepped, and that run decides
/// (<see cref="DifferentialFuzzer.Check(FuzzCase, out List{CpuState}, QemuRunner?)"/>).
/// </summary>
public sealed partial class QemuRunner
{
    /// <summary>How long a logged case may run before it is interrupted and left to the stepped run.</summary>
    private static readonly TimeSpan LoggedCaseBudget = TimeSpan.FromSeconds(2);

    /// <summary>Cases between log files: the log is switched (the monitor's <c>logfile</c>) so it never grows past a few megabytes.</summary>
    private const int CasesPerLogFile = 128;

    private readonly string? _logPath;
    private string? _currentLog;
    private int _casesInLog;
    private long _logOffset;
    private FuzzMode? _handlerBreakpointsFor;

    /// <summary>Whether this QEMU logs its CPU states (<see cref="RunLogged"/> can be used).</summary>
    public bool Logged => _logPath != null;

    /// <summary>QEMU's extra arguments for the logged run: every instruction its own block, the log filtered to the sequence.</summary>
    private static IEnumerable<string> LogArguments(string logPath)
    {
        // The sequence as the reset CS base sees it, and through the BIOS alias below 1 MiB
        // (real-mode code that reloads CS with F000 runs it there).
        ulong start = FuzzLayout.SequenceStart, end = FuzzLayout.RomBase + FuzzLayout.ScratchImage - 1;
        ulong aliasStart = FuzzLayout.LowAlias + FuzzLayout.Sequence, aliasEnd = FuzzLayout.LowAlias + FuzzLayout.ScratchImage - 1;
        return ["-singlestep", "-d", "cpu,fpu,nochain", "-dfilter", $"0x{start:x}..0x{end:x},0x{aliasStart:x}..0x{aliasEnd:x}", "-D", logPath];
    }

    /// <summary>
    /// The case's states from QEMU's log, or null when the logged run cannot give them (the case
    /// did not stop within <see cref="LoggedCaseBudget"/> or ran more than
    /// <paramref name="maxSteps"/> instructions): the stepped run then handles it.
    /// </summary>
    public List<CpuState>? RunLogged(EncodedSequence sequence, byte[] rom, int maxSteps)
    {
        if (_logPath == null)
        {
            throw new InvalidOperationException("this QEMU was started without its CPU log");
        }

        try
        {
            return RunLoggedCase(sequence, rom, maxSteps);
        }
        catch (IOException e) when (_process.WaitForExit(2000))
        {
            throw new IOException($"QEMU exited (code {_process.ExitCode}) running a logged case: {_stderr.Result.Trim()}", e);
        }
    }

    private List<CpuState>? RunLoggedCase(EncodedSequence sequence, byte[] rom, int maxSteps)
    {
        var gdb = _gdb;
        NextLogFileEvery(CasesPerLogFile);
        ResetWith(rom);
        SetHandlerBreakpoints(sequence.Mode);
        var hlt = HltBreakpoints(sequence).ToArray();
        foreach (ulong at in hlt)
        {
            Expect(gdb.Command($"Z0,{at:x},1"), "OK", "setting the breakpoint at the final HLT");
        }

        ReadNewLog(); // what stepped runs on this QEMU logged since the last logged case
        bool stopped = gdb.Continue(LoggedCaseBudget);
        foreach (ulong at in hlt)
        {
            Expect(gdb.Command($"z0,{at:x},1"), "OK", "removing the breakpoint at the final HLT");
        }

        string log = ReadNewLog();
        if (!stopped)
        {
            return null;
        }

        var final = ReadState(gdb, _layout, sequence, withMemory: true);
        var states = new List<CpuState>();
        foreach (var state in QemuCpuLog.Parse(log, sequence).Append(final))
        {
            // A REP string instruction logs each iteration at its own RIP, a 9B-prefixed x87 form
            // its FWAIT and the rest apart: one state each, as stepped.
            if (states.Count == 0 || (state.Rip != states[^1].Rip && !InsideAnInstruction(sequence, states[^1], state)))
            {
                states.Add(state);
            }
        }

        bool complete = states.Count > 1 && (final.Rip == sequence.HltAddress || final.Vector >= 0) && states[0].Rip == sequence.Addresses[0];
        return complete && states.Count <= maxSteps + 1 ? states : null;
    }

    /// <summary>The final HLT's linear address (and its alias below 1 MiB in real mode).</summary>
    private static IEnumerable<ulong> HltBreakpoints(EncodedSequence sequence)
    {
        ulong offset = sequence.HltAddress - sequence.Mode.SequenceIp();
        yield return FuzzLayout.SequenceStart + offset;
        if (sequence.Mode == FuzzMode.Real16)
        {
            yield return FuzzLayout.LowAlias + FuzzLayout.Sequence + offset;
        }
    }

    /// <summary>A breakpoint on each exception handler (real mode's through the IVT's F000 segment), set once per mode.</summary>
    private void SetHandlerBreakpoints(FuzzMode mode)
    {
        if (_handlerBreakpointsFor == mode)
        {
            return;
        }

        if (_handlerBreakpointsFor is { } previous)
        {
            foreach (ulong at in HandlerLinears(previous))
            {
                Expect(_gdb.Command($"z0,{at:x},1"), "OK", "removing a handler breakpoint");
            }
        }

        foreach (ulong at in HandlerLinears(mode))
        {
            Expect(_gdb.Command($"Z0,{at:x},1"), "OK", "setting a handler breakpoint");
        }

        _handlerBreakpointsFor = mode;
    }

    private static IEnumerable<ulong> HandlerLinears(FuzzMode mode)
    {
        ulong first = mode == FuzzMode.Real16 ? FuzzLayout.LowAlias + FuzzLayout.Handlers : mode.HandlerIp();
        for (int v = 0; v < FuzzLayout.Vectors; v++)
        {
            yield return first + (ulong)v;
        }
    }

    /// <summary>
    /// Every <paramref name="cases"/> cases, QEMU logs to the other of two files (emptied first;
    /// util/log.c reopens on a changed name), and the one it leaves is removed.
    /// </summary>
    private void NextLogFileEvery(int cases)
    {
        _currentLog ??= _logPath;
        if (++_casesInLog < cases)
        {
            return;
        }

        string next = _currentLog == _logPath ? _logPath + ".b" : _logPath!;
        File.Delete(next);
        _gdb.Monitor($"logfile {next}");
        File.Delete(_currentLog!);
        _currentLog = next;
        _logOffset = 0;
        _casesInLog = 0;
    }

    /// <summary>What QEMU appended to its log since the last read (it flushes after every dump: util/log.c, qemu_log_unlock).</summary>
    private string ReadNewLog()
    {
        if (!File.Exists(_currentLog))
        {
            return "";
        }

        using var file = new FileStream(_currentLog!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        file.Seek(_logOffset, SeekOrigin.Begin);
        using var reader = new StreamReader(file, System.Text.Encoding.Latin1);
        string text = reader.ReadToEnd();
        _logOffset += text.Length; // Latin-1: a character per byte
        return text;
    }
}
