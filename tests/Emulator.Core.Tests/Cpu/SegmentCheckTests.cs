using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>LAR, LSL, VERR, VERW and ARPL as QEMU 7.2 runs them (SegmentChecks.cs), on the test machine's GDT.</summary>
[Trait("Category", "Unit")]
public class SegmentCheckTests
{
    private const ulong Handler = 0x180000;

    private static TestMachine Run32(Action<Iced.Intel.Assembler> body)
    {
        var m = new TestMachine();
        m.Load(Handler, TestMachine.Assemble(32, Handler, a => a.hlt()));
        FlowTestSupport.Gate32(m, Vector.UD, (uint)Handler);
        m.LoadProtected32(a =>
        {
            body(a);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        return m;
    }

    private static bool Zf(TestMachine m) => (m.Cpu.RFlagsValue & RFlags.ZF) != 0;

    [Fact]
    public void Lar_ReturnsTheAttributeBytes_AndLsl_TheScaledLimit()
    {
        using var m = Run32(a =>
        {
            a.mov(ecx, 0x10);
            a.lar(eax, ecx);
            a.lsl(ebx, ecx);
        });
        ulong desc = m.ReadU64(TestMachine.GdtBase + 0x10);
        Assert.True(Zf(m));
        Assert.Equal((desc >> 32) & 0x00F0_FF00, m.Cpu.GetGpr(Gpr.Rax));
        uint limit = (uint)((desc & 0xFFFF) | ((desc >> 32) & 0xF0000));
        Assert.Equal((desc & (1UL << 55)) != 0 ? ((ulong)limit << 12) | 0xFFF : limit, m.Cpu.GetGpr(Gpr.Rbx));
    }

    [Fact]
    public void Lar_NullOrOutOfTableSelector_ClearsZfAndKeepsTheRegister()
    {
        using var m = Run32(a =>
        {
            a.mov(eax, 0x1234);
            a.mov(ecx, 0xFFF8);
            a.lar(eax, ecx);
            a.mov(ebx, 0x5678);
            a.mov(ecx, 3);
            a.lsl(ebx, ecx);
        });
        Assert.False(Zf(m));
        Assert.Equal(0x1234UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0x5678UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(-1, m.Cpu.LastException);
    }

    [Fact]
    public void Verw_DataYesCodeNo_VerrReadableCode()
    {
        using var m = Run32(a =>
        {
            a.mov(ecx, 0x10);
            a.verw(cx);
            a.setz(al);
            a.mov(ecx, 0x08);
            a.verw(cx);
            a.setz(bl);
            a.verr(cx);
            a.setz(dl);
        });
        bool readable = (m.ReadU64(TestMachine.GdtBase + 0x08) & (1UL << 41)) != 0;
        Assert.Equal(1UL, m.Cpu.GetGpr(Gpr.Rax) & 0xFF);
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rbx) & 0xFF);
        Assert.Equal(readable ? 1UL : 0UL, m.Cpu.GetGpr(Gpr.Rdx) & 0xFF);
    }

    [Fact]
    public void Arpl_RaisesTheRplOnlyWhenLower()
    {
        using var m = Run32(a =>
        {
            a.mov(eax, 0xABCD_0010);
            a.mov(ebx, 0x0002);
            a.arpl(ax, bx);
            a.setz(cl);
            a.mov(ebx, 0x0001);
            a.arpl(ax, bx);
            a.setz(ch);
        });
        Assert.Equal(0xABCD_0012UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0x0001UL, m.Cpu.GetGpr(Gpr.Rcx) & 0xFFFF);
    }

    [Fact]
    public void InRealMode_IsUd()
    {
        using var m = new TestMachine();
        m.LoadReal(a =>
        {
            a.mov(cx, 0x10);
            a.verr(cx);
            a.hlt();
        });
        m.Run(2);
        Assert.Equal(Vector.UD, m.Cpu.LastException);
    }
}
