using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>CLC, STC, CMC, CLD, STD, CLI, STI (Intel SDM Vol. 2), plus a registration check for the families in this branch.</summary>
[Trait("Category", "Unit")]
public class FlagOpsTests
{
    /// <summary>The carry instructions act on lazily computed flags and leave the other status flags as the last ALU result left them.</summary>
    [Theory]
    [InlineData(0xFFFFFFFFu, 1u)]
    [InlineData(0x7FFFFFFFu, 1u)]
    [InlineData(0u, 0u)]
    [InlineData(5u, 3u)]
    public void CarryInstructions_PreserveOtherStatusFlags(uint x, uint y)
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.mov(eax, x);
            a.add(eax, y);
            a.pushfd();
            a.pop(esi);
            a.clc();
            a.pushfd();
            a.pop(ebx);
            a.stc();
            a.pushfd();
            a.pop(ecx);
            a.cmc();
            a.pushfd();
            a.pop(edx);
            a.cmc();
            a.pushfd();
            a.pop(edi);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        ulong baseFlags = m.Cpu.GetGpr(Gpr.Rsi) & ~RFlags.CF;
        Assert.Equal(baseFlags, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(baseFlags | RFlags.CF, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(baseFlags, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(baseFlags | RFlags.CF, m.Cpu.GetGpr(Gpr.Rdi));
        bool carry = (ulong)x + y > uint.MaxValue;
        Assert.Equal(carry, (m.Cpu.GetGpr(Gpr.Rsi) & RFlags.CF) != 0);
    }

    [Fact]
    public void DirectionAndInterruptFlags()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.std();
            a.pushfq();
            a.pop(rbx);
            a.cld();
            a.pushfq();
            a.pop(rcx);
            a.sti();
            a.pushfq();
            a.pop(rdx);
            a.cli();
            a.pushfq();
            a.pop(rsi);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.NotEqual(0UL, m.Cpu.GetGpr(Gpr.Rbx) & RFlags.DF);
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rcx) & RFlags.DF);
        Assert.NotEqual(0UL, m.Cpu.GetGpr(Gpr.Rdx) & RFlags.IF);
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rsi) & RFlags.IF);
    }

    /// <summary>STI ends the block and blocks interrupts for one instruction; CLI does not.</summary>
    [Fact]
    public void Sti_SetsInterruptShadowAndEndsBlock()
    {
        using var m = new TestMachine();
        m.LoadReal(a =>
        {
            a.sti();
            a.nop();
            a.hlt();
        });
        Assert.Equal(StopReason.InstructionLimit, m.Run(1));
        Assert.True(m.Cpu._interruptShadow);
        Assert.NotEqual(0UL, m.Cpu.RFlagsValue & RFlags.IF);
        Assert.Equal(0x8001UL, m.Cpu.Rip);
    }

    /// <summary>At CPL 3 with IOPL 0, CLI raises #GP(0).</summary>
    [Fact]
    public void Cli_AboveIoplRaisesGp()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.cli();
            a.hlt();
        });
        m.Cpu._cpl = 3;

        // The #GP handler runs at CPL 0 on the TSS's ring-0 stack (ESP0 at +4, SS0 at +8).
        m.Cpu._tr = new SegmentRegister { Base = 0x4000, Limit = 0x67, Attributes = 0x8B00 };
        m.Bus.Write(0x4004, 4, 0x70000);
        m.Bus.Write(0x4008, 2, TestMachine.Data32);
        FlowTestSupport.Gate32(m, Vector.GP, 0x200000);
        FlowTestSupport.Place(m, 32, 0x200000, a =>
        {
            a.mov(esi, __dword_ptr[esp + 4]);
            a.mov(edi, __dword_ptr[esp]);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run(10));
        Assert.Equal(Vector.GP, m.Cpu.LastException);
        Assert.Equal(0x100000UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rdi));
    }

    public static TheoryData<Mnemonic> Mnemonics => new()
    {
        Mnemonic.Mov, Mnemonic.Movzx, Mnemonic.Movsx, Mnemonic.Movsxd, Mnemonic.Lea, Mnemonic.Xchg, Mnemonic.Xlatb,
        Mnemonic.Lahf, Mnemonic.Sahf, Mnemonic.Nop, Mnemonic.Pause, Mnemonic.Push, Mnemonic.Pop, Mnemonic.Pusha,
        Mnemonic.Pushad, Mnemonic.Popa, Mnemonic.Popad, Mnemonic.Pushf, Mnemonic.Pushfd, Mnemonic.Pushfq, Mnemonic.Popf,
        Mnemonic.Popfd, Mnemonic.Popfq, Mnemonic.Enter, Mnemonic.Leave, Mnemonic.Jmp, Mnemonic.Jo, Mnemonic.Jno,
        Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne, Mnemonic.Jbe, Mnemonic.Ja, Mnemonic.Js, Mnemonic.Jns,
        Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl, Mnemonic.Jge, Mnemonic.Jle, Mnemonic.Jg, Mnemonic.Jcxz, Mnemonic.Jecxz,
        Mnemonic.Jrcxz, Mnemonic.Loop, Mnemonic.Loope, Mnemonic.Loopne, Mnemonic.Call, Mnemonic.Ret, Mnemonic.Retf,
        Mnemonic.Iret, Mnemonic.Iretd, Mnemonic.Iretq, Mnemonic.Int, Mnemonic.Int3, Mnemonic.Int1, Mnemonic.Into,
        Mnemonic.Ud0, Mnemonic.Ud1, Mnemonic.Ud2, Mnemonic.Clc, Mnemonic.Stc, Mnemonic.Cmc, Mnemonic.Cld, Mnemonic.Std,
        Mnemonic.Cli, Mnemonic.Sti,
    };

    /// <summary>Every encoding of these mnemonics has a handler (nothing falls to the unimplemented report).</summary>
    [Theory]
    [MemberData(nameof(Mnemonics))]
    public void EveryEncodingIsRegistered(Mnemonic mnemonic)
    {
        int count = 0;
        foreach (Code code in Enum.GetValues<Code>())
        {
            if (code.Mnemonic() == mnemonic)
            {
                count++;
                Assert.True(HandlerTable.IsImplemented(code), code.ToString());
            }
        }

        Assert.True(count > 0);
    }
}
