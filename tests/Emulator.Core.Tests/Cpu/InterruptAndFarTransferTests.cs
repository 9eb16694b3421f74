using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// Far JMP/CALL/RETF, IRET and software interrupts through the IVT and IDT (Intel SDM Vol. 2 and
/// Vol. 3, chapter 6), including the entries to 64-bit code OVMF depends on.
/// </summary>
public class InterruptAndFarTransferTests
{
    private const ulong Handler = 0x200000;

    [Fact]
    public void Long64_Int30_LandsInHandlerAndIretqReturns()
    {
        using var m = new TestMachine();
        FlowTestSupport.Gate64(m, 0x30, Handler);
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.mov(rbx, __qword_ptr[rsp]);
            a.mov(rcx, __qword_ptr[rsp + 8]);
            a.mov(rsi, __qword_ptr[rsp + 24]);
            a.pushfq();
            a.pop(rax);
            a.iretq();
        });
        m.LoadLong64(a =>
        {
            a.sti();
            a.@int(0x30);
            a.pushfq();
            a.pop(rdx);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x100003UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal((ulong)TestMachine.Code64, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rax) & RFlags.IF);
        Assert.NotEqual(0UL, m.Cpu.GetGpr(Gpr.Rdx) & RFlags.IF);
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
        Assert.Equal(64, m.Cpu.Bitness);
    }

    [Fact]
    public void Long64_Ud2_RaisesUdAtTheFaultingInstruction()
    {
        using var m = new TestMachine();
        FlowTestSupport.Gate64(m, Vector.UD, Handler);
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.mov(rbx, __qword_ptr[rsp]);
            a.add(__qword_ptr[rsp], 2);
            a.iretq();
        });
        m.LoadLong64(a =>
        {
            a.ud2();
            a.mov(ecx, 5);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x100000UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(5UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(Vector.UD, m.Cpu.LastException);
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
    }

    [Fact]
    public void Real_IntThroughIvt_IretRestoresCsIpAndFlags()
    {
        using var m = new TestMachine();
        FlowTestSupport.Ivt(m, 0x21, 0x0900, 0x0010);
        FlowTestSupport.Place(m, 16, 0x9010, a =>
        {
            a.mov(ax, 0x55);
            a.mov(si, __word_ptr[0x6FFA]);
            a.mov(di, __word_ptr[0x6FFC]);
            a.pushf();
            a.pop(cx);
            a.iret();
        });
        m.LoadReal(a =>
        {
            a.sti();
            a.@int(0x21);
            a.pushf();
            a.pop(dx);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x55UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0x8003UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rcx) & RFlags.IF);
        Assert.NotEqual(0UL, m.Cpu.GetGpr(Gpr.Rdx) & RFlags.IF);
        Assert.Equal(0, m.Cpu.GetSegment(Seg.Cs).Selector);
        Assert.Equal(0x7000UL, m.Cpu.GetGpr(Gpr.Rsp));
    }

    [Fact]
    public void Protected32_Int3IntoAndUd2_ThroughIdtWithIretd()
    {
        using var m = new TestMachine();
        FlowTestSupport.Gate32(m, Vector.BP, (uint)Handler);
        FlowTestSupport.Gate32(m, Vector.OF, (uint)Handler + 0x100);
        FlowTestSupport.Gate32(m, Vector.UD, (uint)Handler + 0x200);
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.add(ebx, 1);
            a.mov(esi, __dword_ptr[esp]);
            a.iretd();
        });
        FlowTestSupport.Place(m, 32, Handler + 0x100, a =>
        {
            a.add(ebx, 0x10);
            a.iretd();
        });
        FlowTestSupport.Place(m, 32, Handler + 0x200, a =>
        {
            a.add(ebx, 0x100);
            a.mov(edi, __dword_ptr[esp]);
            a.add(__dword_ptr[esp], 2);
            a.iretd();
        });
        m.LoadProtected32(a =>
        {
            a.mov(ebx, 0);
            a.int3();
            a.mov(eax, 0);
            a.add(eax, 0);
            a.into();
            a.mov(eax, 0x7FFFFFFF);
            a.add(eax, 1);
            a.into();
            a.jmp(0x100800UL);
        });
        FlowTestSupport.Place(m, 32, 0x100800, a =>
        {
            a.ud2();
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x111UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0x100006UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x100800UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>Far JMP ptr16:32 from 32-bit code (IA-32e already active) to a 64-bit code segment.</summary>
    [Fact]
    public void FarJmp_FromCompatibilityModeInto64BitCode()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.mov(rax, 0x1122_3344_5566_7788UL);
            a.push(rax);
            a.pop(rbx);
            a.hlt();
        });
        m.LoadProtected32(a => a.jmp(TestMachine.Code64, (uint)Handler));
        FlowTestSupport.EnableLongModePaging(m);
        Assert.Equal(32, m.Cpu.Bitness);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(64, m.Cpu.Bitness);
        Assert.Equal(0x1122_3344_5566_7788UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>OVMF's DxeIpl: PUSH selector, PUSH offset, 32-bit RETF into a 64-bit code segment.</summary>
    [Fact]
    public void Retf_ThirtyTwoBitIntoLongMode_LikeOvmf()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.mov(rax, 0xFEDC_BA98_7654_3210UL);
            a.push(rax);
            a.pop(rcx);
            a.mov(rdx, rsp);
            a.hlt();
        });
        m.LoadProtected32(a =>
        {
            a.push(TestMachine.Code64);
            a.push((int)Handler);
            a.retf();
        });
        FlowTestSupport.EnableLongModePaging(m);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(64, m.Cpu.Bitness);
        Assert.Equal(0xFEDC_BA98_7654_3210UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(TestMachine.Code64, m.Cpu.GetSegment(Seg.Cs).Selector);
    }

    /// <summary>RETFQ from 64-bit code to a 32-bit segment (compatibility mode), then a far JMP back to 64-bit.</summary>
    [Fact]
    public void Retfq_ToCompatibilityModeAndFarJmpBack()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.mov(esi, esp);
            a.jmp(TestMachine.Code64, (uint)Handler + 0x100);
        });
        FlowTestSupport.Place(m, 64, Handler + 0x100, a =>
        {
            a.mov(rax, 0x8000_0000_0000_0001UL);
            a.hlt();
        });
        m.LoadLong64(a =>
        {
            a.push(TestMachine.Code32);
            a.push((int)Handler);
            a.retf();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(64, m.Cpu.Bitness);
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x8000_0000_0000_0001UL, m.Cpu.GetGpr(Gpr.Rax));
    }

    /// <summary>JMP m16:64 and CALL m16:64 / RETFQ; JMP m16:32 into compatibility mode.</summary>
    [Fact]
    public void FarMemoryForms_Long64()
    {
        using var m = new TestMachine();
        m.WriteU64(0x300000, Handler);
        m.Bus.Write(0x300008, 2, TestMachine.Code64);
        m.Bus.Write(0x300010, 4, Handler + 0x200);
        m.Bus.Write(0x300014, 2, TestMachine.Code32);
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.add(ebx, 1);
            a.mov(rdi, __qword_ptr[rsp + 8]);
            a.retf();
        });
        FlowTestSupport.Place(m, 32, Handler + 0x200, a =>
        {
            a.add(ebx, 0x10);
            a.hlt();
        });
        m.LoadLong64(a =>
        {
            a.mov(ebx, 0);
            a.mov(rax, 0x300000);
            a.AddInstruction(Instruction.Create(Code.Call_m1664, new MemoryOperand(Register.RAX)));
            a.AddInstruction(Instruction.Create(Code.Jmp_m1632, new MemoryOperand(Register.RAX, 0x10)));
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x11UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal((ulong)TestMachine.Code64, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(32, m.Cpu.Bitness);
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>Real mode: far CALL ptr16:16 with RETF imm16, far JMP m16:16, far JMP ptr16:16.</summary>
    [Fact]
    public void FarTransfers_RealMode()
    {
        using var m = new TestMachine();
        m.Bus.Write(0x2000, 4, (0x0A00UL << 16) | 0x0020);
        FlowTestSupport.Place(m, 16, 0x9010, a =>
        {
            a.add(bx, 1);
            a.mov(si, __word_ptr[0x6FFC]);
            a.retf(2);
        });
        FlowTestSupport.Place(m, 16, 0xA020, a =>
        {
            a.add(bx, 0x10);
            a.jmp(0x0000, 0x9100);
        });
        FlowTestSupport.Place(m, 16, 0x9100, a =>
        {
            a.add(bx, 0x100);
            a.hlt();
        });
        m.LoadReal(a =>
        {
            a.mov(bx, 0);
            a.push(0x1234);
            a.call(0x0900, 0x0010);
            a.AddInstruction(Instruction.Create(Code.Jmp_m1616, new MemoryOperand(Register.None, 0x2000, 2)));
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x111UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x7000UL, m.Cpu.GetGpr(Gpr.Rsp));
        Assert.Equal(0, m.Cpu.GetSegment(Seg.Cs).Selector);
    }

    /// <summary>Protected mode: far CALL ptr16:32 and RETF to the same privilege; a far JMP to a 16-bit code segment changes the operand size.</summary>
    [Fact]
    public void FarCallRetfAndJmpTo16BitSegment_Protected32()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.mov(esi, __dword_ptr[esp + 4]);
            a.retf();
        });
        FlowTestSupport.Place(m, 16, 0x9000, a =>
        {
            a.mov(eax, 0xFFFFFFFF);
            a.mov(ax, 0x1234);
            a.hlt();
        });
        m.LoadProtected32(a =>
        {
            a.call(TestMachine.Code32, (uint)Handler);
            a.jmp(TestMachine.Code16, 0x9000);
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)TestMachine.Code32, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(16, m.Cpu.Bitness);
        Assert.Equal(0xFFFF1234UL, m.Cpu.GetGpr(Gpr.Rax));
    }

    /// <summary>A far JMP to a data segment raises #GP with the selector as error code.</summary>
    [Fact]
    public void FarJmp_ToDataSegmentRaisesGp()
    {
        using var m = new TestMachine();
        FlowTestSupport.Gate32(m, Vector.GP, (uint)Handler);
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.mov(esi, __dword_ptr[esp]);
            a.mov(edi, __dword_ptr[esp + 4]);
            a.hlt();
        });
        m.LoadProtected32(a => a.jmp(TestMachine.Data32, 0x1234));
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)TestMachine.Data32, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x100000UL, m.Cpu.GetGpr(Gpr.Rdi));
    }
}
