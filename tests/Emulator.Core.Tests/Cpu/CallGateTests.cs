using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// Far CALL/JMP through call gates and the RETF back, with QEMU 7.2's checks and error codes
/// (target/i386/tcg/seg_helper.c, helper_lcall_protected, helper_ljmp_protected,
/// helper_ret_protected); also INT n from ring 3 through a gate of DPL 0.
/// </summary>
[Trait("Category", "Unit")]
public class CallGateTests
{
    private const ulong Handler = 0x200000;
    private const ushort Code3 = 0x33, Data3 = 0x3B, Gate = 0x40, Gate286 = 0x48;

    /// <summary>A call gate descriptor: type 12 (386) or 4 (286), with its DPL, present bit and parameter count.</summary>
    private static ulong CallGate(ushort target, uint offset, int dpl, int paramCount = 0, bool present = true, int type = 12) =>
        (offset & 0xFFFFUL) | ((ulong)target << 16) | ((ulong)paramCount << 32)
        | ((ulong)(type | (dpl << 5) | (present ? 0x80 : 0)) << 40) | ((ulong)(offset >> 16) << 48);

    /// <summary>Ring-3 code and data at 0x30/0x38, the gates at 0x40/0x48, a TSS whose ring-0 stack is Data32:0x70000.</summary>
    private static void AddRing3AndGates(TestMachine m, ulong gate, ulong gate286 = 0)
    {
        m.WriteU64(TestMachine.GdtBase + 0x30, 0x00CFFB000000FFFFUL);
        m.WriteU64(TestMachine.GdtBase + 0x38, 0x00CFF3000000FFFFUL);
        m.WriteU64(TestMachine.GdtBase + Gate, gate);
        m.WriteU64(TestMachine.GdtBase + Gate286, gate286);
        m.Cpu._gdtr = new TableRegister { Base = TestMachine.GdtBase, Limit = 0x4F };
        m.Cpu._tr = new SegmentRegister { Selector = 0x28, Base = 0x4000, Limit = 0x67, Attributes = 0x8B00 };
        m.Bus.Write(0x4004, 4, 0x70000);
        m.Bus.Write(0x4008, 2, TestMachine.Data32);
    }

    /// <summary>Enters ring 3 at Handler + 0x1000 with SS:ESP = Data3:0x60000 (before <see cref="AddRing3AndGates"/>, which extends the GDT this resets).</summary>
    private static void LoadAndEnterRing3(TestMachine m) => m.LoadProtected32(a =>
    {
        a.push(Data3);
        a.push(0x60000);
        a.push(0x2);
        a.push(Code3);
        a.push((int)Handler + 0x1000);
        a.iretd();
    });

    /// <summary>A #GP/#NP/#TS handler at Handler + 0x3000 that keeps the error code in EAX and halts at ring 0.</summary>
    private static void AddFaultHandler(TestMachine m, int vector)
    {
        FlowTestSupport.Gate32(m, vector, (uint)Handler + 0x3000);
        FlowTestSupport.Place(m, 32, Handler + 0x3000, a =>
        {
            a.pop(eax);
            a.hlt();
        });
    }

    /// <summary>
    /// CALL from ring 3 through a 386 gate (DPL 3, 2 parameters) to ring 0: the TSS stack receives
    /// SS, ESP, the two parameters in their order and CS:EIP; RETF 8 returns to ring 3 releasing
    /// the parameters on both stacks and nulls DS (DPL 0).
    /// </summary>
    [Fact]
    public void CallGate386_FromRing3_SwitchesStackCopiesParametersAndRetfReturns()
    {
        using var m = new TestMachine();
        LoadAndEnterRing3(m);
        AddRing3AndGates(m, CallGate(TestMachine.Code32, (uint)Handler + 0x2000, dpl: 3, paramCount: 2));
        FlowTestSupport.Place(m, 32, Handler + 0x1000, a =>
        {
            a.push(0x1111);
            a.push(0x2222);
            a.call(Gate | 3, 0);
            a.mov(ebx, cs);
            a.mov(ecx, ss);
            a.mov(edx, esp);
            a.mov(eax, ds);
            a.hlt(); // #GP at CPL 3
        });
        FlowTestSupport.Place(m, 32, Handler + 0x2000, a =>
        {
            a.mov(esi, __dword_ptr[esp + 8]);
            a.mov(edi, __dword_ptr[esp + 12]);
            a.mov(ebp, __dword_ptr[esp + 16]);
            a.mov(eax, __dword_ptr[esp + 20]);
            a.mov(__dword_ptr[0x5000], esp);
            a.mov(__dword_ptr[0x5004], eax);
            a.mov(eax, __dword_ptr[esp + 4]);
            a.mov(__dword_ptr[0x5008], eax);
            a.retf(8);
        });
        FlowTestSupport.Gate32(m, Vector.GP, (uint)Handler + 0x3000);
        FlowTestSupport.Place(m, 32, Handler + 0x3000, a => a.hlt());
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x2222UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x1111UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(0x60000UL - 8, m.Cpu.GetGpr(Gpr.Rbp));
        Assert.Equal(0x70000UL - 24, m.ReadU32(0x5000));
        Assert.Equal((uint)Data3, m.ReadU32(0x5004));
        Assert.Equal((uint)Code3, m.ReadU32(0x5008));
        Assert.Equal((ulong)Code3, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal((ulong)Data3, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(0x60000UL, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rax));
    }

    /// <summary>
    /// A 286 gate copies words and pushes a 16-bit frame; QEMU takes the gate's offset bits 31:16
    /// too for a CALL (here 0), and JMP through a gate at the same level keeps CPL.
    /// </summary>
    [Fact]
    public void CallGate286_FromRing3_PushesWordFrame()
    {
        using var m = new TestMachine();
        LoadAndEnterRing3(m);
        AddRing3AndGates(m, 0, CallGate(TestMachine.Code32, (uint)Handler + 0x2000, dpl: 3, paramCount: 1, type: 4));
        FlowTestSupport.Place(m, 32, Handler + 0x1000, a =>
        {
            a.push(0x7777);
            a.call(Gate286 | 3, 0);
        });
        FlowTestSupport.Place(m, 32, Handler + 0x2000, a =>
        {
            a.movzx(esi, __word_ptr[esp + 2]);
            a.movzx(edi, __word_ptr[esp + 4]);
            a.movzx(ebp, __word_ptr[esp + 8]);
            a.mov(edx, esp);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)Code3, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x7777UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal((ulong)Data3, m.Cpu.GetGpr(Gpr.Rbp));
        Assert.Equal(0x70000UL - 10, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(0, m.Cpu.Cpl);
    }

    [Fact]
    public void JmpThroughGate_AtSameLevel_LandsOnTarget()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a => a.jmp(Gate, 0x1234));
        AddRing3AndGates(m, CallGate(TestMachine.Code32, (uint)Handler, dpl: 0));
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.mov(ebx, cs);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)TestMachine.Code32, m.Cpu.GetGpr(Gpr.Rbx));
    }

    /// <summary>The gate checks from ring 3 and ring 0 with QEMU's vectors and error codes.</summary>
    [Theory]
    [InlineData(0, true, (int)TestMachine.Code32, false, Vector.GP, Gate)] // gate DPL 0 < CPL 3
    [InlineData(3, false, (int)TestMachine.Code32, false, Vector.NP, Gate)] // gate not present
    [InlineData(3, true, (int)TestMachine.Data32, false, Vector.GP, TestMachine.Data32)] // target not code
    [InlineData(3, true, 0, false, Vector.GP, 0)] // null target
    [InlineData(3, true, (int)TestMachine.Code32, true, Vector.GP, TestMachine.Code32)] // JMP to a more privileged target
    public void GateFaults_FromRing3(int gateDpl, bool present, int target, bool jump, int vector, int error)
    {
        using var m = new TestMachine();
        LoadAndEnterRing3(m);
        AddRing3AndGates(m, CallGate((ushort)target, (uint)Handler + 0x2000, gateDpl, present: present));
        FlowTestSupport.Place(m, 32, Handler + 0x1000, a =>
        {
            if (jump)
            {
                a.jmp(Gate | 3, 0);
            }
            else
            {
                a.call(Gate | 3, 0);
            }
        });
        AddFaultHandler(m, vector);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)error, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(Handler + 0x3002, m.Cpu.Rip);
    }

    /// <summary>
    /// A ring-1 stack in the TSS whose SS has DPL 0 is #TS(SS) (QEMU's checks of what
    /// get_ss_esp_from_tss returns), delivered on the valid ring-0 stack.
    /// </summary>
    [Fact]
    public void CallGate_BadTssStack_RaisesTs()
    {
        using var m = new TestMachine();
        LoadAndEnterRing3(m);
        AddRing3AndGates(m, CallGate(Gate286, (uint)Handler + 0x2000, dpl: 3), 0x00CFBB000000FFFFUL);
        m.Bus.Write(0x4010, 2, TestMachine.Code32 | 1);
        FlowTestSupport.Place(m, 32, Handler + 0x1000, a => a.call(Gate | 3, 0));
        AddFaultHandler(m, Vector.TS);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)TestMachine.Code32, m.Cpu.GetGpr(Gpr.Rax));
    }

    /// <summary>INT n from ring 3 through an interrupt gate of DPL 0 is #GP(vector·8 + 2) (QEMU's is_int check).</summary>
    [Fact]
    public void IntN_FromRing3_ThroughDpl0Gate_RaisesGp()
    {
        using var m = new TestMachine();
        LoadAndEnterRing3(m);
        AddRing3AndGates(m, 0);
        FlowTestSupport.Gate32(m, 0x31, (uint)Handler + 0x2000);
        FlowTestSupport.Place(m, 32, Handler + 0x1000, a => a.@int(0x31));
        AddFaultHandler(m, Vector.GP);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x31UL * 8 + 2, m.Cpu.GetGpr(Gpr.Rax));
    }

    /// <summary>Long mode: a 16-byte gate (offset bits 63:32 in the second half, type 0) to 64-bit code pushes CS and RIP as 8-byte slots.</summary>
    [Fact]
    public void CallGate64_SameLevel_PushesQwordFrame()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(ebx, 0x6000);
            a.mov(rbp, rsp);
            a.call(__fword_ptr[rbx]);
        });
        m.WriteU64(TestMachine.GdtBase + Gate, CallGate(TestMachine.Code64, (uint)Handler, dpl: 0));
        m.WriteU64(TestMachine.GdtBase + Gate + 8, 0);
        m.Cpu._gdtr = new TableRegister { Base = TestMachine.GdtBase, Limit = 0x4F };
        m.Bus.Write(0x6000, 4, 0);
        m.Bus.Write(0x6004, 2, Gate);
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.mov(rsi, __qword_ptr[rsp]);
            a.mov(rdi, __qword_ptr[rsp + 8]);
            a.mov(rdx, rsp);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)TestMachine.Code64, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(m.Cpu.GetGpr(Gpr.Rbp) - 16, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(0x100000UL + 10, m.Cpu.GetGpr(Gpr.Rsi)); // after mov ebx, imm32; mov rbp, rsp; call far [rbx]
        Assert.Equal(64, m.Cpu.Bitness);
    }
}
