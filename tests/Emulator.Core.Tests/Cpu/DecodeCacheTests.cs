using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>The decoded-block cache stays exact when code is written: self-modifying code, copied code, breakpoints.</summary>
[Trait("Category", "Unit")]
public class DecodeCacheTests
{
    [Fact]
    public void StoreIntoTheNextInstructionOfTheSameBlockTakesEffect()
    {
        using var m = new TestMachine();

        // The MOV patches the immediate of the following "mov eax, 1" to 2 before it executes.
        // Assemble twice: the first pass finds where that immediate lands.
        byte[] Build(ulong patchAt) => TestMachine.Assemble(64, 0x100000, a =>
        {
            a.mov(__byte_ptr[patchAt], 2);
            a.nop();
            a.mov(eax, 1);
            a.hlt();
        });
        var probe = Build(0x100000);
        int immediate = Array.IndexOf(probe, (byte)0xB8) + 1;
        var code = Build(0x100000 + (ulong)immediate);
        Assert.Equal(1, code[immediate]);
        m.Load(0x100000, code);
        m.EnterLong64(0x100000);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(2UL, m.Cpu.GetGpr(Gpr.Rax));
    }

    [Fact]
    public void RerunningCodeAfterItWasRewrittenRunsTheNewCode()
    {
        using var m = new TestMachine();
        var first = TestMachine.Assemble(64, 0x200000, a => { a.mov(eax, 0x11); a.ret(); });
        var second = TestMachine.Assemble(64, 0x200000, a => { a.mov(eax, 0x22); a.ret(); });
        m.Load(0x300000, second);
        m.LoadLong64(a =>
        {
            a.mov(edi, 0x200000);
            a.call(0x200000UL);
            a.mov(ebx, eax);

            // Copy the replacement routine over the one just executed, byte by byte.
            a.mov(esi, 0x300000);
            a.mov(ecx, second.Length);
            var copy = a.CreateLabel();
            a.Label(ref copy);
            a.mov(al, __byte_ptr[rsi]);
            a.mov(__byte_ptr[rdi], al);
            a.inc(rsi);
            a.inc(rdi);
            a.dec(ecx);
            a.jnz(copy);
            a.call(0x200000UL);
            a.hlt();
        });
        m.Load(0x200000, first);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x11UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0x22UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.True(m.Cpu.CodePageInvalidations > 0);
    }

    [Fact]
    public void BreakpointInTheMiddleOfStraightLineCodeStopsBeforeItsInstruction()
    {
        using var m = new TestMachine();
        var code = TestMachine.Assemble(64, 0x100000, a =>
        {
            a.mov(eax, 1);
            a.mov(ebx, 2);
            a.mov(ecx, 3);
            a.hlt();
        });
        m.Load(0x100000, code);
        m.EnterLong64(0x100000);
        m.Cpu.AddBreakpoint(0x100000 + 10);
        m.Cpu.BreakpointHit = (_, _) => true;
        Assert.Equal(StopReason.Breakpoint, m.Run());
        Assert.Equal(0x10000AUL, m.Cpu.LinearRip);
        Assert.Equal(2, m.Cpu.InstructionCount);
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rcx));

        // Resuming runs the instruction at the breakpoint instead of stopping again.
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(3UL, m.Cpu.GetGpr(Gpr.Rcx));
    }

    [Fact]
    public void InstructionLimitIsExact()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            var loop = a.CreateLabel();
            a.Label(ref loop);
            a.inc(eax);
            a.inc(ebx);
            a.jmp(loop);
        });
        Assert.Equal(StopReason.InstructionLimit, m.Run(1001));
        Assert.Equal(1001, m.Cpu.InstructionCount);
        Assert.Equal(334UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(334UL, m.Cpu.GetGpr(Gpr.Rbx));
    }
}
