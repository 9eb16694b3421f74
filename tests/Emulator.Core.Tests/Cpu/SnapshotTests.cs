using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>CPU state saved mid-run and restored (with memory) replays the rest of the run exactly.</summary>
[Trait("Category", "Unit")]
public class SnapshotTests
{
    [Fact]
    public unsafe void RestoredStateReplaysTheSameInstructionsAndResult()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            var loop = a.CreateLabel();
            a.mov(ecx, 5000);
            a.mov(eax, 1);
            a.Label(ref loop);
            a.imul(eax, eax, 33);
            a.xor(eax, ecx);
            a.mov(__dword_ptr[rcx * 4 + 0x200000], eax);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
        });
        Assert.Equal(StopReason.InstructionLimit, m.Run(7777));
        var snapshot = m.Cpu.SaveState();
        var memory = new Span<byte>(m.Ram, (int)TestMachine.RamSize).ToArray();

        Assert.Equal(StopReason.Halted, m.Run());
        ulong result = m.Cpu.GetGpr(Gpr.Rax);
        long count = m.Cpu.InstructionCount;
        uint stored = m.ReadU32(0x200000 + 4);

        // Scribble over state, then restore and replay.
        m.Cpu.SetGpr(Gpr.Rax, 0);
        m.Bus.Write(0x200004, 4, 0);
        memory.CopyTo(new Span<byte>(m.Ram, (int)TestMachine.RamSize));
        m.Cpu.RestoreState(snapshot);
        Assert.Equal(7777, m.Cpu.InstructionCount);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(result, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(count, m.Cpu.InstructionCount);
        Assert.Equal(stored, m.ReadU32(0x200000 + 4));
    }
}
