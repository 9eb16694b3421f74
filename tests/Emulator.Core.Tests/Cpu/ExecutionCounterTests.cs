using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>Blocks tally the instructions they execute into the counter chosen when they were decoded.</summary>
[Trait("Category", "Unit")]
public class ExecutionCounterTests
{
    [Fact]
    public void InstructionsAreCountedWhereTheyRan()
    {
        using var m = new TestMachine();

        // A routine at 0x200000: 1 + 2 x 1000 + 1 instructions, called twice.
        m.Load(0x200000, TestMachine.Assemble(64, 0x200000, a =>
        {
            var loop = a.CreateLabel();
            a.mov(ecx, 1000);
            a.Label(ref loop);
            a.dec(ecx);
            a.jnz(loop);
            a.ret();
        }));
        var routine = new ExecutionCounter();
        var caller = new ExecutionCounter();
        m.Cpu.CounterForBlock = lin => lin is >= 0x200000 and < 0x201000 ? routine : caller;
        m.LoadLong64(a =>
        {
            a.call(0x200000UL);
            a.call(0x200000UL);
            a.hlt();
        });

        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(2 * 2002, routine.Instructions);
        Assert.Equal(m.Cpu.InstructionCount, routine.Instructions + caller.Instructions);
    }
}
