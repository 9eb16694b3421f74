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
[Trait("Category", "Unit")]
public class IoApicInterruptTests
{
    private const ulong Idt = 0x3000;
    private const ulong HandlerAt = 0x120000;
    private const ulong Lapic = Xapic.DefaultBase;
    private const ulong IoApicBase = IoApic.DefaultBase;
    private const ulong HpetBase = Hpet.DefaultBase;
    private const byte Vector = 0x30;
    private const uint ComparatorTicks = 1_000;

    /// <summary>Local APIC, 8259 pair, I/O APIC, GSI lines and HPET wired as PcMachine wires them.</summary>
    private static Xapic Wire(TestMachine m)
    {
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
        apic.NmiRaised = m.Cpu.RaiseNmi;
        var gsi = new GsiLines(pic, ioApic);
        var hpet = new Hpet(scheduler, now, (a, v) => m.Bus.Write(a, 4, v));
        for (int route = 0; route < GsiLines.Count; route++)
        {
            int line = route;
            hpet.Irqs[route].Connect($"gsi {line}", level => gsi.Set(line, level));
        }

        m.Bus.MapMmio("lapic", Lapic, Xapic.Size, new InterruptControllerWindow(apic, m.Cpu));
        m.Bus.MapMmio("ioapic", IoApicBase, IoApic.Size, new InterruptControllerWindow(ioApic, m.Cpu));
        m.Bus.MapMmio("hpet", HpetBase, Hpet.Size, hpet);
        m.Cpu.Scheduler = scheduler;
        m.Cpu.InterruptController = apic;
        return apic;
    }

    private static void WriteGate(TestMachine m, int vector, ulong handler)
    {
        ulong gate = (handler & 0xFFFF) | ((ulong)TestMachine.Code64 << 16) | (0x8EUL << 40) | ((handler >> 16) & 0xFFFF) << 48;
        m.WriteU64(Idt + ((ulong)vector * 16), gate);
        m.WriteU64(Idt + ((ulong)vector * 16) + 8, 0);
        m.Cpu._idtr = new TableRegister { Base = Idt, Limit = 0xFFF };
    }

    private static (uint Ticks, uint Counter, long Idle, long Instructions) RunOnce()
    {
        using var m = new TestMachine();
        Wire(m);

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
        WriteGate(m, Vector, HandlerAt);

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

    /// <summary>
    /// NMI messages from an I/O APIC entry (delivery mode NMI) driven by a periodic HPET timer
    /// (1 µs): taken with IF clear, through vector 2, and not nested — the NMIs that arrive while
    /// the 6 µs handler runs merge into one, taken right after its IRET. The third handler stops
    /// the HPET before any further tick.
    /// </summary>
    private static (uint Nmis, uint MaxDepth, long Instructions) RunNmis()
    {
        using var m = new TestMachine();
        Wire(m);
        m.Load(HandlerAt, TestMachine.Assemble(64, HandlerAt, a =>
        {
            var spin = a.CreateLabel();
            var keep = a.CreateLabel();
            var running = a.CreateLabel();
            a.push(rax);
            a.push(rcx);
            a.inc(__dword_ptr[0x5000]);
            a.cmp(__dword_ptr[0x5000], 3);
            a.jb(running);
            a.mov(eax, (uint)HpetBase);
            a.mov(__dword_ptr[rax + 0x10], 0);                  // the third NMI stops the HPET
            a.Label(ref running);
            a.inc(__dword_ptr[0x5010]);                         // depth
            a.mov(eax, __dword_ptr[0x5010]);
            a.cmp(eax, __dword_ptr[0x5014]);
            a.jbe(keep);
            a.mov(__dword_ptr[0x5014], eax);                    // deepest nesting seen
            a.Label(ref keep);
            a.mov(ecx, 3_000);                                  // ~6 µs: several HPET periods
            a.Label(ref spin);
            a.dec(ecx);
            a.jnz(spin);
            a.dec(__dword_ptr[0x5010]);
            a.pop(rcx);
            a.pop(rax);
            a.iretq();
        }));
        WriteGate(m, 2, HandlerAt);

        m.LoadLong64(a =>
        {
            var wait = a.CreateLabel();
            a.cli();
            a.mov(eax, (uint)IoApicBase);
            a.mov(__dword_ptr[rax], 0x10 + (2 * 9));            // pin 9: NMI, edge, unmasked
            a.mov(__dword_ptr[rax + 0x10], 0x400);
            a.mov(eax, (uint)HpetBase);
            a.mov(ecx, 100);
            a.mov(__qword_ptr[rax + 0x148], rcx);               // timer 2 comparator: tick 100
            a.mov(__dword_ptr[rax + 0x140], (9 << 9) | 0x8 | 0x4);  // GSI 9, periodic, enabled
            a.mov(__dword_ptr[rax + 0x148], 100);               // period: 100 ticks (1 µs)
            a.mov(__dword_ptr[rax + 0x10], 0x1);                // ENABLE_CNF
            a.Label(ref wait);
            a.cmp(__dword_ptr[0x5000], 3);
            a.jb(wait);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run(1_000_000));
        return (m.ReadU32(0x5000), m.ReadU32(0x5014), m.Cpu.InstructionCount);
    }

    [Fact]
    public void NmiMessagesInterruptWithInterruptsOffAndDoNotNest()
    {
        var first = RunNmis();
        Assert.Equal(3u, first.Nmis);
        Assert.Equal(1u, first.MaxDepth);

        // Three handlers of ~6,000 instructions each, back to back after the first tick at 1 µs:
        // the main loop never ran between them.
        Assert.InRange(first.Instructions, 19_000, 19_300);
        Assert.Equal(first, RunNmis());
    }
}
