using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// LAR/LSL/VERR/VERW and the segment-load checks as QEMU 7.2 does them (docs/cpu-segments.md),
/// on the test GDT: 0x08 32-bit code (readable, DPL 0), 0x10 data (writable, DPL 0), limit 0x2F.
/// The CPU fuzzer compares the same against QEMU with random selectors.
/// </summary>
[Trait("Category", "Unit")]
public class DescriptorQueryTests
{
    private const ulong Handler = 0x180000;

    private static TestMachine Run64(Action<Iced.Intel.Assembler> program)
    {
        var m = new TestMachine();
        m.Load(Handler, TestMachine.Assemble(64, Handler, a => a.hlt()));
        m.LoadLong64(program);
        SystemTestSupport.InstallLongIdt(m, Handler);
        m.Run();
        return m;
    }

    private static bool Zf(TestMachine m) => (m.Cpu.RFlagsValue & RFlags.ZF) != 0;

    [Fact]
    public void Lar_DataSegment_SetsZfAndWritesTheAttributesZeroExtended()
    {
        using var m = Run64(a =>
        {
            a.mov(rax, -1L);
            a.mov(ecx, TestMachine.Data32);
            a.lar(rax, rcx);
            a.hlt();
        });
        Assert.True(Zf(m));
        Assert.Equal(0x00C09300UL, m.Cpu.GetGpr(Gpr.Rax));
    }

    [Fact]
    public void Lsl_CodeSegment_GivesTheGranularLimit()
    {
        using var m = Run64(a =>
        {
            a.mov(ecx, TestMachine.Code32);
            a.lsl(eax, ecx);
            a.hlt();
        });
        Assert.True(Zf(m));
        Assert.Equal(0xFFFFFFFFUL, m.Cpu.GetGpr(Gpr.Rax));
    }

    [Theory]
    [InlineData(0x0000)] // null
    [InlineData(0x0030)] // one past the GDT's limit
    [InlineData(0x0013)] // data segment DPL 0 asked with RPL 3
    [InlineData(0x0014)] // the LDT, which is null
    public void Lar_RefusedSelector_ClearsZfAndKeepsTheDestination(int selector)
    {
        using var m = Run64(a =>
        {
            a.mov(eax, 0x1234);
            a.mov(ecx, selector);
            a.cmp(eax, eax);
            a.lar(eax, ecx);
            a.hlt();
        });
        Assert.False(Zf(m));
        Assert.Equal(0x1234UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(-1, m.Cpu.LastException);
    }

    [Theory]
    [InlineData(TestMachine.Code32, false, true)]
    [InlineData(TestMachine.Code32, true, false)]
    [InlineData(TestMachine.Data32, true, true)]
    [InlineData(TestMachine.Data32 | 3, false, false)]
    public void VerrVerw_FollowQemusRules(int selector, bool write, bool expected)
    {
        using var m = Run64(a =>
        {
            a.mov(ecx, selector);
            if (write)
            {
                a.verw(cx);
            }
            else
            {
                a.verr(cx);
            }

            a.hlt();
        });
        Assert.Equal(expected, Zf(m));
    }

    [Fact]
    public void Lar_InRealMode_IsUndefined()
    {
        using var m = new TestMachine();
        m.Load(0x600, [0xF4]); // HLT, where the IVT sends #UD (vector 6 at 0x18: 0000:0600)
        m.Load(6 * 4, [0x00, 0x06, 0x00, 0x00]);
        m.LoadReal(a =>
        {
            a.mov(cx, 0x10);
            a.lar(ax, cx);
            a.hlt();
        });
        m.Run();
        Assert.Equal(Vector.UD, m.Cpu.LastException);
    }

    [Theory]
    [InlineData(0x0B, false)] // code segment DPL 0 with RPL 3: #GP
    [InlineData(0x08, true)] // readable code into DS: allowed
    public void MovDs_ChecksPrivilegeLikeQemu(int selector, bool loads)
    {
        using var m = Run64(a =>
        {
            a.mov(eax, selector);
            a.mov(ds, ax);
            a.hlt();
        });
        Assert.Equal(loads ? -1 : Vector.GP, m.Cpu.LastException);
        Assert.Equal(loads ? (ushort)selector : TestMachine.Data32, m.Cpu.GetSegment(Seg.Ds).Selector);
    }

    [Fact]
    public void MovSs_CodeSegment_IsGeneralProtection()
    {
        using var m = Run64(a =>
        {
            a.mov(eax, TestMachine.Code32);
            a.mov(ss, ax);
            a.hlt();
        });
        Assert.Equal(Vector.GP, m.Cpu.LastException);
    }

    [Fact]
    public void Wrmsr_SysenterCs_KeepsTheSelectorOnly()
    {
        using var m = Run64(a =>
        {
            a.mov(ecx, 0x174);
            a.mov(eax, unchecked((int)0xDEADBEEF));
            a.mov(edx, 0x12345678);
            a.wrmsr();
            a.xor(eax, eax);
            a.rdmsr();
            a.hlt();
        });
        Assert.Equal(0xBEEFUL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rdx));
    }
}
