using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Emulator.Core.Timing;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// <see cref="Cpu.IdleUntilNextDeadline"/>, what a host probe calls when the guest waits without
/// halting (an OS loader polling its console): virtual time jumps to the next deadline as at HLT
/// and counts as idle, but only when an interrupt can end the wait — interrupts enabled and a
/// timer armed in the future.
/// </summary>
[Trait("Category", "Unit")]
public class IdleUntilNextDeadlineTests
{
    [Fact]
    public void JumpsToTheNextDeadlineAsIdleTimeWhenAnInterruptCanEndTheWait()
    {
        using var m = new TestMachine();
        var scheduler = new Scheduler();
        m.Cpu.Scheduler = scheduler;
        scheduler.Schedule(m.Cpu.VirtualTime + 10_000_000, _ => { });

        m.Cpu._flags |= RFlags.IF;
        long before = m.Cpu.VirtualTime;
        Assert.True(m.Cpu.IdleUntilNextDeadline());
        Assert.Equal(before + 10_000_000, m.Cpu.VirtualTime);
        Assert.Equal(10_000_000, m.Cpu.IdleTicks);

        // At the deadline already: nothing left to skip.
        Assert.False(m.Cpu.IdleUntilNextDeadline());
        Assert.Equal(before + 10_000_000, m.Cpu.VirtualTime);
    }

    [Fact]
    public void StaysPutWithInterruptsDisabledOrNoTimerArmed()
    {
        using var m = new TestMachine();
        var scheduler = new Scheduler();
        m.Cpu.Scheduler = scheduler;

        m.Cpu._flags |= RFlags.IF;
        Assert.False(m.Cpu.IdleUntilNextDeadline());            // no deadline

        scheduler.Schedule(m.Cpu.VirtualTime + 1_000, _ => { });
        m.Cpu._flags &= ~RFlags.IF;
        Assert.False(m.Cpu.IdleUntilNextDeadline());            // interrupts disabled
        Assert.Equal(0, m.Cpu.IdleTicks);
    }
}
