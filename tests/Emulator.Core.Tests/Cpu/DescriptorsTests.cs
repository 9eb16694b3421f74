using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>LGDT/LIDT/SGDT/SIDT in every size, LTR/LLDT, MOV Sreg, far-pointer loads, SWAPGS.</summary>
[Trait("Category", "Unit")]
public class DescriptorsTests
{
    private static readonly byte[] Pseudo = [0x34, 0x12, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88, 0x77, 0x66];

    /// <summary>Runs <paramref name="program"/> with the 10-byte pseudo-descriptor <see cref="Pseudo"/> at 0x500.</summary>
    private static TestMachine RunWithPseudo(int bitness, Action<Assembler> program)
    {
        var m = new TestMachine();
        m.Load(0x500, Pseudo);
        m.Load(bitness, program);
        m.Run();
        return m;
    }

    [Fact]
    public void Real16_LgdtKeeps24BitBase_SgdtStoresMaskedDword()
    {
        using var m = RunWithPseudo(16, a =>
        {
            a.lgdt(__[0x500]);
            a.lidt(__[0x500]);
            a.sgdt(__[0x600]);
            a.sidt(__[0x610]);
            a.hlt();
        });
        Assert.Equal(0xBBCCDDUL, m.Cpu.Gdtr.Base);
        Assert.Equal(0x1234u, m.Cpu.Gdtr.Limit);
        Assert.Equal(0xBBCCDDUL, m.Cpu.Idtr.Base);
        Assert.Equal(new byte[] { 0x34, 0x12, 0xDD, 0xCC, 0xBB, 0x00 }, m.Cpu.ReadLinearForDebugger(0x600, 6));
        Assert.Equal(new byte[] { 0x34, 0x12, 0xDD, 0xCC, 0xBB, 0x00 }, m.Cpu.ReadLinearForDebugger(0x610, 6));
    }

    [Fact]
    public void Protected32_RoundTrip()
    {
        using var m = RunWithPseudo(32, a =>
        {
            a.sgdt(__[0x700]);
            a.lidt(__[0x500]);
            a.sidt(__[0x600]);
            a.lgdt(__[0x700]);
            a.hlt();
        });
        Assert.Equal(0xAABBCCDDUL, m.Cpu.Idtr.Base);
        Assert.Equal(Pseudo[..6], m.Cpu.ReadLinearForDebugger(0x600, 6));
        Assert.Equal(TestMachine.GdtBase, m.Cpu.Gdtr.Base);
        Assert.Equal(0x2Fu, m.Cpu.Gdtr.Limit);
    }

    [Fact]
    public void Long64_RoundTripIsExact()
    {
        using var m = RunWithPseudo(64, a =>
        {
            a.sgdt(__[0x700]);
            a.lidt(__[0x500]);
            a.sidt(__[0x600]);
            a.lgdt(__[0x700]);
            a.hlt();
        });
        Assert.Equal(0x66778899AABBCCDDUL, m.Cpu.Idtr.Base);
        Assert.Equal(Pseudo, m.Cpu.ReadLinearForDebugger(0x600, 10));
        Assert.Equal(new byte[] { 0x2F, 0, 0, 0x10, 0, 0, 0, 0, 0, 0 }, m.Cpu.ReadLinearForDebugger(0x700, 10));
    }

    [Fact]
    public void Long64_LtrLoads16ByteTssDescriptorAndMarksBusy()
    {
        using var m = new TestMachine();
        const ulong tssBase = 0x12_3456_7800UL;
        m.LoadLong64(a =>
        {
            a.mov(ax, 0x30);
            a.ltr(ax);
            a.str(ebx);
            a.mov(ax, 0x40);
            a.lldt(ax);
            a.sldt(__word_ptr[0x800]);
            a.hlt();
        });
        m.Cpu._gdtr = new TableRegister { Base = TestMachine.GdtBase, Limit = 0x4F };
        ulong Desc(ulong b, uint limit, ulong type) =>
            (limit & 0xFFFF) | ((b & 0xFFFFFF) << 16) | (type << 40) | (1UL << 47) | ((ulong)(limit >> 16) << 48) | (((b >> 24) & 0xFF) << 56);
        m.WriteU64(TestMachine.GdtBase + 0x30, Desc(tssBase, 0x67, 9));
        m.WriteU64(TestMachine.GdtBase + 0x38, tssBase >> 32);
        m.WriteU64(TestMachine.GdtBase + 0x40, Desc(0x5000, 0xFF, 2));
        m.WriteU64(TestMachine.GdtBase + 0x48, 0);
        m.Run();
        Assert.Equal(tssBase, m.Cpu._tr.Base);
        Assert.Equal(0x67u, m.Cpu._tr.Limit);
        Assert.Equal(0xBu, (m.ReadU64(TestMachine.GdtBase + 0x30) >> 40) & 0xF);
        Assert.Equal(0x30UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0x5000UL, m.Cpu._ldtr.Base);
        Assert.Equal(0x40u, m.ReadU32(0x800) & 0xFFFF);
    }

    [Fact]
    public void MovSreg_LoadsAndStores_MovToCsIsUd_MovSsSetsShadow()
    {
        using var m = new TestMachine();
        const ulong handler = 0x180000;
        m.Load(handler, TestMachine.Assemble(64, handler, a => a.hlt()));
        m.LoadLong64(a =>
        {
            a.mov(ax, TestMachine.Data16);
            a.mov(es, ax);
            a.mov(rbx, -1L);
            a.mov(ebx, es);
            a.mov(__word_ptr[0x900], ds);
            a.db(0x8E, 0xC8); // mov cs, ax
        });
        SystemTestSupport.InstallLongIdt(m, handler);
        m.Run();
        Assert.Equal(TestMachine.Data16, m.Cpu.GetSegment(Seg.Es).Selector);
        Assert.Equal((ulong)TestMachine.Data16, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal((uint)TestMachine.Data32, m.ReadU32(0x900) & 0xFFFF);
        Assert.Equal(Vector.UD, m.Cpu.LastException);
    }

    [Fact]
    public void Protected32_LdsLssLoadFarPointers()
    {
        using var m = new TestMachine();
        m.Load(0x500, [0x78, 0x56, 0x34, 0x12, (byte)TestMachine.Data16, 0x00]);
        m.LoadProtected32(a =>
        {
            a.lds(ebx, __[0x500]);
            a.mov(ax, TestMachine.Data32);
            a.mov(ds, ax);
            a.lss(esi, __[0x500]);
            a.hlt();
        });
        m.Run();
        Assert.Equal(0x12345678UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0x12345678UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(TestMachine.Data32, m.Cpu.GetSegment(Seg.Ds).Selector);
        Assert.Equal(TestMachine.Data16, m.Cpu.GetSegment(Seg.Ss).Selector);
        Assert.Equal(2, m.Cpu._stackSize);
    }

    [Fact]
    public void Swapgs_ExchangesWithKernelGsBase()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(ecx, MsrFile.KernelGsBase);
            a.mov(eax, 0x1000);
            a.mov(edx, 0x1);
            a.wrmsr();
            a.mov(ecx, MsrFile.GsBase);
            a.mov(eax, 0x2000);
            a.mov(edx, 0);
            a.wrmsr();
            a.swapgs();
            a.rdmsr();
            a.mov(rbx, rax);
            a.mov(rsi, rdx);
            a.mov(ecx, MsrFile.KernelGsBase);
            a.rdmsr();
            a.hlt();
        });
        m.Run();
        Assert.Equal(0x1000UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(1UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x2000UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0x1_0000_1000UL, m.Cpu.GetSegment(Seg.Gs).Base);
    }
}
