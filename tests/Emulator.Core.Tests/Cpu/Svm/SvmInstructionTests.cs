using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Emulator.Core.Tests.Cpu.Svm.SvmTestSupport;
using static Iced.Intel.AssemblerRegisters;
using Vmcb = Emulator.Core.Cpu.Cpu.Vmcb;

namespace Emulator.Core.Tests.Cpu.Svm;

/// <summary>
/// The SVM instructions' #UD/#GP checks (QEMU 7.2 translate.c, case 0x101), EFER.SVME, VMLOAD
/// and VMSAVE, STGI/CLGI holding an interrupt, and the SVM state in snapshots.
/// </summary>
[Trait("Category", "Unit")]
public class SvmInstructionTests
{
    private const ulong FaultHandler = 0x180000;

    /// <summary>0F 01 D8+n: VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA.</summary>
    private static void Svm(Assembler a, int n) => a.db(0x0F, 0x01, (byte)(0xD8 + n));

    private static TestMachine FaultingProgram(int n, bool svme)
    {
        var m = new TestMachine();
        m.Load(FaultHandler, [0xF4]);
        m.LoadLong64(a =>
        {
            Svm(a, n);
            a.hlt();
        });
        SystemTestSupport.InstallLongIdt(m, FaultHandler);
        if (svme)
        {
            Assert.True(m.Cpu.WriteEfer(m.Cpu.Efer | CrBits.EferSvme));
        }

        return m;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void WithoutSvme_EverySvmInstructionIsUd(int n)
    {
        using var m = FaultingProgram(n, svme: false);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(Vector.UD, m.Cpu.LastGuestException?.Vector);
    }

    /// <summary>At CPL 3: #GP(0) for the ones QEMU gives check_cpl0, #UD for VMMCALL and SKINIT (no CPL check, not intercepted).</summary>
    [Theory]
    [InlineData(0, Vector.GP)]
    [InlineData(1, Vector.UD)]
    [InlineData(2, Vector.GP)]
    [InlineData(3, Vector.GP)]
    [InlineData(4, Vector.GP)]
    [InlineData(5, Vector.GP)]
    [InlineData(6, Vector.UD)]
    [InlineData(7, Vector.GP)]
    public void AtCpl3_TheChecksComeInQemusOrder(int n, int vector)
    {
        using var m = FaultingProgram(n, svme: true);
        MakeUserAccessible(m);
        m.Cpu._tr = new SegmentRegister { Base = 0x3000, Limit = 0x67, Attributes = 0x8B00 };
        m.WriteU64(0x3004, 0x60000);
        m.Cpu._cpl = 3;
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(vector, m.Cpu.LastGuestException?.Vector);
        Assert.Equal(0, m.Cpu.Cpl);
    }

    /// <summary>Sets the user bit in the identity map's first gigabyte, so CPL 3 can fetch.</summary>
    private static void MakeUserAccessible(TestMachine m)
    {
        ulong pml4 = TestMachine.PageTables, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
        m.WriteU64(pml4, m.ReadU64(pml4) | 4);
        m.WriteU64(pdpt, m.ReadU64(pdpt) | 4);
        for (ulong j = 0; j < 512; j++)
        {
            m.WriteU64(pd + j * 8, m.ReadU64(pd + j * 8) | 4);
        }
    }

    [Fact]
    public void Wrmsr_SetsSvme_OnQemu64ButNotOnQemu32()
    {
        Assert.Equal(CrBits.EferSvme, CpuModel.Qemu64.EferWritable & CrBits.EferSvme);
        Assert.Equal(0UL, CpuModel.Qemu32.EferWritable & CrBits.EferSvme);
        Assert.Equal((0x00000001u, 0x00000010u, 0u, 0u), CpuModel.Qemu64.Query(0x8000000A, 0));
    }

    [Fact]
    public void VmloadThenVmsave_CopiesEveryFieldTheyCover()
    {
        const ulong Source = 0x500000, Destination = 0x510000;
        using var m = new TestMachine();
        WriteSegment(m, Source + Vmcb.Fs, new SegmentRegister { Selector = 0x10, Base = 0xFFFF_8000_1234_0000, Limit = 0xFFFFF, Attributes = 0x00C0_9300 });
        WriteSegment(m, Source + Vmcb.Gs, new SegmentRegister { Selector = 0x2B, Base = 0x7000, Limit = 0xFFFF, Attributes = 0x00C0_F300 });
        WriteSegment(m, Source + Vmcb.Tr, new SegmentRegister { Selector = 0x40, Base = 0x3000, Limit = 0x67, Attributes = 0x8B00 });
        WriteSegment(m, Source + Vmcb.Ldtr, new SegmentRegister { Selector = 0x50, Base = 0x4000, Limit = 0xFF, Attributes = 0x8200 });
        for (ulong field = Vmcb.Star; field <= Vmcb.SysenterEip; field += 8)
        {
            m.WriteU64(Source + field, 0xFFFF_8000_0000_0000 | field);
        }

        m.LoadLong64(a =>
        {
            a.mov(ecx, EferMsr);
            a.rdmsr();
            a.or(eax, 1 << 12);
            a.wrmsr();
            a.mov(eax, (uint)Source);
            Svm(a, 2);
            a.mov(eax, (uint)Destination);
            Svm(a, 3);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());

        Assert.Equal(0xFFFF_8000_1234_0000UL, m.Cpu.GetSegment(Seg.Fs).Base);
        for (ulong offset = Vmcb.Fs; offset < Vmcb.Gdtr; offset++)
        {
            Assert.Equal(m.Bus.Read(Source + offset, 1), m.Bus.Read(Destination + offset, 1));
        }

        foreach (ulong segment in (ulong[])[Vmcb.Ldtr, Vmcb.Tr])
        {
            Assert.Equal(m.ReadU64(Source + segment), m.ReadU64(Destination + segment));
            Assert.Equal(m.ReadU64(Source + segment + 8), m.ReadU64(Destination + segment + 8));
        }

        for (ulong field = Vmcb.Star; field <= Vmcb.SysenterEip; field += 8)
        {
            // SYSENTER_CS is 32 bits in the CPU (QEMU's env->sysenter_cs).
            ulong expected = field == Vmcb.SysenterCs ? (uint)m.ReadU64(Source + field) : m.ReadU64(Source + field);
            Assert.Equal(expected, m.ReadU64(Destination + field));
        }
    }

    [Fact]
    public void ClgiHoldsAPendingInterrupt_StgiLetsItIn()
    {
        const ulong Handler = 0x180000;
        using var m = new TestMachine();
        m.Load(Handler, [0xF4]);
        static void Program(Assembler a)
        {
            a.mov(ecx, EferMsr);
            a.rdmsr();
            a.or(eax, 1 << 12);
            a.wrmsr();
            Svm(a, 5);
            a.sti();
            a.nop();
            a.mov(ebx, 1);
            Svm(a, 4);
            a.mov(ebx, 2);
            a.hlt();
        }

        m.LoadLong64(Program);
        SystemTestSupport.InstallLongIdt(m, Handler);
        ulong gate = (Handler & 0xFFFF) | ((ulong)TestMachine.Code64 << 16) | (0x8EUL << 40) | ((Handler >> 16) & 0xFFFF) << 48;
        m.WriteU64(SystemTestSupport.IdtBase + 0x20 * 16, gate);
        m.WriteU64(SystemTestSupport.IdtBase + 0x20 * 16 + 8, 0);
        m.Cpu._idtr = new TableRegister { Base = SystemTestSupport.IdtBase, Limit = 0x21 * 16 - 1 };
        m.Cpu.InterruptController = new OneInterrupt(0x20);

        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(Handler + 1, m.Cpu.Rip);
        Assert.Equal(1UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(InstructionAddress(64, HostCode, Program, 9), m.ReadU64(m.Cpu.GetGpr(Gpr.Rsp)));
    }

    [Fact]
    public void SnapshotInsideTheGuest_RestoresGuestModeAndIntercepts()
    {
        static void Guest(Assembler a)
        {
            a.nop();
            a.nop();
            a.cpuid();
            a.hlt();
        }

        using var m = Build(64, Guest, InterceptBit(0x72));
        RunUntilGuest(m);
        var saved = m.Cpu.SaveState();
        Assert.Equal(StopReason.Halted, m.Run());
        ulong exitRip = GuestRip(m);

        m.WriteU64(VmcbAddress + Vmcb.ExitCode, 0);
        m.Cpu.RestoreState(saved);
        Assert.True(m.Cpu.InSvmGuest);
        Assert.True(m.Cpu.GlobalInterruptFlag);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x72UL, ExitCode(m));
        Assert.Equal(exitRip, GuestRip(m));
        AssertBackInHost(m, 64);
    }
}
