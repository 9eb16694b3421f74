using Emulator.Core.Timing;

namespace Emulator.Core.Devices.Hpet;

/// <summary>
/// One HPET comparator (IA-PC HPET specification §2.3.8–2.3.10; QEMU 7.2 HPETTimer): its
/// configuration and capabilities register, comparator, FSB route and the hidden period, with
/// the deadline it keeps on the scheduler.
/// </summary>
internal sealed class HpetTimer
{
    public const ulong LevelTriggered = 1UL << 1;
    public const ulong InterruptEnable = 1UL << 2;
    public const ulong Periodic = 1UL << 3;
    public const ulong PeriodicCapable = 1UL << 4;
    public const ulong SizeCapable = 1UL << 5;
    public const ulong SetValue = 1UL << 6;
    public const ulong Mode32 = 1UL << 8;
    public const int RouteShift = 9;
    public const ulong RouteMask = 0x1FUL << RouteShift;
    public const ulong FsbEnable = 1UL << 14;

    /// <summary>QEMU HPET_TN_CFG_WRITE_MASK: type, enable, periodic, SETVAL, 32-bit mode, route, FSB enable.</summary>
    public const ulong WritableMask = 0x7F4E;

    /// <summary>Routing capability (bits 32–63): IRQ2 only, QEMU's intcap for pc-i440fx machines.</summary>
    public const ulong RouteCapability = 0x4UL << 32;

    public const ulong ResetConfig = PeriodicCapable | SizeCapable | RouteCapability;

    public const int ConfigRegister = 0x00;
    public const int ComparatorRegister = 0x08;
    public const int FsbRouteRegister = 0x10;

    private const int HighHalf = 4;
    private const int DwordBits = 32;
    private const ulong LowDword = uint.MaxValue;
    private const ulong HighDword = ~LowDword;
    private const ulong PeriodLimit64 = long.MaxValue;
    private const ulong PeriodLimit32 = int.MaxValue;

    private readonly Hpet _hpet;
    private readonly int _index;
    private readonly Scheduler _scheduler;
    private ulong _config = ResetConfig;
    private ulong _comparator = ulong.MaxValue;
    private ulong _fsbRoute;
    private ulong _period;
    private bool _wrapPending;
    private TimerEvent? _deadline;

    public HpetTimer(Hpet hpet, int index, Scheduler scheduler)
    {
        _hpet = hpet;
        _index = index;
        _scheduler = scheduler;
    }

    /// <summary>The GSI a timer's configuration routes to outside legacy replacement.</summary>
    public static int Route(ulong config) => (int)((config & RouteMask) >> RouteShift);

    /// <summary>QEMU hpet_reset for one timer: stopped, comparator all-ones, capabilities only.</summary>
    public void Reset()
    {
        Stop();
        _comparator = ulong.MaxValue;
        _config = ResetConfig;
        _fsbRoute = 0;
        _period = 0;
        _wrapPending = false;
    }

    public ulong Read(int register) => register switch
    {
        ConfigRegister => _config,
        ConfigRegister + HighHalf => _config >> DwordBits,
        ComparatorRegister => _comparator,
        ComparatorRegister + HighHalf => _comparator >> DwordBits,
        FsbRouteRegister => _fsbRoute,
        FsbRouteRegister + HighHalf => _fsbRoute >> DwordBits,
        _ => 0,
    };

    public void Write(int register, ulong value)
    {
        switch (register)
        {
            case ConfigRegister:
                WriteConfig(value);
                break;
            case ComparatorRegister:
                WriteComparator(value, high: false);
                break;
            case ComparatorRegister + HighHalf:
                WriteComparator(value, high: true);
                break;
            case FsbRouteRegister:
                _fsbRoute = (_fsbRoute & HighDword) | value;
                break;
            case FsbRouteRegister + HighHalf:
                _fsbRoute = (_fsbRoute & LowDword) | (value << DwordBits);
                break;
        }
    }

    /// <summary>When the HPET is enabled: arms the timer unless its comparator was never written (QEMU's cmp != ~0 test).</summary>
    public void StartIfProgrammed()
    {
        if (_comparator != ulong.MaxValue)
        {
            Arm();
        }
    }

    /// <summary>QEMU hpet_del_timer: no deadline, the interrupt lowered and its status cleared.</summary>
    public void Stop()
    {
        CancelDeadline();
        Lower();
    }

    public void Lower() => _hpet.UpdateInterrupt(_index, _config, _fsbRoute, set: false);

    public HpetTimerState SaveState() => new(_config, _comparator, _fsbRoute, _period, _wrapPending, _deadline?.When);

    public void RestoreState(HpetTimerState state)
    {
        CancelDeadline();
        _config = state.Config;
        _comparator = state.Comparator;
        _fsbRoute = state.FsbRoute;
        _period = state.Period;
        _wrapPending = state.WrapPending;
        if (state.DeadlineAt is { } when)
        {
            _deadline = _scheduler.Schedule(when, _ => Expire());
        }
    }

    private bool Is32Bit => (_config & Mode32) != 0;

    private bool IsPeriodic => (_config & Periodic) != 0;

    private void WriteConfig(ulong value)
    {
        ulong old = _config;
        if ((old & FsbEnable) == 0 && (value & FsbEnable) != 0)
        {
            Lower();
        }

        _config = (old & ~WritableMask) | (value & WritableMask);
        if ((value & Mode32) != 0)
        {
            _comparator &= LowDword;
            _period &= LowDword;
        }

        if ((old & InterruptEnable) == 0 && (value & InterruptEnable) != 0 && _hpet.Enabled)
        {
            Arm();
        }
        else if ((old & InterruptEnable) != 0 && (value & InterruptEnable) == 0)
        {
            Stop();
        }
    }

    /// <summary>
    /// QEMU HPET_TN_CMP / HPET_TN_CMP + 4: a one-shot timer (or SETVAL) takes the value as its
    /// comparator; a periodic timer takes it as its period (at most 2^31 − 1 ticks in 32-bit
    /// mode, 2^63 − 1 otherwise). SETVAL clears, and an enabled HPET re-arms the timer.
    /// </summary>
    private void WriteComparator(ulong value, bool high)
    {
        bool setsComparator = !IsPeriodic || (_config & SetValue) != 0;
        if (setsComparator)
        {
            _comparator = high ? (_comparator & LowDword) | (value << DwordBits) : (_comparator & HighDword) | value;
        }

        if (IsPeriodic && (!high || !setsComparator))
        {
            value &= Is32Bit ? PeriodLimit32 : PeriodLimit64;
            _period = high ? (_period & LowDword) | (value << DwordBits) : (_period & HighDword) | value;
        }

        _config &= ~SetValue;
        if (_hpet.Enabled)
        {
            Arm();
        }
    }

    /// <summary>
    /// QEMU hpet_set_timer: the next deadline is the comparator's tick (at least one tick ahead);
    /// a 32-bit one-shot timer whose comparator lies past the counter's 32-bit wrap stops at the
    /// wrap first (the specification's wrap interrupt).
    /// </summary>
    private void Arm()
    {
        ulong now = _hpet.CurrentTicks();
        _wrapPending = false;
        ulong diff = TicksToComparator(now);
        if (Is32Bit && !IsPeriodic)
        {
            uint toWrap = uint.MaxValue - (uint)now;
            if (toWrap < (uint)diff)
            {
                diff = toWrap;
                _wrapPending = true;
            }
        }

        Schedule(diff);
    }

    /// <summary>
    /// QEMU hpet_timer: a periodic timer moves its comparator past the counter by whole periods
    /// and re-arms; a 32-bit one-shot timer that stopped at the wrap re-arms for its comparator;
    /// then the interrupt is raised.
    /// </summary>
    private void Expire()
    {
        _deadline = null;
        ulong now = _hpet.CurrentTicks();
        if (IsPeriodic && _period != 0)
        {
            if (Is32Bit)
            {
                uint behind = (uint)now - (uint)_comparator;
                if ((int)behind >= 0)
                {
                    _comparator = (uint)(_comparator + (((behind / _period) + 1) * _period));
                }
            }
            else
            {
                ulong behind = now - _comparator;
                if ((long)behind >= 0)
                {
                    _comparator += ((behind / _period) + 1) * _period;
                }
            }

            Schedule(TicksToComparator(now));
        }
        else if (Is32Bit && !IsPeriodic && _wrapPending)
        {
            _wrapPending = false;
            Schedule(TicksToComparator(now));
        }

        _hpet.UpdateInterrupt(_index, _config, _fsbRoute, set: true);
    }

    /// <summary>QEMU hpet_calculate_diff: comparator minus counter in the timer's width, at least 1.</summary>
    private ulong TicksToComparator(ulong now)
    {
        if (Is32Bit)
        {
            uint diff = (uint)_comparator - (uint)now;
            return (int)diff > 0 ? diff : 1;
        }

        ulong wide = _comparator - now;
        return (long)wide > 0 ? wide : 1;
    }

    /// <summary>A deadline <paramref name="ticks"/> counter ticks from now; none when it lies beyond virtual time's range.</summary>
    private void Schedule(ulong ticks)
    {
        CancelDeadline();
        long now = _hpet.Now();
        if (ticks > (ulong)((long.MaxValue - now) / Hpet.NanosecondsPerTick))
        {
            return;
        }

        _deadline = _scheduler.Schedule(now + ((long)ticks * Hpet.NanosecondsPerTick), _ => Expire());
    }

    private void CancelDeadline()
    {
        if (_deadline != null)
        {
            _scheduler.Cancel(_deadline);
            _deadline = null;
        }
    }
}
