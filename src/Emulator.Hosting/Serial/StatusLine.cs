using System.Diagnostics;
using Emulator.Core.Cpu;

namespace Emulator.Hosting.Serial;

/// <summary>
/// A one-line progress display on a terminal during long runs: the last milestone, instructions,
/// MIPS over the last interval, virtual time. Drawn from the CPU's host poll (so it never races
/// the console output, which is written on the same thread) and erased before console output
/// and at the end, so the guest's text is never interleaved with it.
/// </summary>
internal sealed class StatusLine
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly TextWriter _out;
    private readonly Cpu _cpu;
    private readonly Func<string> _phase;
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private TimeSpan _lastDraw;
    private long _lastInstructions;
    private bool _visible;

    public StatusLine(TextWriter output, Cpu cpu, Func<string> phase)
    {
        _out = output;
        _cpu = cpu;
        _phase = phase;
    }

    /// <summary>Host poll: redraws when the interval has passed.</summary>
    public void Poll()
    {
        var now = _wall.Elapsed;
        if (now - _lastDraw < Interval)
        {
            return;
        }

        long instructions = _cpu.InstructionCount;
        double mips = (instructions - _lastInstructions) / (now - _lastDraw).TotalSeconds / 1e6;
        _lastDraw = now;
        _lastInstructions = instructions;
        _out.Write($"\r\x1b[K[emu] {_phase(),-7} {instructions,15:N0} instructions  {mips,6:F1} MIPS  virtual {_cpu.VirtualTime / 1e9,8:F3} s");
        _out.Flush();
        _visible = true;
    }

    /// <summary>Erases the line (before console output, and at the end of the run).</summary>
    public void Erase()
    {
        if (_visible)
        {
            _out.Write("\r\x1b[K");
            _out.Flush();
            _visible = false;
        }
    }
}
