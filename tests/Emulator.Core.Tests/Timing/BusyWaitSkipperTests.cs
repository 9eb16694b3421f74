using Emulator.Core.Cpu;
using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Tests.Support;
using Emulator.Core.Timing;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Timing;

/// <summary>
/// A guest delay loop written the way edk2's AcpiTimerLib writes it (read the PM timer, compare
/// with the target, PAUSE, repeat) runs with and without busy-wait skipping: the delay still
/// lasts at least what was asked in virtual time, ends at most a quarter (plus one step) late,
/// costs a tiny fraction of the instructions, and runs identically every time.
/// </summary>
[Trait("Category", "Unit")]
public sealed class BusyWaitSkipperTests
{
    private const ushort PmBase = 0xB000;
    private const long OneSecondTicks = PmIoBlock.TimerFrequency;

    [Fact]
    public void AOneSecondDelayCostsFewInstructionsAndLastsAtLeastASecond()
    {
        var (instructions, virtualTime, skipper) = RunDelay(OneSecondTicks, skipping: true);

        Assert.True(virtualTime >= 1_000_000_000, $"virtual time {virtualTime}");
        Assert.True(virtualTime <= 1_250_000_000 + BusyWaitSkipper.MaxStep, $"virtual time {virtualTime}");
        Assert.True(instructions < 50_000, $"instructions {instructions}");
        Assert.True(skipper.Skips > 0);
        Assert.Equal(virtualTime - instructions, skipper.SkippedTicks);
    }

    [Fact]
    public void WithoutSkippingTheDelayCostsItsFullInstructions()
    {
        const long tenMilliseconds = OneSecondTicks / 100;
        var (instructions, virtualTime, skipper) = RunDelay(tenMilliseconds, skipping: false);

        Assert.Equal(0, skipper.SkippedTicks);
        Assert.Equal(instructions, virtualTime);
        Assert.True(virtualTime >= 10_000_000 && virtualTime < 10_100_000, $"virtual time {virtualTime}");
    }

    [Fact]
    public void ShortDelaysEndNearlyOnTime()
    {
        // The loop ends when the timer passes target = start + 3, at tick 4 (1,118 ns); only
        // the first, smallest steps can overshoot.
        var (_, virtualTime, _) = RunDelay(3, skipping: true);
        Assert.InRange(virtualTime, 1_118, 1_118 + (2 * BusyWaitSkipper.InitialStep) + BusyWaitSkipper.PollWindow);
    }

    [Fact]
    public void RunsAreIdentical()
    {
        var a = RunDelay(OneSecondTicks / 7, skipping: true);
        var b = RunDelay(OneSecondTicks / 7, skipping: true);
        Assert.Equal((a.Instructions, a.VirtualTime, a.Skipper.Skips), (b.Instructions, b.VirtualTime, b.Skipper.Skips));
    }

    [Fact]
    public void ASkipNeverPassesATimerDeadline()
    {
        long fired = -1;
        const long deadline = 123_456_789;
        var result = RunDelay(OneSecondTicks / 2, skipping: true, (cpu, scheduler) =>
            scheduler.Schedule(deadline, _ => fired = cpu.VirtualTime));

        Assert.True(result.VirtualTime >= 500_000_000);
        Assert.InRange(fired, deadline, deadline + BusyWaitSkipper.PollWindow);
    }

    [Fact]
    public void ShortWaitsSeparatedByOtherPortAccessesEachKeepTheirBound()
    {
        // OVMF's PS/2 driver: read the controller status, Stall 30 µs (107 PM ticks), 2,189 times.
        // Each Stall must end within its own bound; without the port-access rule the step grown
        // in one Stall carries into the next and every 30 µs Stall lasts up to 1 ms.
        const int waits = 200;
        var separate = RunDelay(107, skipping: true, repeat: waits, countPortAccesses: true);
        Assert.InRange(separate.VirtualTime, waits * 30_000L, waits * (30_000L + 7_500 + BusyWaitSkipper.InitialStep + (4 * BusyWaitSkipper.PollWindow)));

        var merged = RunDelay(107, skipping: true, repeat: waits, countPortAccesses: false);
        Assert.True(merged.VirtualTime > 10 * separate.VirtualTime, $"{merged.VirtualTime} vs {separate.VirtualTime}");
    }

    private static (long Instructions, long VirtualTime, BusyWaitSkipper Skipper) RunDelay(
        long ticks, bool skipping, Action<global::Emulator.Core.Cpu.Cpu, Scheduler>? arm = null, int repeat = 1, bool countPortAccesses = true)
    {
        using var m = new TestMachine();
        var scheduler = new Scheduler();
        m.Cpu.Scheduler = scheduler;
        var pm = new PmIoBlock(() => m.Cpu.VirtualTime);
        var skipper = new BusyWaitSkipper(() => m.Cpu.InstructionCount, () => m.Cpu.VirtualTime, scheduler, m.Cpu.SkipWait) { Enabled = skipping };
        if (countPortAccesses)
        {
            skipper.PortAccesses = () => m.Ports.AccessCount;
        }

        pm.WaitSkipper = skipper;
        m.Ports.Register(PmBase, PmIoBlock.PortCount, pm);
        arm?.Invoke(m.Cpu, scheduler);

        m.LoadProtected32(a =>
        {
            var poll = a.CreateLabel();
            var again = a.CreateLabel();
            a.mov(esi, repeat);
            a.Label(ref again);
            a.@in(al, 0x61);                 // another device between waits (a status register)
            a.mov(dx, PmBase + PmIoBlock.PmTimerOffset);
            a.@in(eax, dx);
            a.lea(ebx, __[eax + (int)ticks]);
            a.Label(ref poll);
            a.pause();
            a.@in(eax, dx);
            a.mov(ecx, ebx);
            a.sub(ecx, eax);
            a.test(ecx, 1 << 23);
            a.jz(poll);
            a.dec(esi);
            a.jnz(again);
            a.mov(al, 0);
            a.@out(0xF4, al);
        });

        var stop = m.Run(2_000_000_000);
        Assert.Equal(StopReason.Requested, stop);
        return (m.Cpu.InstructionCount, m.Cpu.VirtualTime, skipper);
    }
}
