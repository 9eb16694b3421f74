namespace Emulator.Core.Cpu.Float;

/// <summary>
/// The fixed-point primitives QEMU 7.2's x87 transcendentals compute with beside floatx80
/// arithmetic (include/fpu/softfloat-macros.h: mul128By64To192, mul128To256, estimateDiv128To64,
/// add192/sub192; fpu/softfloat.c: normalizeRoundAndPackFloatx80). A significand here is 128
/// bits with the integer bit at bit 127 and a biased exponent as floatx80 has it, so the value is
/// sig / 2^127 · 2^(exp − 16383). QEMU keeps only the high halves of its wide products and
/// divides by estimate, without a sticky bit: these do the same, since the last bits of the
/// results depend on it.
/// </summary>
public static partial class SoftFloat80
{
    /// <summary>The high 128 bits of the 192-bit product (QEMU's mul128By64To192, its low word dropped).</summary>
    private static UInt128 MulHigh(UInt128 a, ulong b)
    {
        UInt128 high = (UInt128)(ulong)(a >> 64) * b;
        UInt128 low = (UInt128)(ulong)a * b;
        return high + (low >> 64);
    }

    /// <summary>The high 128 bits of the 256-bit product (QEMU's mul128To256, its low words dropped).</summary>
    private static UInt128 MulHigh(UInt128 a, UInt128 b)
    {
        ulong aHigh = (ulong)(a >> 64), aLow = (ulong)a, bHigh = (ulong)(b >> 64), bLow = (ulong)b;
        UInt128 cross1 = (UInt128)aHigh * bLow;
        UInt128 cross2 = (UInt128)aLow * bHigh;
        UInt128 middle = (((UInt128)aLow * bLow) >> 64) + (ulong)cross1 + (ulong)cross2;
        return (UInt128)aHigh * bHigh + (cross1 >> 64) + (cross2 >> 64) + (middle >> 64);
    }

    /// <summary>
    /// estimateDiv128To64: a 64-bit quotient of <paramref name="a"/> / <paramref name="b"/>
    /// (b ≥ 2^63) from two 32-bit steps, between the truncated quotient and 2 above it; all ones
    /// when the quotient does not fit. The callers keep its error, so it is reproduced step by step.
    /// </summary>
    private static ulong EstimateDiv(UInt128 a, ulong b)
    {
        ulong aHigh = (ulong)(a >> 64);
        if (b <= aHigh)
        {
            return ulong.MaxValue;
        }

        ulong bHigh32 = b >> 32;
        ulong q = (bHigh32 << 32) <= aHigh ? 0xFFFFFFFF00000000UL : (aHigh / bHigh32) << 32;
        UInt128 rem = a - (UInt128)b * q;
        while ((long)(ulong)(rem >> 64) < 0)
        {
            q -= 0x100000000UL;
            rem += (UInt128)b << 32;
        }

        ulong middle = (ulong)(rem >> 32);
        q |= (bHigh32 << 32) <= middle ? 0xFFFFFFFFUL : middle / bHigh32;
        return q;
    }

    /// <summary>
    /// A 128-bit quotient num / den (den's integer bit set, num &lt; 2·den after the caller's
    /// pre-shift) as QEMU forms it in helper_fpatan and helper_fyl2x_common: an estimated high
    /// word corrected against the exact 192-bit remainder, then an uncorrected estimate for the
    /// low word.
    /// </summary>
    private static UInt128 DivideWide(UInt128 numerator, UInt128 denominator)
    {
        ulong denHigh = (ulong)(denominator >> 64);
        ulong q = EstimateDiv(numerator, denHigh);

        // The remainder numerator·2^64 − denominator·q in 192 bits: its high 128 and its low word.
        UInt128 productLow = (UInt128)(ulong)denominator * q;
        UInt128 productHigh = (UInt128)denHigh * q + (productLow >> 64);
        ulong remLow = 0 - (ulong)productLow;
        UInt128 remHigh = numerator - productHigh - ((ulong)productLow != 0 ? UInt128.One : UInt128.Zero);
        while ((remHigh >> 127) != 0)
        {
            q--;
            ulong sum = remLow + (ulong)denominator;
            remHigh += denHigh + (sum < remLow ? UInt128.One : UInt128.Zero);
            remLow = sum;
        }

        return ((UInt128)q << 64) | EstimateDiv(((UInt128)(ulong)remHigh << 64) | remLow, denHigh);
    }

    /// <summary>
    /// normalizeRoundAndPackFloatx80 at floatx80_precision_x: normalises the 128-bit significand,
    /// then rounds to 64 bits by FCW.RC alone (FCW.PC does not apply), with the extended exponent
    /// range, overflow and underflow as <see cref="RoundPack"/> gives them.
    /// </summary>
    private static Float80 RoundPackExtended(bool sign, int exp, UInt128 sig, ref X87FloatEnv env)
    {
        int shift = (int)UInt128.LeadingZeroCount(sig);
        var p = new Parts { Cls = Class.Normal, Sign = sign, Exp = exp - shift - 16383, Frac = sig << shift };
        X87Precision precision = env.Precision;
        env.Precision = X87Precision.Extended;
        Float80 r = Pack(p, ref env);
        env.Precision = precision;
        return r;
    }

    /// <summary>normalizeFloatx80Subnormal: a denormal's (or pseudo-denormal's) significand shifted up and its exponent 1 − shift.</summary>
    private static (int Exp, ulong Sig) Normalized(Float80 a)
    {
        if (a.BiasedExponent != 0)
        {
            return (a.BiasedExponent, a.Significand);
        }

        int shift = System.Numerics.BitOperations.LeadingZeroCount(a.Significand);
        return (1 - shift, a.Significand << shift);
    }

    /// <summary>A floatx80's significand as the high word of a 128-bit one.</summary>
    private static UInt128 Wide(Float80 a) => (UInt128)a.Significand << 64;

    /// <summary>
    /// The sum of a 128-bit value and a floatx80 much smaller than it with the same or the other
    /// sign (the polynomial's leading term plus the rest: helper_f2xm1, helper_fyl2x_common and
    /// helper_fpatan), the smaller one aligned with a sticky bit; no carry out is possible.
    /// </summary>
    private static UInt128 AddSmaller(UInt128 lead, int leadExp, bool leadSign, Float80 rest)
    {
        UInt128 aligned = ShiftRightJam(Wide(rest), leadExp - rest.BiasedExponent);
        return leadSign == rest.IsNegative ? lead + aligned : lead - aligned;
    }

    /// <summary>
    /// Two 128-bit magnitudes with exponents brought to one above the larger (both shifted right
    /// with a sticky bit, so a sum cannot carry out), as helper_f2xm1 and helper_fpatan add them.
    /// </summary>
    private static int AlignForSum(ref UInt128 a, int aExp, ref UInt128 b, int bExp)
    {
        if (bExp >= aExp)
        {
            a = ShiftRightJam(a, bExp - aExp + 1);
            b = ShiftRightJam(b, 1);
            return bExp + 1;
        }

        a = ShiftRightJam(a, 1);
        b = ShiftRightJam(b, aExp - bExp + 1);
        return aExp + 1;
    }
}
