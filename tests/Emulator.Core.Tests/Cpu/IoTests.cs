using Emulator.Core.Cpu;
using Emulator.Core.Io;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>IN/OUT in both port forms and all sizes, and REP INS/OUTS.</summary>
[Trait("Category", "Unit")]
public class IoTests
{
    private sealed class Recorder : IPortDevice
    {
        public List<(ushort Offset, int Size, uint Value)> Writes { get; } = [];

        public uint Next { get; set; } = 0x11223344;

        public string Name => "recorder";

        public uint Read(ushort offset, int size)
        {
            uint v = Next;
            Next += 0x01010101;
            return size == 4 ? v : v & ((1u << (8 * size)) - 1);
        }

        public void Write(ushort offset, int size, uint value) => Writes.Add((offset, size, value));
    }

    [Fact]
    public void InOut_AllFormsAndSizes()
    {
        using var m = new TestMachine();
        var dev = new Recorder();
        m.Ports.Register(0x80, 8, dev);
        m.Ports.Register(0x1000, 8, dev);
        m.LoadLong64(a =>
        {
            a.mov(rax, -1L);
            a.@in(al, 0x80);
            a.mov(rbx, rax);
            a.mov(rax, -1L);
            a.mov(edx, 0x1000);
            a.@in(ax, dx);
            a.mov(rsi, rax);
            a.mov(rax, -1L);
            a.@in(eax, dx);
            a.mov(rdi, rax);
            a.mov(eax, 0xAABBCCDD);
            a.@out(0x84, al);
            a.@out(0x84, ax);
            a.@out(dx, eax);
            a.hlt();
        });
        m.Run();
        Assert.Equal(0xFFFFFFFF_FFFFFF44UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0xFFFFFFFF_FFFF3445UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x13243546UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal([(4, 1, 0xDDu), (4, 2, 0xCCDDu), (0, 4, 0xAABBCCDDu)], dev.Writes);
    }

    [Fact]
    public void RepOutsb_WritesString_RepInsw_FillsBuffer()
    {
        using var m = new TestMachine();
        var dev = new Recorder { Next = 0x0101 };
        m.Ports.Register(0x300, 2, dev);
        m.Load(0x200000, "hi there"u8);
        m.LoadLong64(a =>
        {
            a.mov(rsi, 0x200000L);
            a.mov(ecx, 8);
            a.mov(edx, 0xE9);
            a.rep.outsb();
            a.mov(edx, 0x300);
            a.mov(rdi, 0x200100L);
            a.mov(ecx, 3);
            a.rep.insw();
            a.hlt();
        });
        m.Run();
        Assert.Equal("hi there", m.Port.Text);
        Assert.Equal(new byte[] { 1, 1, 2, 2, 3, 3, 0 }, m.Cpu.ReadLinearForDebugger(0x200100, 7));
        Assert.Equal(0x200106UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(7 + 2, m.Cpu.RepIterations);
    }

    [Fact]
    public void OutToExitPort_StopsRun()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(al, 7);
            a.@out(0xF4, al);
            a.hlt();
        });
        Assert.Equal(StopReason.Requested, m.Run());
        Assert.Equal(7, m.Port.ExitCode);
    }
}
