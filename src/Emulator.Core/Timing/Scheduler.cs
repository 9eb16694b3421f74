namespace Emulator.Core.Timing;

/// <summary>
/// Deterministic deadline scheduler on virtual time. Devices with time-based behaviour ask for a
/// callback at an absolute virtual tick; the CPU checks <see cref="NextDeadline"/> once per block
/// and calls <see cref="RunDue"/>, and HLT jumps virtual time straight to it. Ties run in the
/// order they were scheduled, so runs are reproducible.
/// </summary>
public sealed class Scheduler
{
    private PriorityQueue<TimerEvent, (long When, long Sequence)> _queue = new();
    private long _sequence;

    public long NextDeadline { get; private set; } = long.MaxValue;

    /// <summary>Schedules <paramref name="callback"/> at virtual tick <paramref name="when"/>; returns a handle for cancellation.</summary>
    public TimerEvent Schedule(long when, Action<long> callback)
    {
        var e = new TimerEvent(when, callback) { Sequence = _sequence++ };
        _queue.Enqueue(e, (when, e.Sequence));
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

    /// <summary>
    /// The pending deadlines in firing order, each with its tie-break sequence number and the
    /// callback's owner (<see cref="TimerEvent.Owner"/>), and the next sequence number: what a
    /// restored machine needs to fire ties in the same order (<see cref="RestoreOrder"/>).
    /// </summary>
    public SchedulerState SaveState()
    {
        var pending = _queue.UnorderedItems
            .Where(item => !item.Element.Cancelled)
            .OrderBy(item => item.Priority)
            .Select(item => new PendingDeadline(item.Priority.When, item.Priority.Sequence, item.Element.Owner))
            .ToList();
        return new SchedulerState(_sequence, pending);
    }

    /// <summary>Cancels every pending deadline (before the devices of a restored machine re-arm theirs).</summary>
    public void Clear()
    {
        foreach (var (e, _) in _queue.UnorderedItems)
        {
            e.Cancelled = true;
        }

        _queue.Clear();
        NextDeadline = long.MaxValue;
    }

    /// <summary>
    /// After the devices re-armed their deadlines from a snapshot (each in its own order), gives
    /// every pending event the sequence number it had when <paramref name="state"/> was saved, so
    /// ties fire in the original order, and continues the numbering where the saved run stood.
    /// Events are matched by deadline and owner, equal pairs in re-arming order. A deadline the
    /// snapshot had and no device re-armed, or one it did not have, is a device whose state was
    /// not restored: <see cref="InvalidOperationException"/> naming it.
    /// </summary>
    public void RestoreOrder(SchedulerState state)
    {
        var live = _queue.UnorderedItems.Where(item => !item.Element.Cancelled).OrderBy(item => item.Priority).Select(item => item.Element).ToList();
        var unmatched = state.Pending.ToList();
        var rebuilt = new PriorityQueue<TimerEvent, (long When, long Sequence)>();
        foreach (var e in live)
        {
            int i = unmatched.FindIndex(p => p.When == e.When && p.Owner == e.Owner);
            if (i < 0)
            {
                throw new InvalidOperationException($"the restored machine has a deadline the snapshot does not: {e.Owner} at tick {e.When}");
            }

            e.Sequence = unmatched[i].Sequence;
            unmatched.RemoveAt(i);
            rebuilt.Enqueue(e, (e.When, e.Sequence));
        }

        if (unmatched.Count > 0)
        {
            throw new InvalidOperationException($"a deadline of the snapshot was not re-armed on restore: {unmatched[0].Owner} at tick {unmatched[0].When}");
        }

        _queue = rebuilt;
        _sequence = state.NextSequence;
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

    /// <summary>Orders events with the same deadline: lower fires first.</summary>
    internal long Sequence { get; set; }

    /// <summary>
    /// Who asked, stable across processes: the callback's declaring type and method (a device
    /// method, or the compiler-named lambda inside one) — what matches a re-armed deadline to
    /// the saved one on restore.
    /// </summary>
    public string Owner => $"{Callback.Method.DeclaringType?.FullName}.{Callback.Method.Name}";
}

/// <summary>One pending deadline of a saved scheduler.</summary>
public sealed record PendingDeadline(long When, long Sequence, string Owner);

/// <summary>A scheduler's saved state: the next tie-break number and the pending deadlines in firing order.</summary>
public sealed record SchedulerState(long NextSequence, IReadOnlyList<PendingDeadline> Pending);
