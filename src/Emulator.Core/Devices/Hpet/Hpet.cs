// High Precision Event Timer (IA-PC HPET specification 1.0a) as QEMU 7.2's hw/timer/hpet.c
// models it on the "pc" machine (docs/ioapic-hpet.md). Address: 0xFED00000; QEMU's register
// block is 0x400 bytes, mapped here as the whole 4 KiB page (the bus maps pages), the rest of the
// page reading 0 and ignoring writes.
// Emulated: general capabilities and ID (0x8086A201: vendor 8086, legacy-replacement capable,
// 64-bit counter, 3 timers, revision 1; period 10,000,000 fs — a 100 MHz counter), general
// configuration (ENABLE_CNF, LEG_RT_CNF), general interrupt status (level-triggered timers set
// their bit; writing 1 clears it and lowers the line), the main counter (writable; while enabled
// it is derived from virtual time, counter = (virtual ns + offset) / 10, the offset fixed when
// ENABLE_CNF is set, as QEMU's hpet_get_ticks), and 3 timers: configuration and capabilities
// (periodic and 64-bit capable, FSB delivery not advertised, interrupt routing capability bit 2
// only — QEMU's intcap 0x4 for pc-i440fx — though any route 0–31 written is used), comparator
// with one-shot and periodic modes, SETVAL, 32-bit mode (comparator and period truncated, the
// extra interrupt at the 32-bit counter wrap in one-shot mode), the FSB route register and FSB
// delivery when enabled (a 32-bit memory write), interrupts on the GSI lines: level-triggered
// timers hold their line until the status bit is cleared, edge-triggered ones pulse it; with
// LEG_RT_CNF timer 0 drives GSI 0 (ISA IRQ0, I/O APIC pin 2) and timer 1 GSI 8 (IRQ8).
// Deadlines go to the Scheduler: a timer fires when virtual time reaches the comparator's tick.
// Access sizes as QEMU 7.2's hpet_ram_ops declare them (Sizes): valid 4–8 bytes, handlers of
// the default 4, so the bus splits a 64-bit access into two 32-bit halves, low first, and
// refuses narrower ones (they read 0 and write nothing).
// Not emulated: the PIT and RTC interrupt gating of legacy replacement (the machine has no PIT,
// and the RTC raises no interrupt); timer 3's registers (QEMU's off-by-one range check leaves a
// fourth register set readable and writable; here they read 0); QEMU's re-arm of a periodic
// timer one tick later when it fires exactly on its comparator tick (hpet_time_after is strict,
// so with exact virtual deadlines QEMU would interrupt twice per period; here the comparator
// advances once the counter reaches it, as the HPET specification describes).
// Firmware relies on: nothing — OVMF does not program the HPET; QEMU's ACPI HPET table and
// fw_cfg item 0x8004 (PcMachine.HpetBlocks) describe it to operating systems.
using Emulator.Core.Memory;
using Emulator.Core.Timing;

namespace Emulator.Core.Devices.Hpet;

/// <summary>The HPET of QEMU's "pc" machine: main counter and three comparators on virtual time.</summary>
public sealed class Hpet : IMmioDevice, IDevice
{
    public const ulong DefaultBase = 0xFED0_0000;
    public const ulong Size = 0x1000;
    public const ulong RegisterBlockSize = 0x400;
    public const int TimerCount = 3;

    /// <summary>Interrupt routes a timer can select (Tn_INT_ROUTE_CNF is 5 bits; QEMU HPET_NUM_IRQ_ROUTES).</summary>
    public const int RouteCount = 32;

    /// <summary>The counter period in femtoseconds (QEMU HPET_CLK_PERIOD 10 ns × FS_PER_NS).</summary>
    public const uint PeriodFemtoseconds = 10_000_000;

    /// <summary>Scheduler ticks (virtual nanoseconds) per counter tick.</summary>
    public const long NanosecondsPerTick = 10;

    /// <summary>Low half of the capabilities register: vendor 0x8086, LEG_RT_CAP, COUNT_SIZE_CAP, NUM_TIM_CAP 2, REV_ID 1.</summary>
    public const uint EventTimerBlockId = 0x8086_A201;
    public const ulong Capabilities = EventTimerBlockId | ((ulong)PeriodFemtoseconds << 32);

    public const int CapabilitiesRegister = 0x000;
    public const int PeriodRegister = 0x004;
    public const int ConfigurationRegister = 0x010;
    public const int InterruptStatusRegister = 0x020;
    public const int CounterRegister = 0x0F0;
    public const int TimerBlockStart = 0x100;
    public const int TimerStride = 0x20;

    public const ulong ConfigEnable = 1UL << 0;
    public const ulong ConfigLegacyRoute = 1UL << 1;
    public const ulong ConfigWritableMask = ConfigEnable | ConfigLegacyRoute;

    /// <summary>The GSI timer 0 drives under legacy replacement (ISA IRQ0; the board sends it to I/O APIC pin 2).</summary>
    public const int LegacyTimer0Gsi = 0;

    /// <summary>The GSI timer 1 drives under legacy replacement (the RTC's ISA IRQ8).</summary>
    public const int LegacyTimer1Gsi = 8;

    private const int DwordSize = 4;
    private const int QwordSize = 8;
    private const int DwordBits = 32;
    private const ulong LowDword = uint.MaxValue;

    private readonly HpetTimer[] _timers = new HpetTimer[TimerCount];
    private readonly Func<long> _now;
    private readonly OutputLine[] _irqs = new OutputLine[RouteCount];
    private readonly Action<ulong, uint> _writeMemory;
    private ulong _config;
    private ulong _isr;
    private ulong _counter;
    private ulong _offset;

    /// <param name="scheduler">Where comparator deadlines go.</param>
    /// <param name="now">The current virtual time in scheduler ticks (nanoseconds).</param>
    /// <param name="writeMemory">A 32-bit physical memory write, for FSB (message) delivery.</param>
    public Hpet(Scheduler scheduler, Func<long> now, Action<ulong, uint> writeMemory)
    {
        _now = now;
        _writeMemory = writeMemory;
        for (int i = 0; i < RouteCount; i++)
        {
            _irqs[i] = new OutputLine($"hpet.irq{i}");
        }

        for (int i = 0; i < TimerCount; i++)
        {
            _timers[i] = new HpetTimer(this, i, scheduler);
        }
    }

    public string Name => "hpet";

    /// <summary>QEMU 7.2 hpet_ram_ops: valid.min 4, valid.max 8, no impl sizes (QEMU's default 1–4).</summary>
    public AccessSizes Sizes => new(DwordSize, QwordSize, 1, DwordSize);

    /// <summary>The interrupt outputs by route (QEMU's hpet irqs[]): the pc board connects 0–23 to the GSI lines, 24–31 to nothing.</summary>
    public IReadOnlyList<OutputLine> Irqs => _irqs;

    internal bool Enabled => (_config & ConfigEnable) != 0;

    internal bool LegacyRoute => (_config & ConfigLegacyRoute) != 0;

    /// <summary>Machine reset (QEMU hpet_reset): counter 0, disabled, every timer stopped with its reset configuration.</summary>
    public void Reset()
    {
        foreach (var timer in _timers)
        {
            timer.Reset();
        }

        _counter = 0;
        _offset = 0;
        _config = 0;
    }

    /// <summary>A 32-bit read (the bus lets no other size through).</summary>
    public ulong Read(ulong offset, int size) => offset < RegisterBlockSize ? ReadRegister((int)offset) & LowDword : 0;

    /// <summary>A 32-bit write (the bus lets no other size through).</summary>
    public void Write(ulong offset, int size, ulong value)
    {
        if (offset < RegisterBlockSize)
        {
            WriteRegister((int)offset, value & LowDword);
        }
    }

    /// <summary>The state a snapshot keeps (QEMU's vmstate "hpet" with the offset, plus each timer's deadline and the output levels).</summary>
    public DeviceState SaveState() =>
        new HpetState(_config, _isr, _counter, _offset, [.. _timers.Select(t => t.SaveState())], [.. _irqs.Select(l => l.Level)]);

    public void RestoreState(DeviceState saved)
    {
        var state = DeviceState.Expect<HpetState>(saved, this);
        _config = state.Config;
        _isr = state.InterruptStatus;
        _counter = state.Counter;
        _offset = state.Offset;
        for (int i = 0; i < TimerCount; i++)
        {
            _timers[i].RestoreState(state.Timers[i]);
        }

        for (int i = 0; i < RouteCount; i++)
        {
            _irqs[i].Restore(state.IrqLevels[i]);
        }
    }

    /// <summary>The main counter at the current virtual time (QEMU hpet_get_ticks: (ns + offset) / 10).</summary>
    internal ulong CurrentTicks() => ((ulong)_now() + _offset) / NanosecondsPerTick;

    internal long Now() => _now();

    /// <summary>
    /// Drives timer <paramref name="index"/>'s interrupt (QEMU update_irq): lowered and status
    /// cleared when <paramref name="set"/> is false or the timer or HPET is disabled; otherwise
    /// an FSB write, a held level with the status bit, or an edge pulse.
    /// </summary>
    internal void UpdateInterrupt(int index, ulong timerConfig, ulong fsbRoute, bool set)
    {
        int gsi = index <= 1 && LegacyRoute
            ? (index == 0 ? LegacyTimer0Gsi : LegacyTimer1Gsi)
            : HpetTimer.Route(timerConfig);
        ulong mask = 1UL << index;
        bool fsb = (timerConfig & HpetTimer.FsbEnable) != 0;
        if (!set || (timerConfig & HpetTimer.InterruptEnable) == 0 || !Enabled)
        {
            _isr &= ~mask;
            if (!fsb)
            {
                _irqs[gsi].Set(false);
            }
        }
        else if (fsb)
        {
            _writeMemory(fsbRoute >> DwordBits, (uint)fsbRoute);
        }
        else if ((timerConfig & HpetTimer.LevelTriggered) != 0)
        {
            _isr |= mask;
            _irqs[gsi].Set(true);
        }
        else
        {
            _isr &= ~mask;
            _irqs[gsi].Set(true);
            _irqs[gsi].Set(false);
        }
    }

    private ulong ReadRegister(int offset)
    {
        if (offset >= TimerBlockStart)
        {
            int index = (offset - TimerBlockStart) / TimerStride;
            return index < TimerCount ? _timers[index].Read((offset - TimerBlockStart) % TimerStride) : 0;
        }

        return offset switch
        {
            CapabilitiesRegister => Capabilities,
            PeriodRegister => Capabilities >> DwordBits,
            ConfigurationRegister => _config,
            InterruptStatusRegister => _isr,
            CounterRegister => Counter(),
            CounterRegister + DwordSize => Counter() >> DwordBits,
            _ => 0,
        };
    }

    private void WriteRegister(int offset, ulong value)
    {
        if (offset >= TimerBlockStart)
        {
            int index = (offset - TimerBlockStart) / TimerStride;
            if (index < TimerCount)
            {
                _timers[index].Write((offset - TimerBlockStart) % TimerStride, value);
            }

            return;
        }

        switch (offset)
        {
            case ConfigurationRegister:
                WriteConfiguration(value);
                break;
            case InterruptStatusRegister:
                ulong clear = value & _isr;
                for (int i = 0; i < TimerCount; i++)
                {
                    if ((clear & (1UL << i)) != 0)
                    {
                        _timers[i].Lower();
                    }
                }

                break;
            case CounterRegister:
                _counter = (_counter & ~LowDword) | value;
                break;
            case CounterRegister + DwordSize:
                _counter = (_counter & LowDword) | (value << DwordBits);
                break;
        }
    }

    private ulong Counter() => Enabled ? CurrentTicks() : _counter;

    /// <summary>
    /// QEMU hpet_ram_write HPET_CFG: enabling fixes the counter's offset from virtual time and
    /// arms every timer whose comparator was written; disabling freezes the counter and stops
    /// the timers. Entering or leaving legacy replacement lowers GSI 0 and 8 (the PIT and RTC
    /// gating QEMU also does has nothing to act on here).
    /// </summary>
    private void WriteConfiguration(ulong value)
    {
        ulong old = _config;
        _config = (old & ~ConfigWritableMask) | (value & ConfigWritableMask);
        if ((old & ConfigEnable) == 0 && (value & ConfigEnable) != 0)
        {
            _offset = (_counter * NanosecondsPerTick) - (ulong)_now();
            foreach (var timer in _timers)
            {
                timer.StartIfProgrammed();
            }
        }
        else if ((old & ConfigEnable) != 0 && (value & ConfigEnable) == 0)
        {
            _counter = CurrentTicks();
            foreach (var timer in _timers)
            {
                timer.Stop();
            }
        }

        if (((old ^ value) & ConfigLegacyRoute) != 0)
        {
            // QEMU lowers IRQ0 and sets IRQ8 to the RTC's level, which here is always low.
            _irqs[LegacyTimer0Gsi].Set(false);
            _irqs[LegacyTimer1Gsi].Set(false);
        }
    }
}
