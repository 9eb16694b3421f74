using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu.Alu;

/// <summary>ADD … NEG, XADD, CMPXCHG*, sign extensions: the rules the random QEMU vectors may miss.</summary>
[Trait("Category", "Unit")]
public sealed class ArithmeticTests : IDisposable
{
    private const ulong Base = AluSandbox.DataAt;
    private readonly AluSandbox _box = new(64);

    public void Dispose() => _box.Dispose();

    [Theory]
    [InlineData(0x7FUL, 1UL, 0x80UL, RFlags.OF | RFlags.SF | RFlags.AF)]
    [InlineData(0xFFUL, 1UL, 0x00UL, RFlags.CF | RFlags.ZF | RFlags.AF | RFlags.PF)]
    [InlineData(0x80UL, 0x80UL, 0x00UL, RFlags.CF | RFlags.OF | RFlags.ZF | RFlags.PF)]
    public void Add8_Flags(ulong a, ulong b, ulong sum, ulong flags)
    {
        Assert.True(_box.Run(x => x.add(al, bl), cpu => { cpu._gpr[Gpr.Rax] = 0x1100 | a; cpu._gpr[Gpr.Rbx] = b; }));
        Assert.Equal(0x1100 | sum, _box.Reg(Gpr.Rax));
        Assert.Equal(flags, _box.Flags & RFlags.Arith);
    }

    [Fact]
    public void AdcSbb_UseCarryIn()
    {
        Assert.True(_box.Run(x => x.adc(eax, 0), cpu => cpu._gpr[Gpr.Rax] = 0xFFFF_FFFF, RFlags.Reserved1 | RFlags.CF));
        Assert.Equal(0UL, _box.Reg(Gpr.Rax));
        Assert.Equal(RFlags.CF | RFlags.ZF | RFlags.AF | RFlags.PF, _box.Flags & RFlags.Arith);

        Assert.True(_box.Run(x => x.sbb(rax, rbx), cpu => cpu._gpr[Gpr.Rbx] = ulong.MaxValue, RFlags.Reserved1 | RFlags.CF));
        Assert.Equal(0UL, _box.Reg(Gpr.Rax));
        Assert.Equal(RFlags.CF, _box.Flags & RFlags.CF);
    }

    [Fact]
    public void IncDec_KeepCarry()
    {
        Assert.True(_box.Run(x => x.inc(ecx), cpu => cpu._gpr[Gpr.Rcx] = 0xFFFF_FFFF, RFlags.Reserved1 | RFlags.CF));
        Assert.Equal(RFlags.CF | RFlags.ZF | RFlags.AF | RFlags.PF, _box.Flags & RFlags.Arith);

        Assert.True(_box.Run(x => x.dec(cx), cpu => cpu._gpr[Gpr.Rcx] = 0x1_8000));
        Assert.Equal(0x1_7FFFUL, _box.Reg(Gpr.Rcx));
        Assert.Equal(RFlags.OF | RFlags.AF | RFlags.PF, _box.Flags & RFlags.Arith);
    }

    [Fact]
    public void Neg_CarryUnlessZero_OverflowOnMinimum()
    {
        Assert.True(_box.Run(x => x.neg(eax)));
        Assert.Equal(RFlags.ZF | RFlags.PF, _box.Flags & RFlags.Arith);
        Assert.True(_box.Run(x => x.neg(al), cpu => cpu._gpr[Gpr.Rax] = 0x80));
        Assert.Equal(0x80UL, _box.Reg(Gpr.Rax));
        Assert.Equal(RFlags.CF | RFlags.OF | RFlags.SF, _box.Flags & RFlags.Arith);
    }

    [Fact]
    public void HighByteRegisters_AndMemoryDestinations()
    {
        Assert.True(_box.Run(x => x.sub(ah, bh), cpu => { cpu._gpr[Gpr.Rax] = 0x0512; cpu._gpr[Gpr.Rbx] = 0x0700; }));
        Assert.Equal(0xFE12UL, _box.Reg(Gpr.Rax));

        _box.WriteData(0, [0xFF, 0xFF, 0, 0]);
        Assert.True(_box.Run(x => x.add(__word_ptr[rbx], 1), cpu => cpu._gpr[Gpr.Rbx] = Base));
        Assert.Equal(0UL, _box.ReadData(0, 4));
        Assert.Equal(RFlags.CF, _box.Flags & RFlags.CF);
    }

    [Fact]
    public void LockPrefix_IsAnOrdinaryReadModifyWrite()
    {
        _box.WriteData(0, BitConverter.GetBytes(41UL));
        Assert.True(_box.Run(x => x.@lock.inc(__qword_ptr[rbx]), cpu => cpu._gpr[Gpr.Rbx] = Base));
        Assert.Equal(42UL, _box.ReadData(0, 8));
    }

    [Fact]
    public void RealMode_32BitOperandsWithPrefix()
    {
        using var box = new AluSandbox(16);
        Assert.True(box.Run(x => { x.add(eax, ebx); x.sub(cx, 1); }, cpu => { cpu._gpr[Gpr.Rax] = 0xFFFF_FFFF; cpu._gpr[Gpr.Rbx] = 2; }));
        Assert.Equal(1UL, box.Reg(Gpr.Rax));
        Assert.Equal(0xFFFFUL, box.Reg(Gpr.Rcx));
    }

    [Fact]
    public void Xadd_SameRegisterKeepsSum_MemoryExchanges()
    {
        Assert.True(_box.Run(x => x.xadd(eax, eax), cpu => cpu._gpr[Gpr.Rax] = 0xFFFF_FFFF_0000_0003));
        Assert.Equal(6UL, _box.Reg(Gpr.Rax));

        _box.WriteData(0, BitConverter.GetBytes(10UL));
        Assert.True(_box.Run(x => x.@lock.xadd(__dword_ptr[rbx], ecx), cpu => { cpu._gpr[Gpr.Rbx] = Base; cpu._gpr[Gpr.Rcx] = 0xFFFF_FFF6; }));
        Assert.Equal(0UL, _box.ReadData(0, 8));
        Assert.Equal(10UL, _box.Reg(Gpr.Rcx));
        Assert.Equal(RFlags.CF | RFlags.ZF, _box.Flags & (RFlags.CF | RFlags.ZF));
    }

    [Fact]
    public void Cmpxchg32_Register_WritesOnlyTheReceivingRegister()
    {
        // Success: the destination takes the source (zero-extended); RAX keeps its upper half.
        Assert.True(_box.Run(x => x.cmpxchg(ecx, edx), cpu =>
        {
            cpu._gpr[Gpr.Rax] = 0xAAAA_AAAA_0000_0005;
            cpu._gpr[Gpr.Rcx] = 0xBBBB_BBBB_0000_0005;
            cpu._gpr[Gpr.Rdx] = 0xCCCC_CCCC_0000_0009;
        }));
        Assert.Equal(0xAAAA_AAAA_0000_0005UL, _box.Reg(Gpr.Rax));
        Assert.Equal(9UL, _box.Reg(Gpr.Rcx));
        Assert.Equal(RFlags.ZF, _box.Flags & RFlags.ZF);

        // Failure: RAX takes the destination (zero-extended); the destination is untouched.
        Assert.True(_box.Run(x => x.cmpxchg(ecx, edx), cpu =>
        {
            cpu._gpr[Gpr.Rax] = 0xAAAA_AAAA_0000_0004;
            cpu._gpr[Gpr.Rcx] = 0xBBBB_BBBB_0000_0005;
        }));
        Assert.Equal(5UL, _box.Reg(Gpr.Rax));
        Assert.Equal(0xBBBB_BBBB_0000_0005UL, _box.Reg(Gpr.Rcx));
        Assert.Equal(0UL, _box.Flags & RFlags.ZF);
    }

    [Fact]
    public void Cmpxchg8b_SuccessAndFailure()
    {
        _box.WriteData(0, BitConverter.GetBytes(0x1111_1111_2222_2222UL));
        Assert.True(_box.Run(x => x.cmpxchg8b(__qword_ptr[rsi]), cpu =>
        {
            cpu._gpr[Gpr.Rsi] = Base;
            cpu._gpr[Gpr.Rdx] = 0x1111_1111;
            cpu._gpr[Gpr.Rax] = 0xFFFF_FFFF_2222_2222;
            cpu._gpr[Gpr.Rcx] = 0x3333_3333;
            cpu._gpr[Gpr.Rbx] = 0x4444_4444;
        }));
        Assert.Equal(0x3333_3333_4444_4444UL, _box.ReadData(0, 8));
        Assert.Equal(0xFFFF_FFFF_2222_2222UL, _box.Reg(Gpr.Rax));
        Assert.Equal(RFlags.ZF, _box.Flags & RFlags.ZF);

        Assert.True(_box.Run(x => x.cmpxchg8b(__qword_ptr[rsi]), cpu => cpu._gpr[Gpr.Rsi] = Base, RFlags.Reserved1 | RFlags.ZF | RFlags.CF));
        Assert.Equal(0x4444_4444UL, _box.Reg(Gpr.Rax));
        Assert.Equal(0x3333_3333UL, _box.Reg(Gpr.Rdx));
        Assert.Equal(RFlags.CF, _box.Flags & RFlags.Arith);
    }

    [Fact]
    public void Cmpxchg16b_NeedsAlignment()
    {
        _box.WriteData(0x10, new byte[16]);
        Assert.True(_box.Run(x => x.cmpxchg16b(__xmmword_ptr[rsi]), cpu => { cpu._gpr[Gpr.Rsi] = Base + 0x10; cpu._gpr[Gpr.Rbx] = 7; cpu._gpr[Gpr.Rcx] = 8; }));
        Assert.Equal(7UL, _box.ReadData(0x10, 8));
        Assert.Equal(8UL, _box.ReadData(0x18, 8));
        Assert.Equal(RFlags.ZF, _box.Flags & RFlags.ZF);

        Assert.False(_box.Run(x => x.cmpxchg16b(__xmmword_ptr[rsi]), cpu => cpu._gpr[Gpr.Rsi] = Base + 8));
        Assert.Equal(Vector.GP, _box.Fault);
    }

    [Fact]
    public void SignExtensions()
    {
        Assert.True(_box.Run(
            x => { x.cbw(); x.mov(ebx, eax); x.cwde(); x.mov(ecx, eax); x.cdqe(); x.cqo(); },
            cpu => cpu._gpr[Gpr.Rax] = 0x1234_5680));
        Assert.Equal(0x1234_FF80UL, _box.Reg(Gpr.Rbx));
        Assert.Equal(0xFFFF_FF80UL, _box.Reg(Gpr.Rcx));
        Assert.Equal(0xFFFF_FFFF_FFFF_FF80UL, _box.Reg(Gpr.Rax));
        Assert.Equal(ulong.MaxValue, _box.Reg(Gpr.Rdx));

        Assert.True(_box.Run(x => { x.cwd(); x.mov(ebx, edx); x.cdq(); }, cpu => { cpu._gpr[Gpr.Rax] = 0x8000_7FFF; cpu._gpr[Gpr.Rdx] = 0xAAAA_AAAA_AAAA_AAAA; }));
        Assert.Equal(0xAAAA_0000UL, _box.Reg(Gpr.Rbx));
        Assert.Equal(0xFFFF_FFFFUL, _box.Reg(Gpr.Rdx));
    }
}
