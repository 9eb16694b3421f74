using Emulator.Core.Cpu;
using Emulator.Core.Cpu.Float;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// The SSE floating-point instructions, each run interpreted and block-compiled (the loop runs
/// three times with a compile threshold of 1, so its last passes run the compiled block): lane
/// selection, which destination bits are kept, memory operand sizes and alignment, MXCSR
/// (rounding, DAZ, FTZ, sticky flags, no #XM) and RFLAGS, against the soft-float library
/// (<see cref="Float.SoftFloatTests"/> checks it against the hardware).
/// </summary>
[Trait("Category", "Unit")]
public class SseFloatTests
{
    private const ulong Data = 0x200000;
    private const int Mem = 0x400;

    private static readonly UInt128[] Inputs =
    [
        Lanes32(0x3FC00000, 0xC0000000, 0x40400000, 0x7FC00001), // 1.5 -2 3 QNaN
        Lanes32(0x3E800000, 0x40000000, 0xC0400000, 0x3F800000), // 0.25 2 -3 1
        Lanes64(0x3FF8000000000000, 0x7FF0000000000000), // 1.5 +inf
        Lanes64(0xBFD0000000000000, 0x7FF0000000000000), // -0.25 +inf
        Lanes32(0x00000001, 0x80400000, 0x7F800001, 0x4F000000), // denormal, -denormal, SNaN, 2^31
        Lanes64(0x41E0000000000000, 0xC1E0000000200000), // 2^31, just below -2^31
        Lanes32(0x3F800000, 0x40400000, 0x00800000, 0x7F7FFFFF), // 1 3 min-normal max
        Lanes64(0x0000000000000001, 0xFFF8000000000000),
    ];

    public static TheoryData<bool> Engines => SystemTestSupport.Engines;

    internal static UInt128 Lanes32(uint a, uint b, uint c, uint d) =>
        ((UInt128)d << 96) | ((UInt128)c << 64) | ((UInt128)b << 32) | a;

    internal static UInt128 Lanes64(ulong lo, ulong hi) => ((UInt128)hi << 64) | lo;

    private static uint L32(UInt128 v, int i) => (uint)(v >> (32 * i));

    private static ulong L64(UInt128 v, int i) => (ulong)(v >> (64 * i));

    private sealed record Outcome(UInt128[] Xmm, uint Mxcsr, ulong Rflags, ulong Rax, int Exception);

    /// <summary>XMM0-7 from <see cref="Inputs"/>, MXCSR as given, <paramref name="body"/>; memory operands at <c>[rsi+0x400]</c> hold <paramref name="memory"/>.</summary>
    private static Outcome Run(bool compiled, uint mxcsr, Action<Assembler> body, byte[]? memory = null)
    {
        var input = new byte[0x108];
        for (int i = 0; i < Inputs.Length; i++)
        {
            BitConverter.TryWriteBytes(input.AsSpan(16 * i), Inputs[i]);
        }

        BitConverter.TryWriteBytes(input.AsSpan(0x100), mxcsr);
        using var m = SystemTestSupport.RunSsePasses(compiled, Data, input, Mem, memory, a =>
        {
            for (int i = 0; i < 8; i++)
            {
                a.movdqu(new AssemblerRegisterXMM(Register.XMM0 + i), __xmmword_ptr[rsi + (16 * i)]);
            }

            a.xor(eax, eax);
            body(a);
            a.pushfq();
            a.pop(rdx);
            a.mov(__qword_ptr[rsi + 0x308], rdx);
            a.mov(__qword_ptr[rsi + 0x310], rax);
            a.stmxcsr(__dword_ptr[rsi + 0x300]);
            for (int i = 0; i < 8; i++)
            {
                a.movdqu(__xmmword_ptr[rsi + 0x200 + (16 * i)], new AssemblerRegisterXMM(Register.XMM0 + i));
            }

        });
        var xmm = new UInt128[8];
        for (int i = 0; i < 8; i++)
        {
            xmm[i] = ((UInt128)m.ReadU64(Data + 0x208 + (16 * (ulong)i)) << 64) | m.ReadU64(Data + 0x200 + (16 * (ulong)i));
        }

        return new Outcome(xmm, m.ReadU32(Data + 0x300), m.ReadU64(Data + 0x308), m.ReadU64(Data + 0x310), m.Cpu.LastException);
    }

    private static SoftFloatStatus Status(uint mxcsr = 0x1F80) => SoftFloatStatus.FromMxcsr(mxcsr);

    [Theory]
    [MemberData(nameof(Engines))]
    public void PackedArithmeticWorksLaneByLaneAndScalarFormsKeepTheUpperLanes(bool compiled)
    {
        var o = Run(compiled, 0x1F80, a =>
        {
            a.addps(xmm0, xmm1);
            a.mulss(xmm1, xmm6);
            a.divpd(xmm2, xmm3);
            a.subsd(xmm3, xmm7);
            a.sqrtps(xmm6, xmm6);
        });
        var s = Status();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(SoftFloat<uint>.Add(L32(Inputs[0], i), L32(Inputs[1], i), ref s), L32(o.Xmm[0], i));
            Assert.Equal(SoftFloat<uint>.Sqrt(L32(Inputs[6], i), ref s), L32(o.Xmm[6], i));
        }

        Assert.Equal(SoftFloat<uint>.Mul(L32(Inputs[1], 0), L32(Inputs[6], 0), ref s), L32(o.Xmm[1], 0));
        Assert.Equal(Inputs[1] >> 32, o.Xmm[1] >> 32);
        Assert.Equal(0xC018000000000000UL, L64(o.Xmm[2], 0)); // 1.5 / -0.25 = -6
        Assert.Equal(0xFFF8000000000000UL, L64(o.Xmm[2], 1)); // inf / inf: the default NaN
        Assert.Equal(SoftFloat<ulong>.Sub(L64(Inputs[3], 0), L64(Inputs[7], 0), ref s), L64(o.Xmm[3], 0));
        Assert.Equal(L64(Inputs[3], 1), L64(o.Xmm[3], 1));
        Assert.Equal(0x1F80u | 0x21, o.Mxcsr); // invalid (inf/inf) and inexact (sqrt 3), no DE ever
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void MinMaxReturnTheSecondOperandForNaNsAndZerosAndSignalInvalid(bool compiled)
    {
        var o = Run(compiled, 0x1F80, a =>
        {
            a.minps(xmm0, xmm1);
            a.maxsd(xmm7, xmm2);
        });
        Assert.Equal(Lanes32(0x3E800000, 0xC0000000, 0xC0400000, 0x3F800000), o.Xmm[0]);
        Assert.Equal(Lanes64(0x3FF8000000000000, 0xFFF8000000000000), o.Xmm[7]);
        Assert.Equal(0x1F81u, o.Mxcsr);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void CmpPredicatesAndComisFlags(bool compiled)
    {
        var results = new UInt128[8];
        for (byte p = 0; p < 8; p++)
        {
            byte predicate = p;
            results[p] = Run(compiled, 0x1F80, a => a.cmpps(xmm0, xmm1, predicate)).Xmm[0];
        }

        // Lanes: 1.5 vs 0.25 (greater), -2 vs 2 (less), 3 vs -3 (greater), QNaN vs 1 (unordered).
        uint t = uint.MaxValue;
        Assert.Equal(Lanes32(0, 0, 0, 0), results[0]);
        Assert.Equal(Lanes32(0, t, 0, 0), results[1]);
        Assert.Equal(Lanes32(0, t, 0, 0), results[2]);
        Assert.Equal(Lanes32(0, 0, 0, t), results[3]);
        Assert.Equal(Lanes32(t, t, t, t), results[4]);
        Assert.Equal(Lanes32(t, 0, t, t), results[5]);
        Assert.Equal(Lanes32(t, 0, t, t), results[6]);
        Assert.Equal(Lanes32(t, t, t, 0), results[7]);
        Assert.Equal(0x1F81u, Run(compiled, 0x1F80, a => a.cmpps(xmm0, xmm1, 1)).Mxcsr);
        Assert.Equal(0x1F80u, Run(compiled, 0x1F80, a => a.cmpps(xmm0, xmm1, 0)).Mxcsr);

        const ulong zpc = 0x45, arith = 0x8D5;
        var greater = Run(compiled, 0x1F80, a => a.comiss(xmm0, xmm1));
        Assert.Equal(0UL, greater.Rflags & arith);
        var less = Run(compiled, 0x1F80, a => a.ucomisd(xmm3, xmm2));
        Assert.Equal(1UL, less.Rflags & arith);
        var unordered = Run(compiled, 0x1F80, a =>
        {
            a.movhlps(xmm6, xmm7);
            a.ucomisd(xmm6, xmm6);
        });
        Assert.Equal(zpc, unordered.Rflags & arith);
        Assert.Equal(0x1F80u, unordered.Mxcsr); // a quiet NaN: UCOMISD does not signal
        var signalled = Run(compiled, 0x1F80, a =>
        {
            a.movhlps(xmm6, xmm7);
            a.comisd(xmm6, xmm6);
        });
        Assert.Equal(0x1F81u, signalled.Mxcsr);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void ConversionsRoundByMxcsrAndGiveTheIntegerIndefinite(bool compiled)
    {
        // Round up (RC=10): 1.5 -> 2, -2 -> -2, 3 -> 3, NaN -> indefinite.
        var o = Run(compiled, 0x5F80, a =>
        {
            a.cvtps2dq(xmm0, xmm0);
            a.cvttps2dq(xmm1, xmm4);
            a.cvtsd2si(rax, xmm5);
            a.cvtpd2ps(xmm5, xmm5);
            a.cvtss2sd(xmm6, xmm6);
        });
        Assert.Equal(Lanes32(2, 0xFFFFFFFE, 3, 0x80000000), o.Xmm[0]);
        Assert.Equal(Lanes32(0, 0, 0x80000000, 0x80000000), o.Xmm[1]); // SNaN, 2^31: indefinite
        Assert.Equal(0x80000000UL, o.Rax); // 2^31 fits in 64 bits
        Assert.Equal(Lanes32(0x4F000000, 0xCF000000, 0, 0), o.Xmm[5]); // -(2^31 + 1) rounded up
        Assert.Equal(Lanes64(0x3FF0000000000000, L64(Inputs[6], 1)), o.Xmm[6]);
        Assert.Equal(0x5F80u | 0x21, o.Mxcsr);

        var t = Run(compiled, 0x1F80, a =>
        {
            a.cvttsd2si(eax, xmm5);
            a.cvtsi2sd(xmm2, rax);
            a.cvtdq2pd(xmm3, xmm1);
        });
        Assert.Equal(0x80000000UL, t.Rax); // 2^31 does not fit in 32 bits: indefinite, zero-extended
        Assert.Equal(Lanes64(0x41E0000000000000, L64(Inputs[2], 1)), t.Xmm[2]);
        var s = Status();
        Assert.Equal(Lanes64(SoftFloat<ulong>.FromInt(0x3E800000, ref s), SoftFloat<ulong>.FromInt(0x40000000, ref s)), t.Xmm[3]);
        Assert.Equal(0x1F81u, t.Mxcsr);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void ReciprocalsAreExactQuotientsAndRaiseNoFlags(bool compiled)
    {
        var o = Run(compiled, 0x1F80, a =>
        {
            a.rcpps(xmm0, xmm6);
            a.rsqrtss(xmm1, xmm6);
        });
        var s = Status();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(SoftFloat<uint>.Div(0x3F800000, L32(Inputs[6], i), ref s), L32(o.Xmm[0], i));
        }

        Assert.Equal(0x3EAAAAABu, L32(o.Xmm[0], 1)); // 1/3 correctly rounded, not a 12-bit estimate
        Assert.Equal(0x3F800000u, L32(o.Xmm[1], 0));
        Assert.Equal(Inputs[1] >> 32, o.Xmm[1] >> 32);
        Assert.Equal(0x1F80u, o.Mxcsr);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void DazAndFtzFollowQemu(bool compiled)
    {
        // DAZ: the denormal lanes of xmm4 read as zeros (no DE: QEMU never sets it).
        var daz = Run(compiled, 0x1FC0, a => a.addps(xmm4, xmm4));
        Assert.Equal(Lanes32(0, 0x80000000, 0x7FC00001, 0x4F800000), daz.Xmm[4]);
        Assert.Equal(0x1FC1u, daz.Mxcsr);

        // FTZ: min-normal / -3 is below the normal range: -0 with UE and PE; without FTZ a denormal.
        var ftz = Run(compiled, 0x9F80, a => a.divps(xmm6, xmm1));
        Assert.Equal(0x80000000u, L32(ftz.Xmm[6], 2));
        Assert.Equal(0x9FB0u, ftz.Mxcsr);
        var plain = Run(compiled, 0x1F80, a => a.divps(xmm6, xmm1));
        var s = Status();
        Assert.Equal(SoftFloat<uint>.Div(0x00800000, 0xC0400000, ref s), L32(plain.Xmm[6], 2));
        Assert.Equal(0x002AAAABu | 0x80000000u, L32(plain.Xmm[6], 2));
        Assert.Equal(0x1FB0u, plain.Mxcsr);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void MemoryOperandsAndAlignment(bool compiled)
    {
        var mem = new byte[32];
        BitConverter.TryWriteBytes(mem.AsSpan(1), 0x40800000u); // 4.0f at +1
        BitConverter.TryWriteBytes(mem.AsSpan(16), 0x4010000000000000UL); // 4.0 at +16
        var scalar = Run(compiled, 0x1F80, a =>
        {
            a.addss(xmm1, __dword_ptr[rsi + Mem + 1]);
            a.movsd(xmm2, __qword_ptr[rsi + Mem + 16]);
            a.unpcklps(xmm0, __xmmword_ptr[rsi + Mem + 1]);
        }, mem);
        Assert.Equal(-1, scalar.Exception);
        Assert.Equal(0x40880000u, L32(scalar.Xmm[1], 0)); // 0.25 + 4
        Assert.Equal(Lanes64(0x4010000000000000, 0), scalar.Xmm[2]); // a load zeroes the upper half
        var packed = Run(compiled, 0x1F80, a => a.addps(xmm1, __xmmword_ptr[rsi + Mem + 1]), mem);
        Assert.Equal(Vector.GP, packed.Exception);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Sse3HorizontalAndDuplicates(bool compiled)
    {
        var o = Run(compiled, 0x1F80, a =>
        {
            a.haddps(xmm1, xmm6);
            a.addsubpd(xmm2, xmm3);
            a.movshdup(xmm3, xmm0);
            a.movddup(xmm4, xmm5);
            a.shufpd(xmm5, xmm7, 2);
            a.movmskpd(eax, xmm3);
        });
        var s = Status();
        Assert.Equal(
            Lanes32(0x40100000, SoftFloat<uint>.Add(0xC0400000, 0x3F800000, ref s), 0x40800000, SoftFloat<uint>.Add(0x00800000, 0x7F7FFFFF, ref s)),
            o.Xmm[1]); // 0.25+2, -3+1, 1+3, min+max
        Assert.Equal(Lanes64(0x3FFC000000000000, 0x7FF0000000000000), o.Xmm[2]); // 1.5-(-0.25), inf+inf
        Assert.Equal(Lanes32(0xC0000000, 0xC0000000, 0x7FC00001, 0x7FC00001), o.Xmm[3]);
        Assert.Equal(Lanes64(0x41E0000000000000, 0x41E0000000000000), o.Xmm[4]);
        Assert.Equal(Lanes64(0x41E0000000000000, 0xFFF8000000000000), o.Xmm[5]);
        Assert.Equal(0b01UL, o.Rax); // movmskpd of xmm3 after movshdup: lane 0 negative
    }
}
