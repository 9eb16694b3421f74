using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// Single-step traps, debug registers, ICEBP and BOUND as QEMU 7.2 raises them (Cpu.Debug.cs,
/// docs/cpu.md "Debug exceptions"), as 64-bit (BOUND: real-mode) guest programs. Every vector
/// enters one handler, a HLT; the frame on the handler's stack shows where the trap was taken.
/// Each program runs interpreted and with every block compiled before its first run.
/// </summary>
[Trait("Category", "Unit")]
public class DebugExceptionTests
{
    private const ulong Handler = 0x180000;
    private const ulong Data = 0x200000;
    private const ulong Stack = 0x90000;

    private static TestMachine Run64(bool compiled, Action<Assembler> build)
    {
        var m = new TestMachine();
        if (compiled)
        {
            m.Cpu.CompileThreshold = 1;
            m.Cpu.CompileSynchronously = true;
        }

        m.Load(Handler, TestMachine.Assemble(64, Handler, a => a.hlt()));
        SystemTestSupport.InstallLongIdt(m, Handler);
        m.LoadLong64(a =>
        {
            a.mov(rsp, (long)Stack);
            build(a);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run(100_000));
        return m;
    }

    /// <summary>The RIP the exception frame holds (the handler ran nothing but its HLT).</summary>
    private static ulong FrameRip(TestMachine m) => m.ReadU64(m.Cpu.GetGpr(Gpr.Rsp));

    private static ulong FrameFlags(TestMachine m) => m.ReadU64(m.Cpu.GetGpr(Gpr.Rsp) + 16);

    private static void SetTf(Assembler a)
    {
        a.pushfq();
        a.or(__qword_ptr[rsp], 0x100);
        a.popfq();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PopfSettingTf_TrapsAfterTheNextInstruction(bool compiled)
    {
        var m = Run64(compiled, a =>
        {
            var next = a.CreateLabel();
            SetTf(a);
            a.mov(eax, 1);
            a.Label(ref next);
            a.mov(ebx, 2);
        });
        Assert.Equal(Vector.DB, m.Cpu.LastException);
        Assert.Equal(1UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.NotEqual(2UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0x4000UL, m.Cpu._dr[6] & 0x4000);
        Assert.Equal(0x100UL, FrameFlags(m) & 0x100); // TF in the frame, cleared in the handler
        Assert.Equal(0UL, m.Cpu.RFlagsValue & 0x100);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sti_DoesNotTrap_TheInstructionAfterItDoes(bool compiled)
    {
        var m = Run64(compiled, a =>
        {
            SetTf(a);
            a.sti();
            a.mov(eax, 1);
            a.mov(ebx, 2);
        });
        Assert.Equal(Vector.DB, m.Cpu.LastException);
        Assert.Equal(1UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.NotEqual(2UL, m.Cpu.GetGpr(Gpr.Rbx));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RepMovs_TrapsAfterOneIteration_RipStillOnIt(bool compiled)
    {
        ulong movs = 0;
        var m = Run64(compiled, a =>
        {
            a.mov(rsi, (long)Data);
            a.mov(rdi, (long)Data + 0x100);
            a.mov(ecx, 3);
            SetTf(a);
            a.rep.movsb();
        });
        Assert.Equal(Vector.DB, m.Cpu.LastException);
        Assert.Equal(2UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(Data + 0x101, m.Cpu.GetGpr(Gpr.Rdi));
        movs = FrameRip(m);
        Assert.Equal(0xA4F3UL, m.ReadU64(movs) & 0xFFFF); // the frame points at REP MOVSB itself
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Int3UnderTf_DeliversOnlyBreakpoint(bool compiled)
    {
        var m = Run64(compiled, a =>
        {
            SetTf(a);
            a.int3();
        });
        Assert.Equal(Vector.BP, m.Cpu.LastException);
        Assert.Equal(0UL, m.Cpu._dr[6] & 0x4000);
    }

    [Fact]
    public void Icebp_IsInvalidOpcode()
    {
        var m = Run64(false, a => a.db(0xF1));
        Assert.Equal(Vector.UD, m.Cpu.LastException);
    }

    /// <summary>DR0 = the label's address, DR7 = L0 with type 00 (execute) and length 0.</summary>
    private static void ArmExecuteBreakpoint(Assembler a, Label target)
    {
        a.lea(rax, __[target]);
        a.mov(dr0, rax);
        a.mov(eax, 0x1);
        a.mov(dr7, rax);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InstructionBreakpoint_FaultsBeforeTheInstruction(bool compiled)
    {
        var m = Run64(compiled, a =>
        {
            var target = a.CreateLabel();
            ArmExecuteBreakpoint(a, target);
            a.mov(ebx, 5);
            a.Label(ref target);
            a.mov(ebx, 6);
        });
        Assert.Equal(Vector.DB, m.Cpu.LastException);
        Assert.Equal(5UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(m.Cpu._dr[0], FrameRip(m));
        Assert.Equal(1UL, m.Cpu._dr[6] & 0xF);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ResumeFlag_SuppressesTheBreakpointOnce(bool compiled)
    {
        var m = Run64(compiled, a =>
        {
            var target = a.CreateLabel();
            ArmExecuteBreakpoint(a, target);
            a.lea(rax, __[target]);
            a.push(0x10);                 // SS
            a.push((int)Stack - 8);       // RSP
            a.push(0x10002);              // RFLAGS with RF
            a.push(TestMachine.Code64);   // CS
            a.push(rax);                  // RIP
            a.iretq();
            a.Label(ref target);
            a.mov(ebx, 7);
            a.jmp(target);                // back to the breakpoint, RF now clear
        });
        Assert.Equal(Vector.DB, m.Cpu.LastException);
        Assert.Equal(7UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(m.Cpu._dr[0], FrameRip(m));
        Assert.Equal(0UL, FrameFlags(m) & 0x10000);
    }

    [Theory]
    [InlineData(false, 0x1u, true)]  // write, 1 byte: the write at +0 hits
    [InlineData(false, 0x3u, true)]  // read/write
    [InlineData(true, 0x1u, false)]  // a read does not hit a write breakpoint
    [InlineData(true, 0x3u, true)]   // but a read/write one
    public void DataBreakpoint_TrapsAfterTheAccess(bool read, uint type, bool hits)
    {
        foreach (bool compiled in new[] { false, true })
        {
            var m = Run64(compiled, a =>
            {
                a.mov(rax, (long)Data + 0x42);
                a.mov(dr1, rax);
                a.mov(eax, 0x4 | (type << 20) | (3u << 22)); // L1, type, 4 bytes from +0x42
                a.mov(dr7, rax);
                a.mov(rdx, (long)Data + 0x44);
                if (read)
                {
                    a.mov(cl, __byte_ptr[rdx]);
                }
                else
                {
                    a.mov(__byte_ptr[rdx], cl);
                }

                a.mov(ebx, 9);
            });
            Assert.Equal(hits ? Vector.DB : -1, m.Cpu.LastException);
            Assert.Equal(!hits, m.Cpu.GetGpr(Gpr.Rbx) == 9);
            if (hits)
            {
                Assert.Equal(2UL, m.Cpu._dr[6] & 0xF);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DataBreakpoint_InRealMode_TrapsAfterTheWrite(bool compiled)
    {
        using var m = new TestMachine();
        if (compiled)
        {
            m.Cpu.CompileThreshold = 1;
            m.Cpu.CompileSynchronously = true;
        }

        m.Load(0x700, TestMachine.Assemble(16, 0x700, a => a.hlt()));
        m.WriteU64(Vector.DB * 4, 0x0000_0700);
        m.LoadReal(a =>
        {
            a.mov(eax, 0x20100);
            a.mov(dr1, eax);
            a.mov(eax, 0x4 | (1u << 20) | (3u << 22));
            a.mov(dr7, eax);
            a.mov(ax, 0x2000);
            a.mov(ds, ax);
            a.mov(di, 0x140);
            a.mov(cl, 3);
            a.sar(__dword_ptr[di - 0x3E], cl);
            a.mov(ebx, 9);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run(1000));
        Assert.Equal(Vector.DB, m.Cpu.LastException);
        Assert.NotEqual(9UL, m.Cpu.GetGpr(Gpr.Rbx));
    }

    [Fact]
    public void MovToDr7_WithHighBits_IsGeneralProtection()
    {
        var m = Run64(false, a =>
        {
            a.mov(rax, 0x1_0000_0000L);
            a.mov(dr7, rax);
        });
        Assert.Equal(Vector.GP, m.Cpu.LastException);
    }

    [Theory]
    [InlineData((short)5, -1)]
    [InlineData((short)10, -1)]
    [InlineData((short)11, Vector.BR)]
    [InlineData((short)-3, Vector.BR)]
    public void Bound16_RaisesBoundRange_OutsideTheBounds(short value, int expected)
    {
        using var m = new TestMachine();
        m.Load(0x700, TestMachine.Assemble(16, 0x700, a => a.hlt()));
        m.WriteU64(Vector.BR * 4, 0x0000_0700);
        m.WriteU64(0x600, 0x000A_0002); // low 2, high 10
        m.LoadReal(a =>
        {
            a.mov(ax, (ushort)value);
            a.bound(ax, __dword_ptr[0x600]);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run(1000));
        Assert.Equal(expected, m.Cpu.LastException);
    }
}
