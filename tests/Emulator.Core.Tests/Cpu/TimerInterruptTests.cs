using Emulator.Core.Cpu;
using Emulator.Core.Devices.LocalApic;
using Emulator.Core.Machine;
using Emulator.Core.Tests.Support;
using Emulator.Core.Timing;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// The interrupt path end to end, the way OVMF's timer works: a periodic local APIC timer on the
/// deterministic scheduler, delivered through a 64-bit IDT gate, EOI, and an idle loop of
/// STI; HLT that skips virtual time to the next deadline.
/// </summary>
[Trait("Category", "Unit")]
public class TimerInterruptTests
{
    private const ulong Idt = 0x3000;
    private const ulong HandlerAt = 0x120000;
    private const ulong Apic = Xapic.DefaultBase;

    private static (long Instructions, long Idle, uint Ticks, ulong LastRip, int Halts) RunOnce()
    {
        using var m = new TestMachine();
        int halts = 0;
        m.Cpu.Halting = () => halts++;
        var scheduler = new Scheduler();
        var apic = new Xapic(scheduler, () => m.Cpu.VirtualTime, 1, 1);
        m.Bus.MapMmio("lapic", Apic, Xapic.Size, new InterruptControllerWindow(apic, m.Cpu));
        m.Cpu.Scheduler = scheduler;
        m.Cpu.InterruptController = apic;

        // Vector 0x20: count ticks at 0x5000, EOI, IRETQ.
        m.Load(HandlerAt, TestMachine.Assemble(64, HandlerAt, a =>
        {
            a.push(rax);
            a.inc(__dword_ptr[0x5000]);
            a.mov(eax, (uint)Apic);
            a.mov(__dword_ptr[rax + 0xB0], 0);
            a.pop(rax);
            a.iretq();
        }));
        ulong gate = (HandlerAt & 0xFFFF) | ((ulong)TestMachine.Code64 << 16) | (0x8EUL << 40) | ((HandlerAt >> 16) & 0xFFFF) << 48;
        m.WriteU64(Idt + 0x20 * 16, gate);
        m.WriteU64(Idt + 0x20 * 16 + 8, 0);

        m.LoadLong64(a =>
        {
            var idle = a.CreateLabel();
            a.mov(eax, (uint)Apic);
            a.mov(__dword_ptr[rax + 0xF0], 0x1FF);             // SVR: software enable
            a.mov(__dword_ptr[rax + 0x3E0], 0xB);              // divide by 1
            a.mov(__dword_ptr[rax + 0x320], 0x20 | 0x20000);   // periodic, vector 0x20
            a.mov(__dword_ptr[rax + 0x380], 100_000);          // every 100,000 ticks
            a.Label(ref idle);
            a.sti();
            a.hlt();
            a.cmp(__dword_ptr[0x5000], 5);
            a.jb(idle);
            a.cli();
            a.hlt();
        });
        m.Cpu._idtr = new TableRegister { Base = Idt, Limit = 0xFFF };
        Assert.Equal(StopReason.Halted, m.Run(1_000_000));
        return (m.Cpu.InstructionCount, m.Cpu.IdleTicks, m.ReadU32(0x5000), m.Cpu.Rip, halts);
    }

    [Fact]
    public void PeriodicTimerWakesHaltAndIsCountedDeterministically()
    {
        var first = RunOnce();
        Assert.Equal(5U, first.Ticks);

        // Five 100,000-tick periods passed almost entirely in HLT, skipped rather than executed.
        Assert.True(first.Idle > 450_000, $"idle {first.Idle}");
        Assert.True(first.Instructions < 200, $"instructions {first.Instructions}");

        // Halting is told of each wait: five for the ticks, one for the final HLT with interrupts off.
        Assert.Equal(6, first.Halts);
        Assert.Equal(first, RunOnce());
    }
}
