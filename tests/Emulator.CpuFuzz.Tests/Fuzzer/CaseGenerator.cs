using Iced.Intel;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// Random cases from a seed (<see cref="System.Random"/> with a seed is one fixed algorithm, so a
/// seed is the same case on every run). Instruction forms come from Iced's opcode table
/// (<see cref="InstructionForms"/>): a family is drawn uniformly, then one of its encodings, then
/// operands — registers (never RSP, which keeps the stack in its page), memory
/// <c>[base + disp8]</c> into the scratch page with the base loaded just before, immediates.
/// </summary>
public static class CaseGenerator
{
    /// <summary>Values that hit the edges of the arithmetic more often than uniform ones.</summary>
    private static readonly ulong[] Interesting =
        [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
         0x7FFFFFFFFFFFFFFF, 0x8000000000000000, ulong.MaxValue, 31, 32, 63, 64];

    /// <summary>The arithmetic flags, DF and reserved bit 1; IF and TF stay clear (no interrupts, no #DB).</summary>
    private const ulong RandomFlags = 0x001 | 0x004 | 0x010 | 0x040 | 0x080 | 0x400 | 0x800;

    public static FuzzCase Generate(FuzzMode mode, int seed, int itemCount)
    {
        var random = new Random(seed);
        var gprs = new ulong[16];
        for (int i = 0; i < 16; i++)
        {
            gprs[i] = RandomValue(random);
        }

        gprs[4] = FuzzLayout.StackStart;
        ulong flags = ((ulong)random.NextInt64() & RandomFlags) | 2;
        var xmm = new UInt128[16];
        for (int i = 0; i < 16; i++)
        {
            xmm[i] = XmmValue(random);
        }

        uint mxcsr = RandomMxcsr(random);
        var forms = InstructionForms.For(mode);
        var items = new List<FuzzItem>(itemCount);
        for (int i = 0; i < itemCount; i++)
        {
            items.Add(forms.NextItem(random));
        }

        int memorySeed = random.Next();

        // The x87 setup from a stream of its own, so the draws above stay what they were.
        return new FuzzCase(mode, gprs, flags, xmm, mxcsr, memorySeed, items) { X87 = X87Setup.Random(new Random(memorySeed ^ 0x87)) };
    }

    /// <summary>
    /// An XMM register: one time in three random bits, otherwise binary32 or binary64 lanes drawn
    /// from the floating-point edges (zeros, infinities, quiet and signalling NaNs, denormals, the
    /// normal range's ends, the integer-conversion limits) or near 1.0, so that lanes meet lanes
    /// of similar magnitude and the SSE arithmetic rounds, cancels and overflows.
    /// </summary>
    public static UInt128 XmmValue(Random random)
    {
        switch (random.Next(3))
        {
            case 0:
                return new UInt128(RandomValue(random), RandomValue(random));
            case 1:
                UInt128 v = 0;
                for (int lane = 0; lane < 4; lane++)
                {
                    v |= (UInt128)FloatLane(random, 8, 23) << (32 * lane);
                }

                return v;
            default:
                return new UInt128(FloatLane(random, 11, 52), FloatLane(random, 11, 52));
        }
    }

    /// <summary>
    /// MXCSR for a case: the rounding mode random; one time in eight each DAZ, FTZ, some exception
    /// masks cleared (QEMU 7.2 ignores the masks: no #XM) and some flags already set.
    /// </summary>
    public static uint RandomMxcsr(Random random)
    {
        uint mxcsr = 0x1F80u | ((uint)random.Next(4) << 13);
        mxcsr |= random.Next(8) == 0 ? 0x40u : 0;
        mxcsr |= random.Next(8) == 0 ? 0x8000u : 0;
        mxcsr &= random.Next(8) == 0 ? ~((uint)random.Next(64) << 7) : ~0u;
        mxcsr |= random.Next(8) == 0 ? (uint)random.Next(64) : 0;
        return mxcsr;
    }

    /// <summary>One IEEE value of the format with <paramref name="expBits"/> and <paramref name="fracBits"/>, edge-biased.</summary>
    private static ulong FloatLane(Random random, int expBits, int fracBits)
    {
        ulong sign = (ulong)random.Next(2) << (expBits + fracBits);
        ulong expMax = (1UL << expBits) - 1, bias = expMax >> 1;
        ulong fracMask = (1UL << fracBits) - 1, frac = (ulong)random.NextInt64() & fracMask;
        ulong exp = random.Next(10) switch
        {
            0 => 0, // zero or denormal
            1 => expMax, // infinity or NaN
            2 => (ulong)random.Next(1, 3), // the bottom of the normal range
            3 => expMax - (ulong)random.Next(1, 3), // the top
            4 => bias + 31 + (ulong)random.Next(-1, 2) + (ulong)(random.Next(2) * 32), // around 2^31 and 2^63
            _ => bias + (ulong)random.Next(-4, 5), // near 1.0
        };
        frac = random.Next(4) switch
        {
            0 => 0,
            1 => frac & (fracMask >> random.Next(fracBits)), // few bits set (a denormal, a signalling NaN)
            2 => frac | (1UL << (fracBits - 1)), // top bit set (a quiet NaN)
            _ => frac,
        };
        return sign | (exp << fracBits) | frac;
    }

    public static ulong RandomValue(Random random) => random.Next(4) == 0
        ? Interesting[random.Next(Interesting.Length)]
        : (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
}
