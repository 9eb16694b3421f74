using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

[Trait("Category", "Unit")]
public class SmokeTests
{
    [Fact]
    public void Long64_AddSubCmpAndHalt()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(rax, 0x1_0000_0000UL);
            a.mov(rbx, 5);
            a.add(rax, rbx);
            a.sub(rax, 1);
            a.mov(__qword_ptr[0x2000], rax);
            a.cmp(rax, 4);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x1_0000_0004UL, m.ReadU64(0x2000));
        Assert.Equal(0x1_0000_0004UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0UL, m.Cpu.RFlagsValue & RFlags.ZF);
        Assert.Equal(7, m.Cpu.InstructionCount);
    }

    [Fact]
    public void Unimplemented_InstructionIsNamedAndRaisesUd()
    {
        using var m = new TestMachine();
        m.LoadLong64(a => a.rdrand(eax));
        m.Run(100);
        Assert.Contains(Iced.Intel.Code.Rdrand_r32, m.Cpu.Unimplemented.Keys);
    }
}
