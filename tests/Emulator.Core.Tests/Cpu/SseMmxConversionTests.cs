using Emulator.Core.Cpu;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// CVTPI2PS, CVTPI2PD, CVTPS2PI, CVTTPS2PI, CVTPD2PI and CVTTPD2PI as QEMU 7.2 runs them
/// (target/i386/ops_sse.h helper_cvtpi2ps …, emit.c.inc gen_CVTPI2Px …): two lanes each, MXCSR
/// rounding and flags, the integer indefinite for NaN and out-of-range values, the switch to MMX
/// state (TOP = 0, every tag valid) after the memory operand is loaded, and no CR0.TS/EM test.
/// Each case runs interpreted and block-compiled.
/// </summary>
[Trait("Category", "Unit")]
public class SseMmxConversionTests
{
    private const ulong Data = 0x200000;
    private const int Mem = 0x400;

    public static TheoryData<bool> Engines => SystemTestSupport.Engines;

    private static UInt128 Lanes32(uint a, uint b, uint c, uint d) => SseFloatTests.Lanes32(a, b, c, d);

    private static UInt128 Lanes64(ulong lo, ulong hi) => SseFloatTests.Lanes64(lo, hi);

    private static ulong Pair(uint lo, uint hi) => ((ulong)hi << 32) | lo;

    private sealed record Outcome(UInt128[] Xmm, ulong[] Mmx, uint Mxcsr, int Top, byte TagValid, int Exception);

    /// <summary>
    /// XMM0-3 and MM0-3 from the arrays, MXCSR as given, two values pushed on the x87 stack
    /// (TOP = 6), then <paramref name="body"/>; memory operands at <c>[rsi+0x400]</c> hold <paramref name="memory"/>.
    /// </summary>
    private static Outcome Run(bool compiled, uint mxcsr, UInt128[] xmm, ulong[] mmx, Action<Assembler> body, byte[]? memory = null, bool taskSwitched = false)
    {
        var input = new byte[0x108];
        for (int i = 0; i < 4; i++)
        {
            BitConverter.TryWriteBytes(input.AsSpan(16 * i), xmm[i]);
            BitConverter.TryWriteBytes(input.AsSpan(0x80 + (8 * i)), mmx[i]);
        }

        BitConverter.TryWriteBytes(input.AsSpan(0x100), mxcsr);
        using var m = SystemTestSupport.RunSsePasses(compiled, Data, input, Mem, memory, a =>
        {
            for (int i = 0; i < 4; i++)
            {
                a.movdqu(new AssemblerRegisterXMM(Register.XMM0 + i), __xmmword_ptr[rsi + (16 * i)]);
                a.movq(new AssemblerRegisterMM(Register.MM0 + i), __qword_ptr[rsi + 0x80 + (8 * i)]);
            }

            a.fninit();
            a.fld1();
            a.fld1();
            if (taskSwitched)
            {
                a.mov(rax, cr0);
                a.or(eax, 0xC); // TS and EM
                a.mov(cr0, rax);
            }

            body(a);
            if (taskSwitched)
            {
                a.mov(rax, cr0);
                a.and(eax, ~0xC);
                a.mov(cr0, rax);
            }

            a.stmxcsr(__dword_ptr[rsi + 0x300]);
        });
        var fpu = m.Cpu.Fpu;
        return new Outcome(
            [.. Enumerable.Range(0, 4).Select(i => fpu.Xmm[i])],
            [.. Enumerable.Range(0, 4).Select(fpu.ReadMmx)],
            fpu.Mxcsr,
            fpu.Top,
            fpu.TagValid,
            m.Cpu.LastException);
    }

    private static readonly UInt128[] Floats =
    [
        Lanes32(0x3FC00000, 0xC0200000, 0x11111111, 0x22222222), // 1.5 -2.5 (upper lanes unused)
        Lanes32(0x7FC00000, 0x4F000000, 0, 0), // QNaN, 2^31
        Lanes64(0x4004000000000000, 0xC202A05F20000000), // 2.5, -1e10
        Lanes64(0xBFEFFF2E48E8A71E, 0x41DFFFFFFFF9999A), // -0.9999, 2147483647.9
    ];

    private static readonly ulong[] Ints =
    [
        Pair(3, unchecked((uint)-7)),
        Pair(0x7FFFFFFF, 0x80000000),
        Pair(1, 2),
        Pair(5, 6),
    ];

    [Theory]
    [MemberData(nameof(Engines))]
    public void IntegerPairsToFloatsRoundByMxcsrAndEnterMmxState(bool compiled)
    {
        var mem = new byte[32];
        BitConverter.TryWriteBytes(mem.AsSpan(3), Pair(0x7FFFFFFF, 0xFFFFFFFF)); // m64, unaligned
        var nearest = Run(compiled, 0x1F80, Floats, Ints, a =>
        {
            a.cvtpi2ps(xmm0, mm0);
            a.cvtpi2ps(xmm1, mm1);
            a.cvtpi2pd(xmm2, __qword_ptr[rsi + Mem + 3]);
        }, mem);
        Assert.Equal(-1, nearest.Exception);
        Assert.Equal(Lanes32(0x40400000, 0xC0E00000, 0x11111111, 0x22222222), nearest.Xmm[0]); // 3 -7, upper half kept
        Assert.Equal(Lanes32(0x4F000000, 0xCF000000, 0, 0), nearest.Xmm[1]); // 2^31-1 rounds to 2^31
        Assert.Equal(Lanes64(0x41DFFFFFFFC00000, 0xBFF0000000000000), nearest.Xmm[2]); // exact as doubles
        Assert.Equal(0x1FA0u, nearest.Mxcsr); // PE only
        Assert.Equal(0, nearest.Top);
        Assert.Equal(0xFF, nearest.TagValid);

        var down = Run(compiled, 0x3F80, Floats, Ints, a => a.cvtpi2ps(xmm1, mm1));
        Assert.Equal(Lanes32(0x4EFFFFFF, 0xCF000000, 0, 0), down.Xmm[1]);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void FloatsToIntegerPairsRoundOrTruncateAndGiveTheIndefinite(bool compiled)
    {
        var mem = new byte[32];
        BitConverter.TryWriteBytes(mem.AsSpan(1), 0x4004000000000000UL); // 2.5 at +1: m128, unaligned
        BitConverter.TryWriteBytes(mem.AsSpan(9), 0xC202A05F20000000UL); // -1e10
        var nearest = Run(compiled, 0x1F80, Floats, Ints, a =>
        {
            a.cvtps2pi(mm0, xmm0);
            a.cvttps2pi(mm1, xmm0);
            a.cvtpd2pi(mm2, __xmmword_ptr[rsi + Mem + 1]);
            a.cvttpd2pi(mm3, xmm3);
        }, mem);
        Assert.Equal(-1, nearest.Exception);
        Assert.Equal(Pair(2, unchecked((uint)-2)), nearest.Mmx[0]); // 1.5 -> 2, -2.5 -> -2 (to even)
        Assert.Equal(Pair(1, unchecked((uint)-2)), nearest.Mmx[1]);
        Assert.Equal(Pair(2, 0x80000000), nearest.Mmx[2]); // -1e10 out of range: indefinite
        Assert.Equal(Pair(0, 0x7FFFFFFF), nearest.Mmx[3]);
        Assert.Equal(0x1FA1u, nearest.Mxcsr); // IE and PE
        Assert.Equal(0, nearest.Top);
        Assert.Equal(0xFF, nearest.TagValid);

        var down = Run(compiled, 0x3F80, Floats, Ints, a =>
        {
            a.cvtps2pi(mm0, xmm0);
            a.cvtps2pi(mm1, xmm1);
        });
        Assert.Equal(Pair(1, unchecked((uint)-3)), down.Mmx[0]);
        Assert.Equal(Pair(0x80000000, 0x80000000), down.Mmx[1]); // NaN, 2^31: indefinite
        Assert.Equal(0x3FA1u, down.Mxcsr);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void AFaultBeforeTheGeneratorLeavesTheX87StateAlone(bool compiled)
    {
        // gen_CVTPI2Px/CVTPx2PI enter MMX state; the memory load and disas_insn_new's LOCK test come before.
        var faultingLoad = Run(compiled, 0x1F80, Floats, Ints, a =>
        {
            a.mov(rbx, unchecked((long)0x8000000000000000)); // non-canonical: #GP
            a.cvtpi2ps(xmm0, __qword_ptr[rbx]);
        });
        var locked = Run(compiled, 0x1F80, Floats, Ints, a => a.db(0xF0, 0x0F, 0x2D, 0xC0)); // lock cvtps2pi mm0, xmm0
        Assert.Equal(Vector.GP, faultingLoad.Exception);
        Assert.Equal(Vector.UD, locked.Exception);
        Assert.All([faultingLoad, locked], o => Assert.Equal((6, 0xC0), (o.Top, o.TagValid)));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void NoCr0TsOrEmCheck(bool compiled)
    {
        // QEMU 7.2's table entries for 0F 2A/2C/2D MMX forms have no exception class (decode-new.c.inc).
        var o = Run(compiled, 0x1F80, Floats, Ints, a => a.cvttps2pi(mm2, xmm0), taskSwitched: true);
        Assert.Equal(-1, o.Exception);
        Assert.Equal(Pair(1, unchecked((uint)-2)), o.Mmx[2]);
        Assert.Equal(0, o.Top);
    }
}
