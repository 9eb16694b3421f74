using Emulator.Core.Cpu;
using Emulator.Core.Devices.Hpet;
using Emulator.Core.Devices.IoApic;
using Emulator.Core.Devices.LocalApic;
using Emulator.Core.Devices.Pic8259;
using Emulator.Core.Machine;
using Emulator.Core.Tests.Support;
using Emulator.Core.Timing;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// An HPET comparator interrupt end to end, wired as the pc machine wires it: the guest programs
/// the I/O APIC redirection entry for pin 2 and the HPET's timer 0 in legacy replacement mode,
/// idles in STI; HLT, and its 64-bit IDT handler reads the HPET counter and sends EOI. Virtual
/// time skips to the comparator's deadline, so the handler sees the counter at the comparator.
/// </summary>
public class IoApicInterruptTests
{
    private const ulong Idt = 0x3000;
    private const ulong HandlerAt = 0x120000;
    private const ulong Lapic = Xapic.DefaultBase;
    private const ulong IoApicBase = IoApic.DefaultBase;
    private const ulong HpetBase = Hpet.DefaultBase;
    private const byte Vector = 0x30;
    private const uint ComparatorTicks = 1_000;

    private static (uint Ticks, uint Counter, long Idle, long Instructions) RunOnce()
    {
        using var m = new TestMachine();
        var scheduler = new Scheduler();
        Func<long> now = () => m.Cpu.VirtualTime;
        var apic = new Xapic(scheduler, now, 1, 1);
        var pic = new DualPic();
        var ioApic = new IoApic(
            message =>
            {
                apic.Accept(message);
                m.Cpu.InterruptStateChanged();
            },
            pic.Acknowledge,
            scheduler,
            now);
        apic.LevelTriggeredEoi = ioApic.EndOfInterrupt;
        var gsi = new GsiLines(pic, ioApic);
        var hpet = new Hpet(scheduler, now, gsi.Set, (a, v) => m.Bus.Write(a, 4, v));
        m.Bus.MapMmio("lapic", Lapic, Xapic.Size, new InterruptControllerWindow(apic, m.Cpu));
        m.Bus.MapMmio("ioapic", IoApicBase, IoApic.Size, new InterruptControllerWindow(ioApic, m.Cpu));
        m.Bus.MapMmio("hpet", HpetBase, Hpet.Size, hpet);
        m.Cpu.Scheduler = scheduler;
        m.Cpu.InterruptController = apic;

        m.Load(HandlerAt, TestMachine.Assemble(64, HandlerAt, a =>
        {
            a.push(rax);
            a.mov(eax, (uint)HpetBase);
            a.mov(eax, __dword_ptr[rax + 0xF0]);
            a.mov(__dword_ptr[0x5008], eax);
            a.inc(__dword_ptr[0x5000]);
            a.mov(eax, (uint)Lapic);
            a.mov(__dword_ptr[rax + 0xB0], 0);
            a.pop(rax);
            a.iretq();
        }));
        ulong gate = (HandlerAt & 0xFFFF) | ((ulong)TestMachine.Code64 << 16) | (0x8EUL << 40) | ((HandlerAt >> 16) & 0xFFFF) << 48;
        m.WriteU64(Idt + (Vector * 16), gate);
        m.WriteU64(Idt + (Vector * 16) + 8, 0);

        m.LoadLong64(a =>
        {
            var idle = a.CreateLabel();
            a.mov(eax, (uint)Lapic);
            a.mov(__dword_ptr[rax + 0xF0], 0x1FF);              // SVR: software enable
            a.mov(eax, (uint)IoApicBase);
            a.mov(__dword_ptr[rax], 0x15);                      // pin 2 high dword: destination 0
            a.mov(__dword_ptr[rax + 0x10], 0);
            a.mov(__dword_ptr[rax], 0x14);                      // pin 2 low dword: fixed, edge, unmasked
            a.mov(__dword_ptr[rax + 0x10], Vector);
            a.mov(eax, (uint)HpetBase);
            a.mov(__dword_ptr[rax + 0x100], 0x4);               // timer 0: interrupt enable, one-shot
            a.mov(ecx, ComparatorTicks);
            a.mov(__qword_ptr[rax + 0x108], rcx);               // comparator (a 64-bit write)
            a.mov(__dword_ptr[rax + 0x10], 0x3);                // ENABLE_CNF | LEG_RT_CNF
            a.Label(ref idle);
            a.sti();
            a.hlt();
            a.cmp(__dword_ptr[0x5000], 1);
            a.jb(idle);
            a.cli();
            a.hlt();
        });
        m.Cpu._idtr = new TableRegister { Base = Idt, Limit = 0xFFF };
        Assert.Equal(StopReason.Halted, m.Run(1_000_000));
        return (m.ReadU32(0x5000), m.ReadU32(0x5008), m.Cpu.IdleTicks, m.Cpu.InstructionCount);
    }

    [Fact]
    public void HpetComparatorInterruptReachesTheGuestThroughIoApicPin2()
    {
        var first = RunOnce();
        Assert.Equal(1u, first.Ticks);

        // The handler ran a few instructions after the deadline: the counter is at the comparator.
        Assert.Equal(ComparatorTicks, first.Counter);

        // The 10 µs to the deadline passed in HLT, skipped rather than executed.
        Assert.True(first.Idle > 9_950, $"idle {first.Idle}");
        Assert.True(first.Instructions < 60, $"instructions {first.Instructions}");
        Assert.Equal(first, RunOnce());
    }
}
