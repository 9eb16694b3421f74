using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>CPUID, control/debug registers, MSRs, RDTSC and friends, run as guest programs.</summary>
[Trait("Category", "Unit")]
public class SystemTests
{
    [Theory]
    [InlineData(0x0u, 0u, 0x0000000du, 0x68747541u, 0x444d4163u, 0x69746e65u)]
    [InlineData(0x1u, 0u, 0x00060fb1u, 0x00000800u, 0x80002001u, 0x078bfbfdu)]
    [InlineData(0xBu, 1u, 0u, 0x00000001u, 0x00000201u, 0u)]
    [InlineData(0x80000001u, 0u, 0x00060fb1u, 0u, 0x00000005u, 0x2193fbfdu)]
    [InlineData(0x80000008u, 0u, 0x00003028u, 0u, 0u, 0u)]
    [InlineData(0x80000020u, 0u, 0u, 0u, 0u, 0u)]
    public void Cpuid_ReturnsQemu64Table(uint leaf, uint sub, uint eax, uint ebx, uint ecx, uint edx)
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(rax, unchecked((long)0xFFFF_FFFF_0000_0000UL) | leaf);
            a.mov(rbx, -1L);
            a.mov(rcx, sub);
            a.mov(rdx, -1L);
            a.cpuid();
            a.hlt();
        });
        m.Run();
        Assert.Equal(eax, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(ebx, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(ecx, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(edx, m.Cpu.GetGpr(Gpr.Rdx));
    }

    [Fact]
    public void MovCr0_FromRealMode_EntersProtectedModeAndLoadsDescriptors()
    {
        using var m = new TestMachine();
        m.WriteGdt();
        m.Cpu._gdtr = default;
        m.Load(0x500, [0x2F, 0x00, 0x00, 0x10, 0x00, 0x00]);
        m.LoadReal(a =>
        {
            a.lgdt(__[0x500]);
            a.mov(eax, cr0);
            a.add(eax, 1);
            a.mov(cr0, eax);
            a.mov(ax, TestMachine.Data32);
            a.mov(ds, ax);
            a.mov(ebx, __dword_ptr[0x8000]);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(1UL, m.Cpu.Cr0 & 1);
        Assert.Equal(0x1000UL, m.Cpu.Gdtr.Base);
        Assert.Equal(0xFFFFFFFFu, m.Cpu.GetSegment(Seg.Ds).Limit);
        Assert.Equal(m.ReadU32(0x8000), (uint)m.Cpu.GetGpr(Gpr.Rbx));
    }

    [Fact]
    public void ControlAndDebugRegisters_RoundTrip()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(rax, cr4);
            a.mov(rbx, rax);
            a.add(rax, 0x600);
            a.mov(cr4, rax);
            a.mov(rcx, cr4);
            a.mov(rax, 0x1234567000L);
            a.mov(cr2, rax);
            a.mov(rdx, cr2);
            a.mov(rax, 0x1235); // bits 63:4 dropped, no #GP (QEMU's 8-bit APIC TPR)
            a.mov(cr8, rax);
            a.mov(rsi, cr8);
            a.mov(rax, 0xABCDL);
            a.mov(dr3, rax);
            a.mov(rdi, dr3);
            a.mov(rax, 0);
            a.mov(dr6, rax);
            a.mov(r8, dr6);
            a.smsw(r9d);
            a.clts();
            a.hlt();
        });
        m.Run();
        Assert.Equal(m.Cpu.GetGpr(Gpr.Rbx) | 0x600, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(0x1234567000UL, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(5UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0xABCDUL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(0xFFFF0FF0UL, m.Cpu.GetGpr(Gpr.R8));
        Assert.Equal((uint)m.Cpu.Cr0, (uint)m.Cpu.GetGpr(Gpr.R9));
    }

    [Fact]
    public void InvalidCr4Bit_RaisesGp()
    {
        using var m = new TestMachine();
        const ulong handler = 0x180000;
        m.Load(handler, TestMachine.Assemble(64, handler, a => a.hlt()));
        m.LoadLong64(a =>
        {
            a.mov(rax, 1L << 20);
            a.mov(cr4, rax);
            a.hlt();
        });
        SystemTestSupport.InstallLongIdt(m, handler);
        m.Run();
        Assert.Equal(Vector.GP, m.Cpu.LastException);
        Assert.Equal(0UL, m.Cpu.Cr4 & (1UL << 20));
    }

    /// <summary>
    /// PAT round-trips; an MSR QEMU 7.2 does not know reads 0 and swallows writes without #GP
    /// (helper_rdmsr/helper_wrmsr default, measured on qemu-system-x86_64 7.2); machine-check MSRs
    /// answer as QEMU's mce_init leaves them for qemu64 (MCG_CAP 0x0100010A, CTLs all-ones, a
    /// bank's CTL takes only 0 or all-ones, MC0_STATUS anything), MCG_CAP ignores writes.
    /// </summary>
    [Fact]
    public void RdmsrWrmsr_AsQemu72()
    {
        using var m = new TestMachine();
        const ulong handler = 0x180000;
        const ulong results = 0x5000;
        m.Load(handler, TestMachine.Assemble(64, handler, a => a.hlt()));
        m.LoadLong64(a =>
        {
            void Write(uint msr, uint low, uint high)
            {
                a.mov(ecx, msr);
                a.mov(eax, low);
                a.mov(edx, high);
                a.wrmsr();
            }

            void Read(uint msr, int slot)
            {
                a.mov(ecx, msr);
                a.mov(eax, 0xDEAD);
                a.mov(edx, 0xBEEF);
                a.rdmsr();
                a.mov(__dword_ptr[results + (ulong)(slot * 8)], eax);
                a.mov(__dword_ptr[results + (ulong)(slot * 8) + 4], edx);
            }

            Write(MsrFile.Pat, 0x11223344, 0x55667788);
            Read(MsrFile.Pat, 0);
            Write(0x12345, 1, 2);
            Read(0x12345, 1);
            Write(MsrFile.McgCap, 5, 0);
            Read(MsrFile.McgCap, 2);
            Read(MsrFile.McgCtl, 3);
            Write(MsrFile.Mc0Ctl, 5, 0);
            Read(MsrFile.Mc0Ctl, 4);
            Write(MsrFile.Mc0Ctl + 1, 5, 0);
            Read(MsrFile.Mc0Ctl + 1, 5);
            Read(MsrFile.Mc0Ctl + (4 * MsrFile.McBanks), 6);
            Read(MsrFile.MiscEnable, 7);
            a.hlt();
        });
        SystemTestSupport.InstallLongIdt(m, handler);
        m.Run();
        Assert.Equal(-1, m.Cpu.LastException);
        ulong[] expected = [0x5566_7788_1122_3344, 0, MsrFile.McgCapDefault, ulong.MaxValue, ulong.MaxValue, 5, 0, MsrFile.MiscEnableDefault];
        Assert.Equal(expected, Enumerable.Range(0, expected.Length).Select(i => m.ReadU64(results + (ulong)(i * 8))));
    }

    [Fact]
    public void Rdtsc_CountsVirtualTimeDeterministically()
    {
        ulong Run()
        {
            using var m = new TestMachine();
            m.LoadLong64(a =>
            {
                a.mov(rcx, 100);
                a.rep.stosb();
                a.rdtsc();
                a.hlt();
            });
            m.Cpu.SetGpr(Gpr.Rdi, 0x200000);
            m.Run();
            return (m.Cpu.GetGpr(Gpr.Rdx) << 32) | m.Cpu.GetGpr(Gpr.Rax);
        }

        ulong first = Run();
        Assert.Equal(first, Run());

        // 2 retired instructions plus 99 extra REP iterations before RDTSC (before the run, in EnterLong64, none retire).
        Assert.Equal(101UL, first);
    }

    [Fact]
    public void NoOpSystemInstructions_Execute()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.pause();
            a.lfence();
            a.mfence();
            a.sfence();
            a.wbinvd();
            a.invd();
            a.clflush(__byte_ptr[0x2000]);
            a.invlpg(__byte_ptr[0x2000]);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(9, m.Cpu.InstructionCount);
        Assert.Empty(m.Cpu.Unimplemented);
    }
}
