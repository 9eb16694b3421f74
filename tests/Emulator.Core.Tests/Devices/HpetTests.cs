using Emulator.Core.Devices.Hpet;
using Emulator.Core.Memory;
using Emulator.Core.Timing;

namespace Emulator.Core.Tests.Devices;

/// <summary>
/// The HPET through its MMIO window on virtual time (scheduler ticks are nanoseconds). Reset
/// values and writable bits were read from QEMU 7.2's pc machine with qtest (docs/ioapic-hpet.md).
/// </summary>
[Trait("Category", "Unit")]
public sealed class HpetTests : IDisposable
{
    private const ulong Base = Hpet.DefaultBase;
    private readonly PhysicalBus _bus = new();
    private readonly Scheduler _scheduler = new();
    private readonly Hpet _hpet;
    private readonly List<(long Time, int Gsi, bool Level)> _lines = [];
    private readonly List<(ulong Address, uint Value)> _fsbWrites = [];
    private long _now;

    public HpetTests()
    {
        _hpet = new Hpet(_scheduler, () => _now, (a, v) => _fsbWrites.Add((a, v)));
        for (int route = 0; route < Hpet.RouteCount; route++)
        {
            int gsi = route;
            _hpet.Irqs[route].Connect($"gsi {gsi}", level => _lines.Add((_now, gsi, level)));
        }

        _bus.MapMmio("hpet", Base, Hpet.Size, _hpet);
    }

    public void Dispose() => _bus.Dispose();

    [Fact]
    public void ResetValuesMatchQemu()
    {
        Assert.Equal(0x0098_9680_8086_A201UL, _bus.Read(Base, 8));
        Assert.Equal(0x0098_9680u, Reg32(0x004));
        Assert.Equal(0UL, _bus.Read(Base + 0x010, 8));
        Assert.Equal(0UL, _bus.Read(Base + 0x020, 8));
        Assert.Equal(0UL, _bus.Read(Base + 0x0F0, 8));
        for (ulong t = 0; t < 3; t++)
        {
            Assert.Equal(0x0000_0004_0000_0030UL, _bus.Read(Base + 0x100 + (t * 0x20), 8));
            Assert.Equal(ulong.MaxValue, _bus.Read(Base + 0x108 + (t * 0x20), 8));
            Assert.Equal(0UL, _bus.Read(Base + 0x110 + (t * 0x20), 8));
        }

        Assert.Equal(0UL, _bus.Read(Base + 0x160, 8));
        Assert.Equal(0UL, _bus.Read(Base, 2));
        Assert.Equal(0UL, _bus.Read(Base, 1));
        Assert.Equal(0UL, _bus.Read(Base + 0x400, 4));
        Assert.Equal((0x8086_A201u, 0xFED0_0000UL), (Hpet.EventTimerBlockId, Hpet.DefaultBase));
    }

    [Fact]
    public void WritableBitsMatchQemu()
    {
        SetReg32(0x100, 0xFFFF_FFFF);
        Assert.Equal(0x7F7Eu, Reg32(0x100));
        Assert.Equal(0x4u, Reg32(0x104));
        Assert.Equal(0xFFFF_FFFFUL, _bus.Read(Base + 0x108, 8));
        SetReg32(0x010, 0xFFFF_FFFF);
        Assert.Equal(3u, Reg32(0x010));
        SetReg32(0x014, 5);
        Assert.Equal(0u, Reg32(0x014));
        SetReg32(0x000, 0);
        Assert.Equal(0x8086_A201u, Reg32(0x000));
        _bus.Write(Base + 0x128, 8, 0x1122_3344_5566_7788);
        Assert.Equal(0x1122_3344_5566_7788UL, _bus.Read(Base + 0x128, 8));
        SetReg32(0x130, 0xFEE0_0000);
        Assert.Equal(0xFEE0_0000UL, _bus.Read(Base + 0x130, 8));
    }

    [Fact]
    public void CounterRunsAt100MHzOfVirtualTimeWhileEnabled()
    {
        _now = 5_000;
        SetReg32(0x010, 1);
        _now = 1_005_000;
        Assert.Equal(100_000UL, _bus.Read(Base + 0x0F0, 8));
        _now = 1_005_009;
        Assert.Equal(100_000u, Reg32(0x0F0));
        _now = 1_005_010;
        Assert.Equal(100_001u, Reg32(0x0F0));

        SetReg32(0x010, 0);
        _now = 9_000_000;
        Assert.Equal(100_001u, Reg32(0x0F0));

        _bus.Write(Base + 0x0F0, 8, 0x1_0000_0000);
        SetReg32(0x010, 1);
        _now += 10_000_000_000L;
        Assert.Equal(0x1_0000_0000UL + 1_000_000_000UL, _bus.Read(Base + 0x0F0, 8));
    }

    [Fact]
    public void OneShotComparatorFiresAtItsTickOnItsRoute()
    {
        // Timer 2, edge, routed to GSI 5 (any route is used, as on QEMU), comparator 500 ticks.
        SetReg32(0x140, (5 << 9) | 0x4);
        _bus.Write(Base + 0x148, 8, 500);
        _now = 1_000;
        SetReg32(0x010, 1);
        Assert.Equal(6_000L, _scheduler.NextDeadline);
        RunTo(5_999);
        Assert.Empty(_lines);
        RunTo(6_000);
        Assert.Equal([(6_000L, 5, true), (6_000L, 5, false)], _lines);
        Assert.Equal(0u, Reg32(0x020));
        Assert.Equal(long.MaxValue, _scheduler.NextDeadline);
    }

    [Fact]
    public void PeriodicTimerInterruptsOncePerPeriodWithoutDrift()
    {
        // One-shot, a 64-bit write sets the whole comparator; then periodic with SETVAL: the low
        // dword sets comparator and period, and SETVAL clears itself.
        _bus.Write(Base + 0x108, 8, 7);
        SetReg32(0x100, 0x4 | 0x8 | 0x40);
        SetReg32(0x108, 100);
        Assert.Equal(0x4u | 0x8 | 0x30, Reg32(0x100));
        Assert.Equal(100UL, _bus.Read(Base + 0x108, 8));
        SetReg32(0x010, 1);
        for (int tick = 1; tick <= 3; tick++)
        {
            RunTo((tick * 1_000L) - 1);
            Assert.Equal((tick - 1) * 2, _lines.Count);
            RunTo(tick * 1_000L);
            Assert.Equal(tick * 2, _lines.Count);
            Assert.Equal((tick * 1_000L, 0, true), _lines[^2]);
            Assert.Equal((ulong)((tick + 1) * 100), _bus.Read(Base + 0x108, 8));
        }

        // A late look (interrupts held off) catches up by whole periods, once.
        RunTo(5_500);
        Assert.Equal(8, _lines.Count);
        Assert.Equal(600UL, _bus.Read(Base + 0x108, 8));
        Assert.Equal(6_000L, _scheduler.NextDeadline);
    }

    [Fact]
    public void LegacyReplacementRoutesTimer0ToIrq0AndTimer1ToIrq8()
    {
        SetReg32(0x100, (3 << 9) | 0x4);
        _bus.Write(Base + 0x108, 8, 10);
        SetReg32(0x120, (3 << 9) | 0x4);
        _bus.Write(Base + 0x128, 8, 20);
        SetReg32(0x010, 3);
        Assert.Equal([(0L, 0, false), (0L, 8, false)], _lines);
        _lines.Clear();
        RunTo(100);
        RunTo(200);
        Assert.Equal([(100L, 0, true), (100L, 0, false), (200L, 8, true), (200L, 8, false)], _lines);

        // Without legacy replacement the configured route (3) is used.
        SetReg32(0x010, 1);
        _lines.Clear();
        SetReg32(0x108, 30);
        RunTo(300);
        Assert.Equal([(300L, 3, true), (300L, 3, false)], _lines);
    }

    [Fact]
    public void LevelTriggeredTimerHoldsItsLineUntilStatusIsCleared()
    {
        SetReg32(0x120, (7 << 9) | 0x4 | 0x2);
        _bus.Write(Base + 0x128, 8, 50);
        SetReg32(0x010, 1);
        RunTo(500);
        Assert.Equal([(500L, 7, true)], _lines);
        Assert.Equal(2u, Reg32(0x020));
        SetReg32(0x020, 1);
        Assert.Equal(2u, Reg32(0x020));
        SetReg32(0x020, 2);
        Assert.Equal(0u, Reg32(0x020));
        Assert.Equal((500L, 7, false), _lines[^1]);
    }

    [Fact]
    public void ThirtyTwoBitOneShotInterruptsAtTheWrapAndAtTheMatch()
    {
        _bus.Write(Base + 0x0F0, 8, 0xFFFF_FF00);
        SetReg32(0x100, 0x4 | 0x100);
        Assert.Equal(0xFFFF_FFFFUL, _bus.Read(Base + 0x108, 8));
        SetReg32(0x108, 0x40);
        SetReg32(0x010, 1);
        Assert.Equal(0xFFL * 10, _scheduler.NextDeadline);
        RunTo(0xFFL * 10);
        Assert.Equal(2, _lines.Count);
        Assert.Equal((0x100L + 0x40) * 10, _scheduler.NextDeadline);
        RunTo((0x100L + 0x40) * 10);
        Assert.Equal(4, _lines.Count);
        Assert.Equal(long.MaxValue, _scheduler.NextDeadline);
    }

    [Fact]
    public void FsbDeliveryWritesTheRouteMessageInsteadOfALine()
    {
        SetReg32(0x140, 0x4 | 0x4000);
        _bus.Write(Base + 0x150, 8, 0xFEE0_0000_0000_0031);
        _bus.Write(Base + 0x148, 8, 10);
        SetReg32(0x010, 1);
        RunTo(100);
        Assert.Equal([(0xFEE0_0000UL, 0x31u)], _fsbWrites);

        // Turning FSB delivery on lowered the line the old configuration drove; nothing since.
        Assert.Equal([(0L, 0, false)], _lines);
    }

    [Fact]
    public void StateRoundTripsAndResetRestoresPowerOn()
    {
        _bus.Write(Base + 0x108, 8, 100);
        SetReg32(0x100, 0x4 | 0x8);
        SetReg32(0x108, 100);
        SetReg32(0x010, 1);
        RunTo(1_500);
        var saved = _hpet.SaveState();
        _hpet.Reset();
        Assert.Equal(long.MaxValue, _scheduler.NextDeadline);
        Assert.Equal(0u, Reg32(0x010));
        Assert.Equal(0x30u, Reg32(0x100));
        _hpet.RestoreState(saved);
        Assert.Equal(2_000L, _scheduler.NextDeadline);
        Assert.Equal(150u, Reg32(0x0F0));
        Assert.Equal(0x4u | 0x8 | 0x30, Reg32(0x100));
    }

    private void RunTo(long time)
    {
        _now = time;
        _scheduler.RunDue(time);
    }

    private uint Reg32(ulong offset) => (uint)_bus.Read(Base + offset, 4);

    private void SetReg32(ulong offset, uint value) => _bus.Write(Base + offset, 4, value);
}
