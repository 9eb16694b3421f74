using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// A debugger's watchpoints and breakpoints (Cpu.HostWatch.cs, Cpu.AddBreakpoint): a watched
/// access stops the run right after its instruction, interpreted or compiled, only for the kinds
/// asked; the guest's DR7 is untouched; breakpoints are counted per user; interrupts held for a
/// step stay pending.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HostWatchpointTests
{
    private const ulong Watched = 0x3000;

    /// <summary>A loop reads the watched dword 3 times, then writes it, then sets RCX: compiled from its second pass when <paramref name="compiled"/>.</summary>
    private static TestMachine Program(bool compiled)
    {
        var m = new TestMachine();
        if (compiled)
        {
            m.Cpu.CompileThreshold = 1;
            m.Cpu.CompileSynchronously = true;
        }
        else
        {
            m.Cpu.BlockCompilation = false;
        }

        m.LoadLong64(a =>
        {
            var loop = a.CreateLabel();
            a.mov(rbx, Watched);
            a.mov(esi, 3);
            a.Label(ref loop);
            a.mov(eax, __dword_ptr[rbx]);
            a.dec(esi);
            a.jnz(loop);
            a.mov(__dword_ptr[rbx + 2], 0x55AA);
            a.mov(ecx, 7);
            a.hlt();
        });
        return m;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AWriteWatchpoint_StopsAfterTheStoreAndNotOnReads(bool compiled)
    {
        using var m = Program(compiled);
        m.Cpu.AddHostWatchpoint(new HostWatchpoint(Watched + 3, 1, WatchKind.Write));
        Assert.Equal(StopReason.Breakpoint, m.Run());
        Assert.Equal(Emulator.Core.Cpu.Cpu.HostWatchStopDetail, m.Cpu.StopDetail);
        var hit = Assert.IsType<HostWatchHit>(m.Cpu.LastHostWatchHit);
        Assert.Equal(Watched + 3, hit.Address);
        Assert.True(hit.Write);
        Assert.Equal(0x55AAUL << 16, m.ReadU64(Watched) & 0xFFFF_FFFF); // the store completed
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rcx)); // and nothing after it ran
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rsi)); // the reads went by

        m.Cpu.LastHostWatchHit = null;
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(7UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Null(m.Cpu.LastHostWatchHit);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AReadWatchpoint_StopsAtTheFirstRead(bool compiled)
    {
        using var m = Program(compiled);
        m.Cpu.AddHostWatchpoint(new HostWatchpoint(Watched, 2, WatchKind.Read));
        Assert.Equal(StopReason.Breakpoint, m.Run());
        Assert.False(m.Cpu.LastHostWatchHit!.Value.Write);
        Assert.Equal(3UL, m.Cpu.GetGpr(Gpr.Rsi)); // stopped right after the first load

        Assert.True(m.Cpu.RemoveHostWatchpoint(new HostWatchpoint(Watched, 2, WatchKind.Read)));
        Assert.Empty(m.Cpu.HostWatchpoints);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(7UL, m.Cpu.GetGpr(Gpr.Rcx));
    }

    [Fact]
    public void Breakpoints_AreCountedPerUser()
    {
        using var m = Program(compiled: false);
        ulong hltAt = 0;
        m.Cpu.BreakpointHit = (cpu, linear) =>
        {
            hltAt = linear;
            return true;
        };
        ulong target = FindMovEcx(m);
        m.Cpu.AddBreakpoint(target);
        m.Cpu.AddBreakpoint(target); // a second user
        m.Cpu.RemoveBreakpoint(target); // the first one leaves
        Assert.Equal(StopReason.Breakpoint, m.Run());
        Assert.Equal(target, hltAt);
        m.Cpu.RemoveBreakpoint(target);
        hltAt = 0;
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0UL, hltAt);
    }

    [Fact]
    public void HeldInterrupts_StayPendingUntilReleased()
    {
        using var m = new TestMachine();
        var pic = FlowTestSupport.PendingInterruptProgram(m);
        m.Cpu.HoldInterrupts = true;
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(2UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.True(pic.HasPendingInterrupt);
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rdx));

        m.Cpu.HoldInterrupts = false;
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.False(pic.HasPendingInterrupt);
        Assert.Equal(9UL, m.Cpu.GetGpr(Gpr.Rdx));
    }

    /// <summary>The linear address of the program's MOV ECX, 7 (B9 07 00 00 00).</summary>
    private static ulong FindMovEcx(TestMachine m)
    {
        for (ulong at = 0x100000; at < 0x100100; at++)
        {
            if ((m.ReadU64(at) & 0xFF_FFFF_FFFF) == 0x00_0000_07B9)
            {
                return at;
            }
        }

        throw new InvalidOperationException("MOV ECX, 7 not found");
    }
}
