using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// What reverse execution needs from the CPU (Cpu.Replay.cs): an instruction observer told of
/// every instruction, compiled code included, that leaves the run's results alone; and
/// <see cref="Emulator.Core.Cpu.Cpu.RunToBlockStart"/>, which delivers what is pending and stops at
/// the next block without retiring an instruction.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ReplaySupportTests
{
    /// <summary>A loop of 50 rounds over a few instructions, then HLT.</summary>
    private static TestMachine Loop(bool compiled)
    {
        var m = new TestMachine();
        m.Cpu.CompileThreshold = compiled ? 1 : int.MaxValue;
        m.Cpu.CompileSynchronously = compiled;
        m.LoadLong64(a =>
        {
            var loop = a.CreateLabel();
            a.xor(eax, eax);
            a.mov(ecx, 50);
            a.Label(ref loop);
            a.add(eax, ecx);
            a.rol(eax, 3);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
        });
        return m;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheObserver_SeesEveryInstruction_EvenOnceCompiled_AndChangesNoResult(bool compiled)
    {
        using var plain = Loop(compiled);
        Assert.Equal(StopReason.Halted, plain.Run());

        using var m = Loop(compiled);
        // Half the loop first: with compilation on, its blocks are compiled by then.
        m.Cpu.Run(m.Cpu.InstructionCount + 100);
        var seen = new List<(long Count, ulong Rip)>();
        m.Cpu.InstructionObserver = c => seen.Add((c.InstructionCount, c.LinearRip));
        Assert.Equal(StopReason.Halted, m.Run());
        m.Cpu.InstructionObserver = null;

        Assert.Equal(plain.Cpu.InstructionCount, m.Cpu.InstructionCount);
        Assert.Equal(plain.Cpu.GetGpr(Gpr.Rax), m.Cpu.GetGpr(Gpr.Rax));
        // One call per instruction, in order, the last one the HLT.
        Assert.Equal(Enumerable.Range(100, (int)(m.Cpu.InstructionCount - 100)).Select(i => (long)i), seen.Select(s => s.Count));
        Assert.Equal(m.Cpu.LinearRip - 1, seen[^1].Rip);
    }

    [Fact]
    public void RunToBlockStart_DeliversThePendingInterruptAndStopsBeforeTheHandlerRuns()
    {
        using var m = new TestMachine();
        var pic = FlowTestSupport.PendingInterruptProgram(m);
        m.Cpu.HoldInterrupts = true;
        m.Cpu.Run(m.Cpu.InstructionCount + 3);
        long before = m.Cpu.InstructionCount;
        m.Cpu.HoldInterrupts = false;

        Assert.Equal(StopReason.Breakpoint, m.Cpu.RunToBlockStart());
        Assert.Equal(Emulator.Core.Cpu.Cpu.BlockStartDetail, m.Cpu.StopDetail);
        Assert.Equal(before, m.Cpu.InstructionCount);
        Assert.Equal(0x200000UL, m.Cpu.LinearRip);
        Assert.False(pic.HasPendingInterrupt);
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rdx)); // the handler has not run

        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(9UL, m.Cpu.GetGpr(Gpr.Rdx));
    }

    [Fact]
    public void RunToBlockStart_WithNothingPending_StopsAtTheNextInstruction()
    {
        using var m = Loop(compiled: false);
        m.Cpu.Run(m.Cpu.InstructionCount + 7);
        ulong rip = m.Cpu.LinearRip;
        long count = m.Cpu.InstructionCount;
        Assert.Equal(StopReason.Breakpoint, m.Cpu.RunToBlockStart());
        Assert.Equal((count, rip), (m.Cpu.InstructionCount, m.Cpu.LinearRip));
    }
}
