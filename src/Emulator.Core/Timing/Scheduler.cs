namespace Emulator.Core.Timing;

/// <summary>
/// Deterministic deadline scheduler on virtual time. Devices with time-based behaviour ask for a
/// callback at an absolute virtual tick; the CPU checks <see cref="NextDeadline"/> once per block
/// and calls <see cref="RunDue"/>, and HLT jumps virtual time straight to it. Ties run in the
/// order they were scheduled, so runs are reproducible.
/// </summary>
public sealed class Scheduler
{
    private readonly PriorityQueue<TimerEvent, (long When, long Sequence)> _queue = new();
    private long _sequence;

    public long NextDeadline { get; private set; } = long.MaxValue;

    /// <summary>Schedules <paramref name="callback"/> at virtual tick <paramref name="when"/>; returns a handle for cancellation.</summary>
    public TimerEvent Schedule(long when, Action<long> callback)
    {
        var e = new TimerEvent(when, callback);
        _queue.Enqueue(e, (when, _sequence++));
        if (when < NextDeadline)
        {
            NextDeadline = when;
        }

        return e;
    }

    public void Cancel(TimerEvent e)
    {
        e.Cancelled = true;
        Refresh();
    }

    /// <summary>Runs every event due at or before <paramref name="now"/>, in deadline order.</summary>
    public void RunDue(long now)
    {
        while (_queue.TryPeek(out var e, out var key) && key.When <= now)
        {
            _queue.Dequeue();
            if (!e.Cancelled)
            {
                e.Cancelled = true;
                e.Callback(key.When);
            }
        }

        Refresh();
    }

    private void Refresh()
    {
        while (_queue.TryPeek(out var e, out _) && e.Cancelled)
        {
            _queue.Dequeue();
        }

        NextDeadline = _queue.TryPeek(out _, out var key) ? key.When : long.MaxValue;
    }
}

/// <summary>A scheduled callback; cancelled ones stay queued until they surface.</summary>
public sealed class TimerEvent(long when, Action<long> callback)
{
    public long When { get; } = when;

    public Action<long> Callback { get; } = callback;

    public bool Cancelled { get; internal set; }
}
