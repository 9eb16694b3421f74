using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>Near transfers: JMP, Jcc against a flag table, JCXZ family, LOOP family, CALL, RET (Intel SDM Vol. 2).</summary>
[Trait("Category", "Unit")]
public class ControlFlowTests
{
    private static readonly Action<Assembler, Label>[] Jcc =
    [
        (a, l) => a.jo(l), (a, l) => a.jno(l), (a, l) => a.jb(l), (a, l) => a.jae(l),
        (a, l) => a.je(l), (a, l) => a.jne(l), (a, l) => a.jbe(l), (a, l) => a.ja(l),
        (a, l) => a.js(l), (a, l) => a.jns(l), (a, l) => a.jp(l), (a, l) => a.jnp(l),
        (a, l) => a.jl(l), (a, l) => a.jge(l), (a, l) => a.jle(l), (a, l) => a.jg(l),
    ];

    /// <summary>The SDM's condition table (Vol. 1, Table B-1) evaluated on an RFLAGS image.</summary>
    private static bool Expected(int cc, ulong f)
    {
        bool cf = (f & RFlags.CF) != 0, zf = (f & RFlags.ZF) != 0, sf = (f & RFlags.SF) != 0;
        bool of = (f & RFlags.OF) != 0, pf = (f & RFlags.PF) != 0;
        bool r = (cc >> 1) switch
        {
            0 => of,
            1 => cf,
            2 => zf,
            3 => cf || zf,
            4 => sf,
            5 => pf,
            6 => sf != of,
            _ => zf || sf != of,
        };
        return (cc & 1) == 0 ? r : !r;
    }

    private static ulong FlagCombo(int i) =>
        ((i & 1) != 0 ? RFlags.CF : 0) | ((i & 2) != 0 ? RFlags.PF : 0) | ((i & 4) != 0 ? RFlags.ZF : 0) |
        ((i & 8) != 0 ? RFlags.SF : 0) | ((i & 16) != 0 ? RFlags.OF : 0);

    /// <summary>Emits condition <paramref name="cc"/>'s Jcc, recording at <paramref name="slot"/> 0x11 when taken and 0x10 when not.</summary>
    private static void EmitRecordedJcc(Assembler a, int cc, ulong slot)
    {
        var taken = a.CreateLabel();
        var next = a.CreateLabel();
        Jcc[cc](a, taken);
        a.mov(__byte_ptr[slot], 0x10);
        a.jmp(next);
        a.Label(ref taken);
        a.mov(__byte_ptr[slot], 0x11);
        a.Label(ref next);
    }

    [Theory]
    [InlineData(16, true)]
    [InlineData(16, false)]
    [InlineData(32, true)]
    [InlineData(32, false)]
    [InlineData(64, true)]
    [InlineData(64, false)]
    public void Jcc_EveryConditionAgainstFlagTable(int bitness, bool shortBranches)
    {
        using var m = new TestMachine();
        ulong results = bitness == 16 ? 0x2000UL : 0x300000UL;
        void Build(Assembler a)
        {
            a.PreferShortBranch = shortBranches;
            for (int combo = 0; combo < 32; combo++)
            {
                for (int cc = 0; cc < 16; cc++)
                {
                    ulong slot = results + (ulong)(combo * 16 + cc);
                    a.push((int)FlagCombo(combo));
                    if (bitness == 16)
                    {
                        a.popf();
                    }
                    else if (bitness == 32)
                    {
                        a.popfd();
                    }
                    else
                    {
                        a.popfq();
                    }

                    EmitRecordedJcc(a, cc, slot);
                }
            }

            a.hlt();
        }

        m.Load(bitness, Build);
        Assert.Equal(StopReason.Halted, m.Run());
        for (int combo = 0; combo < 32; combo++)
        {
            for (int cc = 0; cc < 16; cc++)
            {
                byte got = (byte)m.Bus.Read(results + (ulong)(combo * 16 + cc), 1);
                Assert.True(Expected(cc, FlagCombo(combo)) ? got == 0x11 : got == 0x10, $"cc {cc} flags {FlagCombo(combo):X}: {got:X}");
            }
        }
    }

    public static TheoryData<ulong, ulong> ComparePairs => new()
    {
        { 0, 0 }, { 1, 2 }, { 2, 1 }, { 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000 },
        { 0x8000_0000_0000_0000, 1 }, { ulong.MaxValue, 0 }, { 5, 5 }, { 0x80, 0x7F },
    };

    /// <summary>Jcc straight after CMP at every width (the lazy-flag fast path) against host comparisons.</summary>
    [Theory]
    [MemberData(nameof(ComparePairs))]
    public void Jcc_AfterCmpMatchesHostComparison(ulong x, ulong y)
    {
        using var m = new TestMachine();
        ulong results = 0x300000;
        m.LoadLong64(a =>
        {
            int idx = 0;
            foreach (int size in new[] { 1, 2, 4, 8 })
            {
                for (int cc = 0; cc < 16; cc++)
                {
                    ulong slot = results + (ulong)idx++;
                    a.mov(rax, x);
                    a.mov(rbx, y);
                    switch (size)
                    {
                        case 1: a.cmp(al, bl); break;
                        case 2: a.cmp(ax, bx); break;
                        case 4: a.cmp(eax, ebx); break;
                        default: a.cmp(rax, rbx); break;
                    }

                    EmitRecordedJcc(a, cc, slot);
                }
            }

            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        int i = 0;
        foreach (int size in new[] { 1, 2, 4, 8 })
        {
            int shift = 64 - size * 8;
            ulong ux = (x << shift) >> shift, uy = (y << shift) >> shift;
            long sx = (long)(x << shift), sy = (long)(y << shift);
            ulong diff = ux - uy;
            bool sfBit = ((diff << shift) >> 63) != 0;
            bool ofBit = ((long)((ux << shift) - (uy << shift)) < 0) != (sx < sy);
            bool pfBit = (System.Numerics.BitOperations.PopCount(diff & 0xFF) & 1) == 0;
            bool[] expect =
            [
                ofBit, !ofBit, ux < uy, ux >= uy, ux == uy, ux != uy, ux <= uy, ux > uy,
                sfBit, !sfBit, pfBit, !pfBit, sx < sy, sx >= sy, sx <= sy, sx > sy,
            ];
            for (int cc = 0; cc < 16; cc++)
            {
                byte got = (byte)m.Bus.Read(results + (ulong)i++, 1);
                Assert.True(expect[cc] ? got == 0x11 : got == 0x10, $"size {size} cc {cc}");
            }
        }
    }

    [Fact]
    public void Jmp_RelativeIndirectRegisterAndMemory_Long64()
    {
        using var m = new TestMachine();
        m.WriteU64(0x300000, 0x100800);
        FlowTestSupport.Place(m, 64, 0x100400, a =>
        {
            a.mov(ebx, 2);
            a.mov(rax, __qword_ptr[0x300000]);
            a.jmp(__qword_ptr[0x300000]);
        });
        FlowTestSupport.Place(m, 64, 0x100800, a =>
        {
            a.mov(ecx, 3);
            a.hlt();
        });
        m.LoadLong64(a =>
        {
            a.PreferShortBranch = false;
            var far = a.CreateLabel();
            a.jmp(far);
            a.hlt();
            a.Label(ref far);
            a.mov(rdx, 0x100400);
            a.jmp(rdx);
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(2UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(3UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(0x100801UL + 5, m.Cpu.Rip);
    }

    /// <summary>A 16-bit near JMP wraps IP at 64 KiB; a JMP r/m16 in 32-bit code truncates EIP to 16 bits.</summary>
    [Fact]
    public void Jmp_SixteenBitTargetsWrap()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 32, 0x1234, a =>
        {
            a.mov(ecx, 7);
            a.hlt();
        });
        m.LoadProtected32(a =>
        {
            a.mov(eax, 0xABCD1234);
            a.jmp(ax);
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(7UL, m.Cpu.GetGpr(Gpr.Rcx));

        using var r = new TestMachine();
        r.LoadReal(a =>
        {
            a.mov(ax, 0x0010);
            a.jmp(ax);
        });
        FlowTestSupport.Place(r, 16, 0x10, a =>
        {
            a.mov(cx, 9);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, r.Run());
        Assert.Equal(9UL, r.Cpu.GetGpr(Gpr.Rcx));
    }

    /// <summary>
    /// JCXZ/JECXZ/JRCXZ test the count register at their address size: with only bits above the
    /// narrow width set, the narrow form jumps and the wide form falls through. Encoded by hand
    /// (Iced's assembler refuses JECXZ in 64-bit code).
    /// </summary>
    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(64)]
    public void JcxzFamily_TestsOnlyTheAddressSizedCount(int bitness)
    {
        using var m = new TestMachine();
        void Narrow(Assembler a, byte disp)
        {
            if (bitness == 16)
            {
                a.db(0xE3, disp);
            }
            else
            {
                a.db(0x67, 0xE3, disp);
            }
        }

        void Wide(Assembler a, byte disp)
        {
            if (bitness == 16)
            {
                a.db(0x67, 0xE3, disp);
            }
            else
            {
                a.db(0xE3, disp);
            }
        }

        void AddOne(Assembler a)
        {
            if (bitness == 16)
            {
                a.add(bx, 1);
            }
            else
            {
                a.add(ebx, 1);
            }
        }

        void Build(Assembler a)
        {
            a.mov(ebx, 0);
            if (bitness == 64)
            {
                a.mov(rcx, 0x1_0000_0000UL);
            }
            else
            {
                a.mov(ecx, 0x10000);
            }

            Narrow(a, 1);
            a.hlt();
            Wide(a, 3);
            AddOne(a);
            a.mov(ecx, 0);
            Wide(a, 1);
            a.hlt();
            AddOne(a);
            a.hlt();
        }

        m.Load(bitness, Build);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(2UL, m.Cpu.GetGpr(Gpr.Rbx));
    }

    /// <summary>
    /// LOOP counts in the address-size register: with 67h in 32-bit code in CX only (ECX's upper
    /// half untouched); in real mode CX = 0 runs 65536 times; with 67h in 64-bit code in ECX,
    /// zero-extended. <paramref name="loop"/> is the LOOP encoding back to "inc ebx".
    /// </summary>
    [Theory]
    [InlineData(32, 0x1234_0003UL, new byte[] { 0x67, 0xE2, 0xFC }, 3UL, 0x1234_0000UL)]
    [InlineData(16, 0xFFFF_0000UL, new byte[] { 0xE2, 0xFC }, 0x10000UL, 0xFFFF_0000UL)]
    [InlineData(64, 0xAAAA_0000_0000_0002UL, new byte[] { 0x67, 0xE2, 0xFB }, 2UL, 0UL)]
    public void Loop_CountsInTheAddressSizeRegister(int bitness, ulong count, byte[] loop, ulong iterations, ulong countAfter)
    {
        using var m = new TestMachine();
        m.Load(bitness, a =>
        {
            if (bitness == 64)
            {
                a.mov(rcx, count);
            }
            else
            {
                a.mov(ecx, (uint)count);
            }

            a.mov(ebx, 0);
            a.inc(ebx);
            a.db(loop);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(iterations, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(countAfter, m.Cpu.GetGpr(Gpr.Rcx));
    }

    /// <summary>LOOPE stops on ZF = 0, LOOPNE on ZF = 1, both also on count exhaustion; flags are not changed by the decrement.</summary>
    [Fact]
    public void LoopeLoopne_StopOnZeroFlagOrCount()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            var l1 = a.CreateLabel();
            var l2 = a.CreateLabel();
            var l3 = a.CreateLabel();

            // LOOPE: compare rbx with 0 while counting; ZF = 1 only while rbx == 0.
            a.mov(ecx, 10);
            a.mov(ebx, 0);
            a.mov(edx, 0);
            a.Label(ref l1);
            a.inc(edx);
            a.cmp(ebx, 0);
            a.mov(ebx, 1);
            a.loope(l1);
            a.mov(__qword_ptr[0x300000], rcx);
            a.mov(__qword_ptr[0x300008], rdx);

            // LOOPNE: stops when the counter value 4 is reached (ZF = 1).
            a.mov(ecx, 10);
            a.mov(edx, 0);
            a.Label(ref l2);
            a.inc(edx);
            a.cmp(edx, 4);
            a.loopne(l2);
            a.mov(__qword_ptr[0x300010], rcx);

            // LOOPNE to exhaustion.
            a.mov(ecx, 3);
            a.mov(edx, 0);
            a.Label(ref l3);
            a.inc(edx);
            a.cmp(edx, 100);
            a.loopne(l3);
            a.mov(__qword_ptr[0x300018], rdx);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(8UL, m.ReadU64(0x300000));
        Assert.Equal(2UL, m.ReadU64(0x300008));
        Assert.Equal(6UL, m.ReadU64(0x300010));
        Assert.Equal(3UL, m.ReadU64(0x300018));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(64)]
    public void CallRet_RelativeRegisterMemoryAndImmediateRelease(int bitness)
    {
        using var m = new TestMachine();
        ulong sub = bitness == 16 ? 0x9000UL : 0x200000UL;
        ulong ptr = bitness == 16 ? 0x2000UL : 0x300000UL;
        FlowTestSupport.Place(m, bitness, sub, a =>
        {
            // Adds 1 to EBX and releases the one stack argument with RET imm16.
            a.inc(ebx);
            a.ret((ushort)(bitness / 8));
        });
        void Build(Assembler a)
        {
            var local = a.CreateLabel();
            var done = a.CreateLabel();
            a.mov(ebx, 0);
            a.call(local);
            a.jmp(done);
            a.Label(ref local);
            a.inc(ebx);
            a.ret();
            a.Label(ref done);
            if (bitness == 64)
            {
                a.push(0);
                a.mov(rax, sub);
                a.call(rax);
                a.push(0);
                a.call(__qword_ptr[ptr]);
            }
            else if (bitness == 32)
            {
                a.push(0);
                a.mov(eax, (uint)sub);
                a.call(eax);
                a.push(0);
                a.call(__dword_ptr[ptr]);
            }
            else
            {
                a.push(0);
                a.mov(ax, (ushort)sub);
                a.call(ax);
                a.push(0);
                a.call(__word_ptr[ptr]);
            }

            a.hlt();
        }

        m.Bus.Write(ptr, 8, sub);
        m.Load(bitness, Build);

        ulong sp0 = m.Cpu.GetGpr(Gpr.Rsp);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(3UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(sp0, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>CALL with a 66h prefix in 32-bit code pushes a 2-byte return address and truncates EIP.</summary>
    [Fact]
    public void Call_OperandSize16InProtectedMode()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 32, 0x5000, a =>
        {
            a.mov(ebx, __dword_ptr[esp]);
            a.hlt();
        });
        m.LoadProtected32(a =>
        {
            a.mov(eax, 0xFFFF5000);
            a.db(0x66, 0xFF, 0xD0); // call ax
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(TestMachine.StackTop - 2, m.Cpu.GetGpr(Gpr.Rsp));
        Assert.Equal(0x5000UL + 3 + 1, m.Cpu.Rip);
        Assert.Equal(0x0008UL, m.Cpu.GetGpr(Gpr.Rbx) & 0xFFFF);
    }
}
