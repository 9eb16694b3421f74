using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>SYSCALL/SYSRET and SYSENTER/SYSEXIT with QEMU 7.2's MSR semantics (SystemCalls.cs).</summary>
[Trait("Category", "Unit")]
public class SystemCallTests
{
    private const ulong Target = 0x180000;
    private const ulong Handler = 0x190000;

    /// <summary>Runs the program up to and including its last instruction (the transfer), with the MSRs set first.</summary>
    private static TestMachine RunTo(Action<Iced.Intel.Assembler> body, int instructions, Action<global::Emulator.Core.Cpu.Cpu>? setup = null)
    {
        var m = new TestMachine();
        m.Load(Target, TestMachine.Assemble(64, Target, a => a.hlt()));
        m.Load(Handler, TestMachine.Assemble(64, Handler, a => a.hlt()));
        SystemTestSupport.InstallLongIdt(m, Handler);
        m.LoadLong64(body);
        setup?.Invoke(m.Cpu);
        m.Run(instructions);
        return m;
    }

    private static void Wrmsr(global::Emulator.Core.Cpu.Cpu cpu, uint index, ulong value) => Assert.True(cpu.Msrs.TryWrite(index, value));

    private static void SyscallProgram(Iced.Intel.Assembler a)
    {
        a.mov(rax, 0x8D7); // CF PF AF ZF SF DF OF
        a.push(rax);
        a.popfq();
        a.syscall();
    }

    [Fact]
    public void Syscall_LongMode_SavesRipAndFlagsMasksAndEntersLstar()
    {
        using var m = RunTo(
            SyscallProgram,
            4,
            cpu =>
            {
                cpu.WriteEfer(cpu._efer | CrBits.EferSce);
                Wrmsr(cpu, MsrFile.Star, (0x23UL << 48) | (0x18UL << 32) | 0xDEAD);
                Wrmsr(cpu, MsrFile.LStar, Target);
                Wrmsr(cpu, MsrFile.SfMask, 0x0C1); // CF, ZF, SF cleared
            });
        Assert.Equal(Target, m.Cpu._rip);
        Assert.Equal(0x100000UL + (ulong)TestMachine.Assemble(64, 0x100000, SyscallProgram).Length, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(0x8D7UL, m.Cpu.GetGpr(11) & 0xFFF);
        // QEMU 7.2 clears the arithmetic flags and DF whatever SFMASK says (helper_syscall reloads
        // env->eflags, which holds neither); SFMASK's other bits apply as written.
        Assert.Equal(0x002UL, m.Cpu.RFlagsValue & 0xFFF);
        Assert.Equal(0x18, m.Cpu.GetSegment(Seg.Cs).Selector);
        Assert.Equal(0x20, m.Cpu.GetSegment(Seg.Ss).Selector);
        Assert.True(m.Cpu.GetSegment(Seg.Cs).Long);
    }

    [Fact]
    public void Syscall_WithoutSce_IsUd()
    {
        using var m = RunTo(a => { a.syscall(); a.hlt(); }, 10);
        Assert.Equal(Vector.UD, m.Cpu.LastException);
    }

    [Fact]
    public void Sysretq_LoadsRing3SelectorsFromStarAndFlagsFromR11()
    {
        using var m = RunTo(
            a =>
            {
                a.mov(rcx, unchecked((long)0x1234_5678_9ABCUL));
                a.mov(r11, 0x3D7);
                a.sysretq();
            },
            3,
            cpu =>
            {
                cpu.WriteEfer(cpu._efer | CrBits.EferSce);
                Wrmsr(cpu, MsrFile.Star, 0x10UL << 48);
            });
        Assert.Equal(0x1234_5678_9ABCUL, m.Cpu._rip);
        Assert.Equal(0x10 + 16 | 3, m.Cpu.GetSegment(Seg.Cs).Selector);
        Assert.Equal(0x10 + 8 | 3, m.Cpu.GetSegment(Seg.Ss).Selector);
        Assert.Equal(3, m.Cpu.Cpl);
        Assert.True(m.Cpu.GetSegment(Seg.Cs).Long);
        Assert.Equal(0x3D7UL, m.Cpu.RFlagsValue & 0xFFF);
    }

    [Fact]
    public void Sysenter_In64BitMode_IsUdOnTheAmdModel()
    {
        using var m = RunTo(a => { a.sysenter(); a.hlt(); }, 10, cpu => Wrmsr(cpu, MsrFile.SysenterCs, 0x08));
        Assert.Equal(Vector.UD, m.Cpu.LastException);
    }

    [Fact]
    public void SysenterAndSysexit_In32BitProtectedMode()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.sysenter();
        });
        Wrmsr(m.Cpu, MsrFile.SysenterCs, 0x08);
        Wrmsr(m.Cpu, MsrFile.SysenterEsp, 0x7000);
        Wrmsr(m.Cpu, MsrFile.SysenterEip, 0x5000);
        m.Run(1);
        Assert.Equal(0x5000UL, m.Cpu._rip);
        Assert.Equal(0x7000UL, m.Cpu.GetGpr(Gpr.Rsp));
        Assert.Equal(0x08, m.Cpu.GetSegment(Seg.Cs).Selector);
        Assert.Equal(0x10, m.Cpu.GetSegment(Seg.Ss).Selector);
        Assert.Equal(0, m.Cpu.Cpl);

        using var exit = new TestMachine();
        exit.LoadProtected32(a =>
        {
            a.mov(ecx, 0x6000);
            a.mov(edx, 0x4000);
            a.sysexit();
        });
        Wrmsr(exit.Cpu, MsrFile.SysenterCs, 0x08);
        exit.Run(3);
        Assert.Equal(0x4000UL, exit.Cpu._rip);
        Assert.Equal(0x6000UL, exit.Cpu.GetGpr(Gpr.Rsp));
        Assert.Equal(0x08 + 16 | 3, exit.Cpu.GetSegment(Seg.Cs).Selector);
        Assert.Equal(0x08 + 24 | 3, exit.Cpu.GetSegment(Seg.Ss).Selector);
        Assert.Equal(3, exit.Cpu.Cpl);
    }
}
