using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>String instructions: REP forms against a naive element model, overlap, DF, faults mid-REP.</summary>
[Trait("Category", "Unit")]
public class StringsTests
{
    private const ulong Buf = 0x200000;

    private static byte[] Pattern(int n)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++)
        {
            b[i] = (byte)(i * 7 + 3);
        }

        return b;
    }

    /// <summary>The architectural definition: one element at a time, SI/DI stepping by ±size.</summary>
    private static void NaiveMovs(byte[] mem, long si, long di, long count, int size, bool down)
    {
        for (long k = 0; k < count; k++)
        {
            // The whole element is read before any of it is written.
            var element = mem.AsSpan((int)si, size).ToArray();
            element.CopyTo(mem, di);

            si += down ? -size : size;
            di += down ? -size : size;
        }
    }

    public static TheoryData<int, int, int, bool> MovsCases()
    {
        var d = new TheoryData<int, int, int, bool>();
        foreach (int size in new[] { 1, 2, 4, 8 })
        {
            foreach (int delta in new[] { 1, 3, 8, 64, -1, -5, 0x3000, -0x2800, 0 })
            {
                d.Add(size, delta, 0x1800 / size + 3, false);
            }

            d.Add(size, 1, 100, true);
            d.Add(size, -3, 100, true);
            d.Add(size, 0x1000, 700, true);
        }

        return d;
    }

    [Theory]
    [MemberData(nameof(MovsCases))]
    public void RepMovs_MatchesElementLoop(int size, int delta, int count, bool down)
    {
        using var m = new TestMachine();
        const int region = 0x10000;
        var mem = Pattern(region);
        m.Load(Buf, mem);
        long si = down ? 0x8000 : 0x4FF3, di = si + delta;
        m.LoadLong64(a =>
        {
            a.mov(rsi, (long)Buf + si);
            a.mov(rdi, (long)Buf + di);
            a.mov(rcx, count);
            switch (size)
            {
                case 1: a.rep.movsb(); break;
                case 2: a.rep.movsw(); break;
                case 4: a.rep.movsd(); break;
                default: a.rep.movsq(); break;
            }

            a.hlt();
        });
        if (down)
        {
            m.Cpu.RFlagsValue |= RFlags.DF;
        }

        Assert.Equal(StopReason.Halted, m.Run());
        NaiveMovs(mem, si, di, count, size, down);
        long step = (down ? -size : size) * (long)count;
        var actual = m.Cpu.ReadLinearForDebugger(Buf, region);
        int firstDiff = mem.AsSpan().CommonPrefixLength(actual);
        Assert.True(firstDiff == region, $"first difference at 0x{firstDiff:X}");
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(Buf + (ulong)(si + step), m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(Buf + (ulong)(di + step), m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(5, m.Cpu.InstructionCount);
        Assert.Equal(count - 1, m.Cpu.RepIterations);
    }

    [Theory]
    [InlineData(1, 0x11UL)]
    [InlineData(2, 0x2211UL)]
    [InlineData(4, 0x44332211UL)]
    [InlineData(8, 0x8877665544332211UL)]
    public void RepStos_FillsAcrossPages(int size, ulong value)
    {
        using var m = new TestMachine();
        const int count = 0x900;
        m.LoadLong64(a =>
        {
            a.mov(rax, 0x8877665544332211UL);
            a.mov(rdi, (long)Buf + 0xFFD);
            a.mov(rcx, count);
            switch (size)
            {
                case 1: a.rep.stosb(); break;
                case 2: a.rep.stosw(); break;
                case 4: a.rep.stosd(); break;
                default: a.rep.stosq(); break;
            }

            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        var bytes = m.Cpu.ReadLinearForDebugger(Buf + 0xFFD, count * size + 1);
        for (int i = 0; i < count * size; i++)
        {
            Assert.Equal((byte)(value >> (8 * (i % size))), bytes[i]);
        }

        Assert.Equal(0, bytes[count * size]);
        Assert.Equal(Buf + 0xFFD + (ulong)(count * size), m.Cpu.GetGpr(Gpr.Rdi));
    }

    [Fact]
    public void RepeCmpsb_StopsAtFirstDifference()
    {
        using var m = new TestMachine();
        m.Load(Buf, "hello world"u8);
        m.Load(Buf + 0x100, "hello wOrld"u8);
        m.LoadLong64(a =>
        {
            a.mov(rsi, (long)Buf);
            a.mov(rdi, (long)Buf + 0x100);
            a.mov(rcx, 11);
            a.repe.cmpsb();
            a.hlt();
        });
        m.Run();
        Assert.Equal(3UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(Buf + 8, m.Cpu.GetGpr(Gpr.Rsi));
        ulong f = m.Cpu.RFlagsValue;
        Assert.Equal(0UL, f & RFlags.ZF);
        Assert.Equal(0UL, f & RFlags.CF);
    }

    [Fact]
    public void RepneScasb_ComputesStringLength()
    {
        using var m = new TestMachine();
        m.Load(Buf, "abcdefg\0"u8);
        m.LoadLong64(a =>
        {
            a.mov(rdi, (long)Buf);
            a.mov(rcx, -1L);
            a.mov(eax, 0);
            a.repne.scasb();
            a.hlt();
        });
        m.Run();
        Assert.Equal(ulong.MaxValue - 8, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(RFlags.ZF, m.Cpu.RFlagsValue & RFlags.ZF);
    }

    [Fact]
    public void Lods_And_SingleElementForms_Step()
    {
        using var m = new TestMachine();
        m.Load(Buf, Pattern(64));
        m.LoadLong64(a =>
        {
            a.mov(rsi, (long)Buf);
            a.mov(rdi, (long)Buf + 0x100);
            a.lodsd();
            a.movsw();
            a.stosq();
            a.cmpsb();
            a.hlt();
        });
        m.Run();
        var p = Pattern(64);
        Assert.Equal(BitConverter.ToUInt32(p, 0), (uint)m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(BitConverter.ToUInt16(p, 4), (ushort)m.ReadU64(Buf + 0x100));
        Assert.Equal(Buf + 7, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(Buf + 0x10B, m.Cpu.GetGpr(Gpr.Rdi));
    }

    [Fact]
    public void Real16_AddressSizeAndSegmentOverride()
    {
        using var m = new TestMachine();
        m.Load(0x30000, "ABCDEFGH"u8);
        m.LoadReal(a =>
        {
            a.mov(ax, 0x3000);
            a.mov(fs, ax);
            a.mov(ax, 0x4000);
            a.mov(es, ax);
            a.mov(si, 0);
            a.mov(di, 0xFFFE);
            a.mov(cx, 4);
            a.db(0x64, 0xF3, 0xA4); // fs rep movsb
            a.hlt();
        });
        m.Run();
        Assert.Equal((byte)'A', m.Cpu.ReadLinearForDebugger(0x4FFFE, 1)[0]);
        Assert.Equal((byte)'B', m.Cpu.ReadLinearForDebugger(0x4FFFF, 1)[0]);
        Assert.Equal("CD"u8.ToArray(), m.Cpu.ReadLinearForDebugger(0x40000, 2));
        Assert.Equal(2UL, m.Cpu.GetGpr(Gpr.Rdi));
    }

    [Fact]
    public void RepMovs_PageFaultMidway_LeavesRestartableStateAndCompletes()
    {
        using var m = new TestMachine();
        var src = Pattern(0x2000);
        m.Load(0x300000, src);
        const ulong handler = 0x180000;
        m.Load(handler, TestMachine.Assemble(64, handler, a => a.hlt()));
        m.LoadLong64(a =>
        {
            a.mov(rsi, 0x300800L);
            a.mov(rdi, 0x400800L);
            a.mov(rcx, 0x1000L);
            a.rep.movsb();
            a.hlt();
        });
        SystemTestSupport.InstallLongIdt(m, handler);

        // Map 2-4 MiB through a 4 KiB page table with the page at 0x401000 not present.
        const ulong pt = 0x40000;
        for (ulong i = 0; i < 512; i++)
        {
            m.WriteU64(pt + i * 8, (0x400000 + i * 0x1000) | 3);
        }

        m.WriteU64(pt + 8, 0);
        m.WriteU64(TestMachine.PageTables + 0x2000 + 2 * 8, pt | 3);
        m.Cpu.FlushTlb();

        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(Vector.PF, m.Cpu.LastException);
        Assert.Equal(0x401000UL, m.Cpu.Cr2);
        Assert.Equal(0x800UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(0x301000UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x401000UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(src.AsSpan(0x800, 0x800).ToArray(), m.Cpu.ReadLinearForDebugger(0x400800, 0x800));

        // The handler "fixes" the page; restart the faulting instruction.
        m.WriteU64(pt + 8, 0x401000 | 3);
        m.Cpu._rip = m.ReadU64(m.Cpu.GetGpr(Gpr.Rsp) + 8);
        m.Cpu._gpr[Gpr.Rsp] = TestMachine.StackTop;
        m.Cpu._halted = false;
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(src.AsSpan(0x800, 0x1000).ToArray(), m.Cpu.ReadLinearForDebugger(0x400800, 0x1000));
    }

    [Fact]
    public void RepMovs_IntoDecodedCode_InvalidatesIt()
    {
        using var m = new TestMachine();

        // The program overwrites its own next instruction (hlt) with "mov eax, 0x2A; hlt".
        var patch = TestMachine.Assemble(64, 0, a =>
        {
            a.mov(eax, 0x2A);
            a.hlt();
        });
        m.Load(Buf, patch);
        m.Load(Buf + (ulong)patch.Length, new byte[] { 0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4 });
        static void Prefix(Iced.Intel.Assembler a, ulong next)
        {
            a.mov(rsi, (long)Buf);
            a.mov(rdi, (long)next);
            a.mov(ecx, 16);
            a.rep.movsb();
        }

        ulong next = 0x100000 + (ulong)TestMachine.Assemble(64, 0x100000, a => Prefix(a, 0x100000)).Length;
        m.LoadLong64(a =>
        {
            Prefix(a, next);
            a.hlt();
            a.hlt();
            a.hlt();
            a.hlt();
            a.hlt();
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x2AUL, m.Cpu.GetGpr(Gpr.Rax));
    }
}
