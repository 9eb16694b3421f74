using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>Hardware task switches as QEMU 7.2's switch_tss_ra: CALL/JMP to a TSS, IRET with NT, task gates in the IDT.</summary>
[Trait("Category", "Unit")]
public class TaskSwitchTests
{
    private const ulong Task = 0x200000;
    private const ushort OldTss = 0x30, NewTss = 0x38, TaskGateSel = 0x40;
    private const ulong OldTssBase = 0x4000, NewTssBase = 0x5000;

    /// <summary>The running task's TSS (busy) at 0x30, an available 32-bit TSS at 0x38 that starts at <see cref="Task"/>, a task gate to it at 0x40.</summary>
    private static void AddTasks(TestMachine m)
    {
        m.WriteU64(TestMachine.GdtBase + OldTss, 0x00008B0000000067UL | (OldTssBase << 16));
        m.WriteU64(TestMachine.GdtBase + NewTss, 0x0000890000000067UL | (NewTssBase << 16));
        m.WriteU64(TestMachine.GdtBase + TaskGateSel, 0x0000850000000000UL | ((ulong)NewTss << 16));
        m.Cpu._gdtr = new TableRegister { Base = TestMachine.GdtBase, Limit = 0x47 };
        m.Cpu._tr = new SegmentRegister { Selector = OldTss, Base = OldTssBase, Limit = 0x67, Attributes = 0x8B00 };
        m.Bus.Write(NewTssBase + 0x20, 4, Task);
        m.Bus.Write(NewTssBase + 0x24, 4, 0x2);
        m.Bus.Write(NewTssBase + 0x28, 4, 0x1234); // EAX
        m.Bus.Write(NewTssBase + 0x38, 4, 0x60000); // ESP
        m.Bus.Write(NewTssBase + 0x48, 2, TestMachine.Data32); // ES
        m.Bus.Write(NewTssBase + 0x4C, 2, TestMachine.Code32); // CS
        m.Bus.Write(NewTssBase + 0x50, 2, TestMachine.Data32); // SS
        m.Bus.Write(NewTssBase + 0x54, 2, TestMachine.Data32); // DS
        FlowTestSupport.Place(m, 32, Task, a =>
        {
            a.mov(ebx, __dword_ptr[NewTssBase]);
            a.mov(__dword_ptr[0x6000], ebx);
            a.pushfd();
            a.pop(ecx);
            a.mov(__dword_ptr[0x6004], ecx);
            a.mov(__dword_ptr[0x6008], eax);
            a.iretd();
        });
    }

    /// <summary>CALL to a TSS: back link and NT in the new task, busy bits, CR0.TS; IRET returns to the caller with its registers.</summary>
    [Fact]
    public void CallToTss_AndIretWithNt_ReturnsToCaller()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.mov(eax, 0x7777);
            a.call(NewTss, 0);
            a.hlt();
        });
        AddTasks(m);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((uint)OldTss, m.ReadU32(0x6000));
        Assert.Equal(0x4002u, m.ReadU32(0x6004));
        Assert.Equal(0x1234u, m.ReadU32(0x6008));
        Assert.Equal(0x7777UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(OldTss, m.Cpu._tr.Selector);
        Assert.NotEqual(0UL, m.Cpu._cr0 & CrBits.TS);
        Assert.Equal(0x89UL, (m.ReadU64(TestMachine.GdtBase + NewTss) >> 40) & 0xFF);
        Assert.Equal(0x8BUL, (m.ReadU64(TestMachine.GdtBase + OldTss) >> 40) & 0xFF);
        Assert.Equal(0UL, m.Cpu.RFlagsValue & RFlags.NT);
    }

    /// <summary>An interrupt through a task gate runs the task as a CALL would; its IRET comes back after the INT.</summary>
    [Fact]
    public void IntThroughTaskGate_RunsTaskAndReturns()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.mov(eax, 0x7777);
            a.@int(0x31);
            a.hlt();
        });
        AddTasks(m);
        m.WriteU64(FlowTestSupport.Idt + 0x31 * 8, 0x0000850000000000UL | ((ulong)NewTss << 16));
        m.Cpu._idtr = new TableRegister { Base = FlowTestSupport.Idt, Limit = 0x7FF };
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((uint)OldTss, m.ReadU32(0x6000));
        Assert.Equal(0x1234u, m.ReadU32(0x6008));
        Assert.Equal(0x7777UL, m.Cpu.GetGpr(Gpr.Rax));
    }

    /// <summary>JMP through a task gate leaves no back link, clears the old busy bit and sets the new one.</summary>
    [Fact]
    public void JmpThroughTaskGate_SwitchesWithoutBackLink()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a => a.jmp(TaskGateSel, 0));
        AddTasks(m);
        FlowTestSupport.Place(m, 32, Task, a => a.hlt());
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x1234UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(NewTss, m.Cpu._tr.Selector);
        Assert.Equal(0x89UL, (m.ReadU64(TestMachine.GdtBase + OldTss) >> 40) & 0xFF);
        Assert.Equal(0x8BUL, (m.ReadU64(TestMachine.GdtBase + NewTss) >> 40) & 0xFF);
        Assert.Equal(0UL, m.Cpu.RFlagsValue & RFlags.NT);
    }

    /// <summary>JMP to a busy TSS (the running task's) is #GP(selector).</summary>
    [Fact]
    public void JmpToBusyTss_RaisesGp()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a => a.jmp(OldTss, 0));
        AddTasks(m);
        FlowTestSupport.Gate32(m, Vector.GP, (uint)Task + 0x1000);
        FlowTestSupport.Place(m, 32, Task + 0x1000, a =>
        {
            a.pop(esi);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)OldTss, m.Cpu.GetGpr(Gpr.Rsi));
    }

    /// <summary>A null SS in the new TSS is #TS(0), raised in the new task (TR already switched), as QEMU's tss_load_seg.</summary>
    [Fact]
    public void NullStackInNewTss_RaisesTsInNewTask()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a => a.jmp(NewTss, 0));
        AddTasks(m);
        m.Bus.Write(NewTssBase + 0x50, 2, 0);
        FlowTestSupport.Gate32(m, Vector.TS, (uint)Task + 0x1000);
        FlowTestSupport.Place(m, 32, Task + 0x1000, a =>
        {
            a.mov(esi, 0x55);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x55UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(NewTss, m.Cpu._tr.Selector);
        Assert.Equal(Vector.TS, m.Cpu.LastGuestException?.Vector);
    }

    /// <summary>A 16-bit TSS (type 1): word registers replace the low halves, FS/GS become null.</summary>
    [Fact]
    public void JmpTo16BitTss_LoadsWordState()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.mov(eax, 0xAAAA0000);
            a.jmp(NewTss, 0);
        });
        AddTasks(m);
        m.WriteU64(TestMachine.GdtBase + NewTss, 0x000081000000002BUL | (NewTssBase << 16));
        m.Bus.Write(NewTssBase + 0x0E, 2, 0x2000);       // IP
        m.Bus.Write(NewTssBase + 0x10, 2, 0x2);          // FLAGS
        m.Bus.Write(NewTssBase + 0x12, 2, 0x4321);       // AX
        m.Bus.Write(NewTssBase + 0x22, 2, TestMachine.Data32); // ES
        m.Bus.Write(NewTssBase + 0x24, 2, TestMachine.Code32); // CS
        m.Bus.Write(NewTssBase + 0x26, 2, TestMachine.Data32); // SS
        m.Bus.Write(NewTssBase + 0x28, 2, TestMachine.Data32); // DS
        FlowTestSupport.Place(m, 32, 0x2000, a => a.hlt());
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0xAAAA4321UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0x2001UL, m.Cpu.Rip);
        Assert.Equal((ushort)0, m.Cpu._seg[Seg.Fs].Selector);
    }
}
