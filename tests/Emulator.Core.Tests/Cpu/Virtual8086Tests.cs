using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>Entering virtual-8086 mode with IRETD and leaving it through an interrupt, as QEMU 7.2 (return_to_vm86, do_interrupt_protected).</summary>
[Trait("Category", "Unit")]
public class Virtual8086Tests
{
    private const ulong Handler = 0x200000;

    /// <summary>Ring 0 IRETDs to V86 code at 2000:0010 with IOPL 3 and SS:SP 3000:0100; it reads DS and runs INT 0x31 (gate DPL 3) with IOPL <paramref name="iopl"/>.</summary>
    private static TestMachine EnterVm86(int iopl)
    {
        var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.push(0x4444); // GS
            a.push(0x3333); // FS
            a.push(0x2222); // DS
            a.push(0x1111); // ES
            a.push(0x3000); // SS
            a.push(0x100); // ESP
            a.push(0x20002 | (iopl << 12)); // EFLAGS: VM, IOPL
            a.push(0x2000); // CS
            a.push(0x10); // EIP
            a.iretd();
        });
        m.Cpu._tr = new SegmentRegister { Selector = 0x28, Base = 0x4000, Limit = 0x67, Attributes = 0x8B00 };
        m.Bus.Write(0x4004, 4, 0x70000);
        m.Bus.Write(0x4008, 2, TestMachine.Data32);
        FlowTestSupport.Place(m, 16, 0x20010, a =>
        {
            a.mov(bx, ds);
            a.@int(0x31);
        });
        return m;
    }

    /// <summary>INT from V86 to ring 0: the frame holds GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP and the data segments become null.</summary>
    [Fact]
    public void IntFromVm86_PushesDataSegmentsAndNullsThem()
    {
        using var m = EnterVm86(iopl: 3);
        FlowTestSupport.Gate32(m, 0x31, (uint)Handler, dpl: 3);
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.mov(esi, __dword_ptr[esp + 20]); // ES
            a.mov(edi, __dword_ptr[esp + 32]); // GS
            a.mov(ebp, __dword_ptr[esp + 8]); // EFLAGS
            a.mov(ecx, __dword_ptr[esp + 16]); // SS
            a.mov(edx, ds);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x2222UL, m.Cpu.GetGpr(Gpr.Rbx) & 0xFFFF);
        Assert.Equal(0x1111UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x4444UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(0x3000UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.NotEqual(0UL, m.Cpu.GetGpr(Gpr.Rbp) & RFlags.VM);
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(0x70000UL - 36, m.Cpu.GetGpr(Gpr.Rsp));
        Assert.Equal(0, m.Cpu.Cpl);
    }

    /// <summary>INT n in V86 with IOPL below 3 is #GP(0) (QEMU's check_vm86_iopl).</summary>
    [Fact]
    public void IntNInVm86WithIoplBelow3_RaisesGp()
    {
        using var m = EnterVm86(iopl: 0);
        FlowTestSupport.Gate32(m, Vector.GP, (uint)Handler);
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.pop(esi);
            a.mov(edi, __dword_ptr[esp]);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x12UL, m.Cpu.GetGpr(Gpr.Rdi)); // the INT's IP (after the 2-byte MOV)
    }

    /// <summary>
    /// Segment loads inside V86 set the selector and base only: the limit and attributes stay
    /// those of the V86 entry, 0xFFFF and 0xF300 for CS too (QEMU 7.2 gen_op_movl_seg_T0_vm,
    /// helper_lcall_real), read where the far JMP lands.
    /// </summary>
    [Fact]
    public void SegmentLoadsInVm86_KeepTheEntryLimitAndAttributes()
    {
        using var m = EnterVm86(iopl: 3);
        FlowTestSupport.Place(m, 16, 0x20010, a =>
        {
            a.mov(ax, 0x5000);
            a.mov(ds, ax);
            a.push(0x6000);
            a.pop(es);
            a.jmp(0x2100, 0x0);
        });
        m.Cpu.AddBreakpoint(0x21000);
        m.Cpu.BreakpointHit = (_, _) => true;
        Assert.Equal(StopReason.Breakpoint, m.Run());
        foreach (var (seg, selector) in new[] { (Seg.Cs, 0x2100), (Seg.Ds, 0x5000), (Seg.Es, 0x6000), (Seg.Ss, 0x3000) })
        {
            var register = m.Cpu.GetSegment(seg);
            Assert.Equal(selector, register.Selector);
            Assert.Equal((ulong)selector << 4, register.Base);
            Assert.Equal(0xFFFFu, register.Limit);
            Assert.Equal(0xF300u, register.Attributes);
        }
    }
}
