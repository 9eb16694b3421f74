namespace Emulator.Core.Cpu.Float;

/// <summary>
/// FPATAN as QEMU 7.2 computes it (target/i386/tcg/fpu_helper.c helper_fpatan; docs/x87.md):
/// arctan(ST(1)/ST(0)) in the quadrant of (ST(0), ST(1)), from a quotient x = num/den ≤ 1 in 128
/// bits, the table's arctan(n/8) for the multiple of 1/8 nearest x, and a polynomial for
/// arctan((x − n/8)/(1 + x·n/8)); rounded once by FCW.RC to 64 bits, always inexact.
/// </summary>
public static partial class SoftFloat80
{
    /// <summary>
    /// helper_fpatan, for the caller to store in ST(1) and pop. NaN rules as
    /// <see cref="BinaryNaNResult"/>; ST(1) = ±0 with ST(0) positive: ST(1); ST(0) = +∞ with ST(1)
    /// finite, or ST(0) positive and 2^80 times larger: ST(1)/ST(0) at full precision (an exact
    /// quotient is nudged toward zero so it rounds inexact); the other exact cases (±π, ±π/2,
    /// ±π/4, ±3π/4) from 128-bit constants; otherwise the table and polynomial.
    /// </summary>
    public static Float80 ArcTan(Float80 st0, Float80 st1, ref X87FloatEnv env)
    {
        if (BinaryNaNResult(st0, st1, ref env, out Float80 nan))
        {
            return nan;
        }

        if (IsZero(st1) && !st0.IsNegative)
        {
            return st1;
        }

        int exp0 = st0.BiasedExponent, exp1 = st1.BiasedExponent;
        if (((IsInfinity(st0) && !IsInfinity(st1)) || exp0 - exp1 >= 80) && !st0.IsNegative)
        {
            return ArcTanByDivision(st0, st1, ref env);
        }

        int exp;
        UInt128 sig;
        if (IsZero(st1))
        {
            (exp, sig) = (PiExponent, PiSignificand);
        }
        else if (IsInfinity(st1))
        {
            (exp, sig) = !IsInfinity(st0) ? (HalfPiExponent, PiSignificand)
                : st0.IsNegative ? (ThreeQuarterPiExponent, ThreeQuarterPiSignificand)
                : (QuarterPiExponent, PiSignificand);
        }
        else if (IsZero(st0) || exp1 - exp0 >= 80)
        {
            (exp, sig) = (HalfPiExponent, PiSignificand);
        }
        else if (IsInfinity(st0) || exp0 - exp1 >= 80)
        {
            (exp, sig) = (PiExponent, PiSignificand);
        }
        else
        {
            FloatRounding rounding = env.Rounding;
            X87Precision precision = env.Precision;
            env.Rounding = FloatRounding.NearestEven;
            env.Precision = X87Precision.Extended;
            (exp, sig) = ArcTanFinite(st0, st1, ref env);
            env.Rounding = rounding;
            env.Precision = precision;
        }

        return RoundPackExtended(st1.IsNegative, exp, sig | 1, ref env);
    }

    /// <summary>
    /// helper_fpatan's quotient case: ST(1)/ST(0) at FCW.RC and full precision; when it is exact
    /// and not zero, the true arctangent lies just below it in magnitude, so QEMU rounds the
    /// quotient's significand minus a fraction instead (giving PE, and UE when tiny).
    /// </summary>
    private static Float80 ArcTanByDivision(Float80 st0, Float80 st1, ref X87FloatEnv env)
    {
        X87Precision precision = env.Precision;
        env.Precision = X87Precision.Extended;
        Float80 q = Div(st1, st0, ref env);
        env.Precision = precision;
        if (IsZero(q) || (env.Flags & FloatExceptions.Inexact) != 0)
        {
            return q;
        }

        (int exp, ulong sig) = Normalized(q);
        return RoundPackExtended(q.IsNegative, exp, ((UInt128)(sig - 1) << 64) | ulong.MaxValue, ref env);
    }

    /// <summary>
    /// helper_fpatan's general case (both finite and non-zero, exponents less than 80 apart), at
    /// round-to-nearest and full precision: |arctan| as a biased exponent and a 128-bit
    /// significand, arctan(x) for x = the smaller magnitude over the larger, then π − that, π/2 ± that,
    /// or that itself by quadrant.
    /// </summary>
    private static (int Exp, UInt128 Sig) ArcTanFinite(Float80 st0, Float80 st1, ref X87FloatEnv env)
    {
        (int exp0, ulong sig0) = Normalized(st0);
        (int exp1, ulong sig1) = Normalized(st1);
        bool st0Larger = exp0 > exp1 || (exp0 == exp1 && sig0 >= sig1);

        // Which multiple of π/2 the arctangent of the quotient is added to or subtracted from.
        int adjExp = 0;
        UInt128 adjSig = UInt128.Zero;
        bool adjSubtract = false;
        if (!st0Larger || st0.IsNegative)
        {
            adjExp = st0Larger ? PiExponent : HalfPiExponent;
            adjSig = PiSignificand;
            adjSubtract = st0Larger || !st0.IsNegative;
        }

        (int numExp, ulong numSig, int denExp, ulong denSig) = st0Larger ? (exp1, sig1, exp0, sig0) : (exp0, sig0, exp1, sig1);
        int xExp = numExp - denExp + 0x3FFE;
        UInt128 numerator = (UInt128)numSig << 64;
        if (denSig <= numSig)
        {
            numerator >>= 1;
            xExp++;
        }

        UInt128 x = DivideWide(numerator, (UInt128)denSig << 64);
        (int atanExp, UInt128 atanSig) = ArcTanOfQuotient(xExp, x, ref env);
        if (adjExp == 0)
        {
            return (atanExp, atanSig);
        }

        int exp = AlignForSum(ref atanSig, atanExp, ref adjSig, adjExp);
        return (exp, adjSubtract ? adjSig - atanSig : adjSig + atanSig);
    }

    /// <summary>
    /// arctan(x) for 0 &lt; x ≤ 1 given in 128 bits: n = x·8 rounded to the nearest integer,
    /// t = n/8, y = x − t exactly (normalised, signed), z = y/(1 + t·x) to 128 bits, and
    /// arctan(t) (the table's high and low parts) + z·(1 + P(z²)).
    /// </summary>
    private static (int Exp, UInt128 Sig) ArcTanOfQuotient(int xExp, UInt128 x, ref X87FloatEnv env)
    {
        int n = (int)ToInt(RoundPackExtended(false, xExp + 3, x, ref env), FloatRounding.NearestEven, int.MinValue, int.MaxValue, ref env);
        int tExp = 0, yExp;
        ulong tSig = 0;
        bool ySign = false;
        UInt128 y;
        if (n == 0)
        {
            (yExp, y) = (xExp, x);
        }
        else
        {
            int shift = System.Numerics.BitOperations.LeadingZeroCount((uint)n) + 32;
            tExp = 0x403B - shift;
            tSig = (ulong)n << shift;
            if (tExp == xExp)
            {
                y = x - ((UInt128)tSig << 64);
                ySign = (y >> 127) != 0;
                y = ySign ? UInt128.Zero - y : y;
            }
            else
            {
                // t's exponent is above x's: a power of two at x's exponent would be a nearer multiple of 1/8.
                ySign = true;
                y = ((UInt128)tSig << 64) - ShiftRightJam(x, tExp - xExp);
            }

            if (y == UInt128.Zero)
            {
                yExp = 0;
            }
            else
            {
                int lz = (int)UInt128.LeadingZeroCount(y);
                yExp = tExp - lz;
                y <<= lz;
            }
        }

        (int zExp, UInt128 z) = tExp == 0 || yExp == 0 ? (yExp, y) : DivideByOnePlusTx(yExp, y, tExp, tSig, xExp, x);

        int azExp = 0;
        UInt128 az = UInt128.Zero;
        if (zExp != 0)
        {
            Float80 z2 = RoundPackExtended(false, zExp + zExp - 0x3FFE, MulHigh(z, z), ref env);
            Float80 rest = PolynomialTail(AtanCoefficients, z2, ref env);
            Float80 one = AtanCoefficients[0];
            UInt128 sum = Wide(one) - ShiftRightJam(Wide(rest), one.BiasedExponent - rest.BiasedExponent);
            azExp = one.BiasedExponent + zExp - 0x3FFE;
            az = MulHigh(sum, z);
        }

        if (tExp == 0)
        {
            return (azExp, az);
        }

        AtanEntry entry = AtanTable[n];
        int axExp = entry.High.BiasedExponent;
        UInt128 ax = ShiftRightJam(Wide(entry.Low), axExp - entry.Low.BiasedExponent);
        ax = entry.Low.IsNegative ? Wide(entry.High) - ax : Wide(entry.High) + ax;
        int exp = AlignForSum(ref ax, axExp, ref az, azExp);
        return (exp, ySign ? ax - az : ax + az);
    }

    /// <summary>z = y/(1 + t·x) to 128 bits (t·x &lt; 1), as helper_fpatan divides: the exponent of y/2, then the quotient.</summary>
    private static (int Exp, UInt128 Sig) DivideByOnePlusTx(int yExp, UInt128 y, int tExp, ulong tSig, int xExp, UInt128 x)
    {
        int dExp = tExp + xExp - 0x3FFE;
        UInt128 d = ShiftRightJam(MulHigh(x, tSig), 0x3FFF - dExp) | (UInt128.One << 127);
        int zExp = yExp - 1;
        if ((ulong)(d >> 64) <= (ulong)(y >> 64))
        {
            y >>= 1;
            zExp++;
        }

        return (zExp, DivideWide(y, d));
    }
}
