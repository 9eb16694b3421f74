namespace Emulator.Core.Timing;

/// <summary>
/// Makes a guest's busy-wait on a free-running clock cheap without breaking determinism.
///
/// OVMF times every delay by polling the ACPI PM timer (edk2 AcpiTimerLib's InternalAcpiDelay:
/// read the timer, compare, PAUSE, repeat — about ten instructions per read), so a one-second
/// Stall costs a billion instructions at one virtual nanosecond per instruction. When a clock read
/// comes within <see cref="PollWindow"/> instructions of the previous one, the guest is polling:
/// from the <see cref="PollsBeforeSkipping"/>th such read on, each read first moves virtual time
/// ahead by a step that starts at <see cref="InitialStep"/> and grows by a quarter per read up to
/// <see cref="MaxStep"/>, never past the scheduler's next deadline (so timer interrupts still
/// arrive at their exact virtual times). To the guest this is a CPU that spends longer in its
/// polling loop: every clock (PM timer, TSC, APIC timer) derives from the same virtual time, so
/// they stay consistent with each other. A wait of length D ends at most min(D/4 + InitialStep, MaxStep) late and
/// takes a few dozen reads plus D / MaxStep. A loop that touches another device between clock
/// reads (OVMF's PS/2 driver reads the keyboard controller's status, then Stalls 30 µs, 2,189
/// times) is a series of separate waits, not one long one: any other port access since the
/// previous clock read (<see cref="PortAccesses"/>) starts a new streak, so each short wait
/// stays within its bound instead of inheriting the grown step of the one before.
///
/// Rules that keep runs reproducible: the decision depends only on the instruction index of the
/// reads and the scheduler's deadlines, both of which are guest-determined. The pacer (if any)
/// is consulted before each skip and can only delay the host.
/// </summary>
public sealed class BusyWaitSkipper
{
    /// <summary>Two clock reads at most this many instructions apart belong to one polling loop.</summary>
    public const int PollWindow = 64;

    /// <summary>Reads of a loop that run at full cost before skipping starts (short waits stay exact).</summary>
    public const int PollsBeforeSkipping = 4;

    /// <summary>First skip, in virtual nanoseconds (about one PM timer tick, 279 ns).</summary>
    public const long InitialStep = 256;

    /// <summary>Largest skip per read: bounds how late a wait can end and how far a pacer sleeps at once.</summary>
    public const long MaxStep = 1_000_000;

    private readonly Func<long> _instructions;
    private readonly Func<long> _now;
    private readonly Scheduler? _scheduler;
    private readonly Action<long> _skip;
    private long _lastRead = long.MinValue / 2;
    private int _streak;
    private long _step = InitialStep;
    private long _lastAccesses = long.MinValue / 2;

    /// <param name="instructions">The instruction index (what "close together" is measured in).</param>
    /// <param name="now">Virtual time.</param>
    /// <param name="scheduler">Deadlines a skip must not pass; null when nothing is scheduled.</param>
    /// <param name="skip">Moves virtual time ahead by the given ticks.</param>
    public BusyWaitSkipper(Func<long> instructions, Func<long> now, Scheduler? scheduler, Action<long> skip)
    {
        _instructions = instructions;
        _now = now;
        _scheduler = scheduler;
        _skip = skip;
    }

    public IPacer? Pacer { get; set; }

    /// <summary>Port accesses so far, clock reads included (the machine's port bus count); null: not tracked.</summary>
    public Func<long>? PortAccesses { get; set; }

    /// <summary>Switches skipping off (every read then costs its real instructions), for comparisons.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Virtual nanoseconds skipped so far.</summary>
    public long SkippedTicks { get; private set; }

    /// <summary>Reads that skipped time.</summary>
    public long Skips { get; private set; }

    /// <summary>Called by the clock device before it computes the value a guest read returns.</summary>
    public void ClockRead()
    {
        long index = _instructions();
        long accesses = PortAccesses?.Invoke() ?? 0;
        bool polling = index - _lastRead <= PollWindow && (PortAccesses == null || accesses - _lastAccesses <= 1);
        _lastRead = index;
        _lastAccesses = accesses;
        if (!polling)
        {
            _streak = 0;
            _step = InitialStep;
            return;
        }

        if (!Enabled || ++_streak < PollsBeforeSkipping)
        {
            return;
        }

        long now = _now();
        long room = (_scheduler?.NextDeadline ?? long.MaxValue) - now;
        long ticks = Math.Min(_step, room);
        if (ticks <= 0)
        {
            return;
        }

        Pacer?.WaitUntil(now + ticks);
        _skip(ticks);
        SkippedTicks += ticks;
        Skips++;
        _step = Math.Min(MaxStep, _step + (_step >> 2));
    }

    /// <summary>The streak detector's state and counters, for a machine snapshot: a restored machine skips exactly where the saved one would have.</summary>
    public BusyWaitState SaveState() => new(_lastRead, _streak, _step, _lastAccesses, SkippedTicks, Skips);

    public void RestoreState(BusyWaitState state) =>
        (_lastRead, _streak, _step, _lastAccesses, SkippedTicks, Skips) = (state.LastRead, state.Streak, state.Step, state.LastAccesses, state.SkippedTicks, state.Skips);
}

/// <summary>A <see cref="BusyWaitSkipper"/>'s saved state.</summary>
public sealed record BusyWaitState(long LastRead, int Streak, long Step, long LastAccesses, long SkippedTicks, long Skips);
