using Emulator.Hosting.Boot;

namespace Emulator.Hosting.Serial;

/// <summary>
/// Scripted console input, the way a test harness types at a serial console: a list of steps,
/// each either text to type or text to wait for on the console. Typed bytes are held here, not
/// pushed into the UART's 16-byte FIFO: the UART pulls the next one whenever the guest reads
/// the line status or receive register with its FIFO empty, so input arrives as the guest reads
/// it and nothing is lost to a FIFO reset. An expect step holds all later typing until its text
/// has appeared on the console (escape sequences removed) after the previous step's match — so
/// an ESC meant for "Press ESC in 5 seconds" is not taken by the boot manager's own hotkey
/// check earlier. Both depend only on what the guest printed and read: runs stay reproducible.
/// </summary>
internal sealed class SerialScript
{
    private readonly List<Step> _steps;
    private readonly ConsoleTranscript _console;
    private int _current;
    private int _sent;
    private int _matchedUpTo;

    public SerialScript(IEnumerable<Step> steps, ConsoleTranscript console)
    {
        _steps = [.. steps];
        _console = console;
        Advance();
    }

    /// <summary>One step: bytes to type (<see cref="Send"/>) or text to wait for (<see cref="Expect"/>).</summary>
    public sealed record Step(byte[]? Send, string? Expect)
    {
        public override string ToString() => Expect != null ? $"expect '{Expect}'" : $"send {Send!.Length} byte(s)";
    }

    /// <summary>Steps completed (all of them when the script is done).</summary>
    public int Completed => _current;

    public int Count => _steps.Count;

    public bool Done => _current >= _steps.Count;

    /// <summary>The step the script waits at, for reports ("expect 'Shell>'"); null when done.</summary>
    public string? Waiting => Done ? null : _steps[_current].ToString();

    /// <summary>Raised (CPU thread) when the last step completes.</summary>
    public event Action? Finished;

    /// <summary>The UART's input source: the next byte to type, or -1 when there is none yet.</summary>
    public int Next()
    {
        if (Done || _steps[_current].Send is not { } bytes)
        {
            return -1;
        }

        byte b = bytes[_sent++];
        if (_sent == bytes.Length)
        {
            _current++;
            _sent = 0;
            Advance();
        }

        return b;
    }

    private void Advance()
    {
        while (!Done)
        {
            var step = _steps[_current];
            if (step.Send is { Length: 0 })
            {
                _current++;
                continue;
            }

            if (step.Expect is { } pattern)
            {
                int index = _current;
                _console.WatchFor(pattern, _matchedUpTo, end => Matched(index, end));
            }

            return;
        }

        Finished?.Invoke();
    }

    private void Matched(int index, int end)
    {
        if (index != _current)
        {
            return;
        }

        _matchedUpTo = end;
        _current++;
        Advance();
    }
}
