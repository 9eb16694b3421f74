using System.Diagnostics;
using Emulator.Core.Timing;

namespace Emulator.Hosting.Serial;

/// <summary>
/// Paces the guest's waits to the wall clock: before virtual time skips ahead (HLT until the
/// next timer tick, or a recognised polling loop), the CPU thread sleeps until the wall clock
/// has caught up — so "Press ESC in 5 seconds" lasts five seconds and an idle Shell does not
/// spin the host. Virtual time may fall behind the wall clock while the guest computes (the
/// interpreter is slower than the 1 GHz the clock assumes); a wait then starts from "now" rather
/// than hurrying to catch up, so a wait is never shortened. Input arriving ends the sleep early.
/// </summary>
internal sealed class RealTimePacer : IPacer
{
    /// <summary>Sleeps shorter than this are skipped (the host's timer resolution makes them inexact anyway).</summary>
    private const long MinimumSleepNs = 1_000_000;

    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly WaitHandle? _wake;
    private long _anchorWallNs;
    private long _anchorVirtual = long.MinValue;

    public RealTimePacer(WaitHandle? wake)
    {
        _wake = wake;
    }

    /// <summary>Wall time spent sleeping for the guest.</summary>
    public TimeSpan Slept { get; private set; }

    public void WaitUntil(long virtualTime)
    {
        long now = (long)_wall.Elapsed.TotalNanoseconds;
        long target = _anchorWallNs + (virtualTime - _anchorVirtual);
        if (_anchorVirtual == long.MinValue || target < now)
        {
            // Behind the wall clock (or the first wait): this wait starts now.
            _anchorWallNs = now;
            _anchorVirtual = virtualTime;
            return;
        }

        long sleep = target - now;
        if (sleep < MinimumSleepNs)
        {
            return;
        }

        var span = TimeSpan.FromTicks(sleep / 100);
        if (_wake != null)
        {
            _wake.WaitOne(span);
        }
        else
        {
            Thread.Sleep(span);
        }

        Slept += span;
    }
}
