namespace Emulator.Core.Cpu.Float;

/// <summary>
/// F2XM1, FYL2X and FYL2XP1 as QEMU 7.2 computes them (target/i386/tcg/fpu_helper.c
/// helper_f2xm1, helper_fyl2x, helper_fyl2xp1, helper_fyl2x_common; docs/x87.md): special operands
/// by rule, the rest through a table, a polynomial evaluated with floatx80 arithmetic at
/// round-to-nearest and full precision, and 128-bit fixed-point steps, rounded once at the end by
/// FCW.RC to 64 bits whatever FCW.PC says, always inexact.
/// </summary>
public static partial class SoftFloat80
{
    private const int Exp2M1TableMiddle = 32;

    /// <summary>
    /// helper_f2xm1: 2^x − 1 for −1 ≤ x ≤ 1. Outside, ±∞ and invalid encodings: IE and the default
    /// NaN; ±1 exactly: 1 and −0.5; |x| &lt; 2^−79: x·ln 2 in 128 bits (zeros unchanged); otherwise
    /// t, the table's point nearest x (a multiple of 1/32), y = x − t, and 2^t·(2^y − 1) + (2^t − 1).
    /// </summary>
    public static Float80 TwoToXMinusOne(Float80 x, ref X87FloatEnv env)
    {
        if (IsInvalidEncoding(x))
        {
            env.Flags |= FloatExceptions.Invalid;
            return DefaultNaN;
        }

        if (IsNaN(x))
        {
            return QuietOperand(x, ref env);
        }

        int exp = x.BiasedExponent;
        if (exp > 0x3FFF || (exp == 0x3FFF && x.Significand != 1UL << 63))
        {
            env.Flags |= FloatExceptions.Invalid;
            return DefaultNaN;
        }

        if (exp == 0x3FFF)
        {
            return x.IsNegative ? new Float80(1UL << 63, 0xBFFE) : x;
        }

        if (exp < 0x3FB0)
        {
            if (IsZero(x))
            {
                return x;
            }

            (int e, ulong sig) = Normalized(x);
            return RoundPackExtended(x.IsNegative, e, MulHigh(Ln2Significand, sig) | 1, ref env);
        }

        FloatRounding rounding = env.Rounding;
        X87Precision precision = env.Precision;
        env.Rounding = FloatRounding.NearestEven;
        env.Precision = X87Precision.Extended;
        Float80 result = TwoToXMinusOneByTable(x, rounding, ref env);
        env.Rounding = rounding;
        env.Precision = precision;
        return result;
    }

    /// <summary>The table path of helper_f2xm1, entered at round-to-nearest and full precision; the final rounding by <paramref name="rounding"/>.</summary>
    private static Float80 TwoToXMinusOneByTable(Float80 x, FloatRounding rounding, ref X87FloatEnv env)
    {
        int n = Exp2M1TableMiddle + (int)ToInt(Scale(x, 5, ref env), FloatRounding.NearestEven, int.MinValue, int.MaxValue, ref env);
        Exp2Entry entry = Exp2Table[n];
        Float80 y = Sub(x, entry.T, ref env);
        if (IsZero(y))
        {
            // QEMU returns the table's t itself here (not 2^t − 1), with the flags replaced by PE alone.
            env.Flags = FloatExceptions.Inexact;
            return entry.T;
        }

        // (2^y − 1)/y = lead + the rest of the polynomial, in 128 bits, then times y.
        Float80 rest = Add(Exp2M1Coefficients[0], PolynomialTail(Exp2M1Coefficients, y, ref env), ref env);
        int exp = Exp2M1Lead.BiasedExponent;
        UInt128 sig = AddSmaller(Wide(Exp2M1Lead), exp, Exp2M1Lead.IsNegative, rest);
        sig = MulHigh(sig, y.Significand);
        exp += y.BiasedExponent - 0x3FFE;
        bool sign = Exp2M1Lead.IsNegative ^ y.IsNegative;
        if (n != Exp2M1TableMiddle)
        {
            // × 2^t, + (2^t − 1), whose sign is the result's.
            sig = MulHigh(sig, entry.Exp2.Significand);
            exp += entry.Exp2.BiasedExponent - 0x3FFE;
            int bExp = entry.Exp2M1.BiasedExponent;
            UInt128 bSig = Wide(entry.Exp2M1);
            if (bExp < exp)
            {
                bSig = ShiftRightJam(bSig, exp - bExp);
            }
            else if (exp < bExp)
            {
                sig = ShiftRightJam(sig, bExp - exp);
                exp = bExp;
            }

            if (sign == entry.Exp2M1.IsNegative)
            {
                sig = ShiftRightJam(sig, 1) + ShiftRightJam(bSig, 1);
                exp++;
            }
            else
            {
                sig = bSig - sig;
                sign = entry.Exp2M1.IsNegative;
            }
        }

        env.Rounding = rounding;
        return RoundPackExtended(sign, exp, sig | 1, ref env);
    }

    /// <summary>
    /// helper_fyl2x: ST(1)·log2 ST(0), for the caller to store in ST(1) and pop. NaN rules as
    /// <see cref="BinaryNaNResult"/>; ST(0) &lt; 0 (not −0): IE; ST(1) = ±∞: ±∞ or ∓∞ as ST(0)
    /// is above or below 1 (IE at 1); ST(0) = +∞: ±∞ (IE with ST(1) = 0); ST(0) = ±0: ∓∞ with ZE
    /// (IE with ST(1) = 0); ST(1) = ±0: ±0 or ∓0; ST(0) = 1: +0 or −0 by ST(1)'s sign; an exact
    /// power of 2: its exponent times ST(1); otherwise the exponent plus log2 of the rest.
    /// </summary>
    public static Float80 YLog2X(Float80 st0, Float80 st1, ref X87FloatEnv env)
    {
        if (BinaryNaNResult(st0, st1, ref env, out Float80 nan))
        {
            return nan;
        }

        if (st0.IsNegative && !IsZero(st0))
        {
            env.Flags |= FloatExceptions.Invalid;
            return DefaultNaN;
        }

        if (IsInfinity(st1))
        {
            int cmp = Compare(st0, One, false, ref env);
            if (cmp == 0 || cmp == 2)
            {
                env.Flags |= FloatExceptions.Invalid;
                return DefaultNaN;
            }

            return cmp < 0 ? Negate(st1) : st1;
        }

        if (IsInfinity(st0))
        {
            if (IsZero(st1))
            {
                env.Flags |= FloatExceptions.Invalid;
                return DefaultNaN;
            }

            return st1.IsNegative ? Negate(st0) : st0;
        }

        if (IsZero(st0))
        {
            if (IsZero(st1))
            {
                env.Flags |= FloatExceptions.Invalid;
                return DefaultNaN;
            }

            env.Flags |= FloatExceptions.DivideByZero;
            return new Float80(1UL << 63, (ushort)(st1.IsNegative ? 0x7FFF : 0xFFFF));
        }

        if (IsZero(st1))
        {
            return Compare(st0, One, false, ref env) < 0 ? Negate(st1) : st1;
        }

        if (Compare(st0, One, false, ref env) == 0)
        {
            return st1.IsNegative ? Negate(Zero) : Zero;
        }

        FloatRounding rounding = env.Rounding;
        X87Precision precision = env.Precision;
        env.Rounding = FloatRounding.NearestEven;
        env.Precision = X87Precision.Extended;
        Float80 result = YLog2XFinite(st0, st1, rounding, ref env);
        env.Rounding = rounding;
        env.Precision = precision;
        return result;
    }

    /// <summary>
    /// helper_fyl2x's general case (both finite, non-zero, ST(0) positive and not 1), entered at
    /// round-to-nearest and full precision: ST(0) = 2^k·m with m in (√2/2, √2], log2 ST(0) =
    /// k + log2(1 + (m − 1)), the sum in 128 bits, times ST(1).
    /// </summary>
    private static Float80 YLog2XFinite(Float80 st0, Float80 st1, FloatRounding rounding, ref X87FloatEnv env)
    {
        (int exp0, ulong sig0) = Normalized(st0);
        (int exp1, ulong sig1) = Normalized(st1);
        int k = exp0 - 0x3FFF + (sig0 > 0xB504F333F9DE6484UL ? 1 : 0);
        Float80 mMinus1 = Sub(Scale(st0, -k, ref env), One, ref env);
        if (IsZero(mMinus1))
        {
            env.Rounding = rounding;
            return Mul(FromInt64(k, ref env), st1, ref env);
        }

        bool sign = mMinus1.IsNegative;
        (int exp, UInt128 sig) = Log2OnePlus(mMinus1, ref env);
        if (k != 0)
        {
            bool kSign = k < 0;
            uint magnitude = (uint)Math.Abs(k);
            int shift = System.Numerics.BitOperations.LeadingZeroCount(magnitude) + 32;
            int kExp = 0x403E - shift;
            UInt128 kSig = (UInt128)((ulong)magnitude << shift) << 64;
            sig = ShiftRightJam(sig, kExp - exp);
            sig = sign == kSign ? kSig + sig : kSig - sig;
            exp = kExp;
            sign = kSign;
        }

        // QEMU normalises a denormal ST(1) a second time here; one with a single leading zero came
        // out of the first with exponent 0 and now gets 1: the result is twice the true one.
        exp1 = exp1 == 0 ? 1 : exp1;
        sig = MulHigh(sig, sig1);
        exp += exp1 - 0x3FFE;
        env.Rounding = rounding;
        return RoundPackExtended(sign ^ st1.IsNegative, exp, sig | 1, ref env);
    }

    /// <summary>
    /// helper_fyl2xp1: ST(1)·log2(ST(0) + 1), for the caller to store in ST(1) and pop. NaN rules
    /// as <see cref="BinaryNaNResult"/>; ST(0) outside (√2/2 − 1, √2 − 1) (AMD's range, wider than
    /// Intel's): IE; a zero operand or ST(1) = ±∞: ST(0)·ST(1) as FMUL computes it (FCW.PC
    /// applies); |ST(0)| &lt; 2^−79: ST(0)·log2 e·ST(1) in 128 bits; otherwise the log2 polynomial.
    /// </summary>
    public static Float80 YLog2XPlusOne(Float80 st0, Float80 st1, ref X87FloatEnv env)
    {
        if (BinaryNaNResult(st0, st1, ref env, out Float80 nan))
        {
            return nan;
        }

        int exp0 = st0.BiasedExponent;
        ulong limit = st0.IsNegative ? 0x95F619980C4336F7UL : 0xD413CCCFE7799211UL;
        if (exp0 > 0x3FFD || (exp0 == 0x3FFD && st0.Significand > limit))
        {
            env.Flags |= FloatExceptions.Invalid;
            return DefaultNaN;
        }

        if (IsZero(st0) || IsZero(st1) || st1.BiasedExponent == 0x7FFF)
        {
            return Mul(st0, st1, ref env);
        }

        bool sign = st0.IsNegative ^ st1.IsNegative;
        (int exp1, ulong sig1) = Normalized(st1);
        if (exp0 < 0x3FB0)
        {
            (int e, ulong sig0) = Normalized(st0);
            UInt128 product = MulHigh(MulHigh(Log2ESignificand, sig0), sig1);
            return RoundPackExtended(sign, e + 1 + exp1 - 0x3FFE, product | 1, ref env);
        }

        FloatRounding rounding = env.Rounding;
        X87Precision precision = env.Precision;
        env.Rounding = FloatRounding.NearestEven;
        env.Precision = X87Precision.Extended;
        (int exp, UInt128 sig) = Log2OnePlus(st0, ref env);
        sig = MulHigh(sig, sig1);
        exp += exp1 - 0x3FFE;
        env.Rounding = rounding;
        Float80 result = RoundPackExtended(sign, exp, sig | 1, ref env);
        env.Precision = precision;
        return result;
    }

    /// <summary>
    /// helper_fyl2x_common: |log2(1 + x)| as a biased exponent and 128-bit significand (the sign
    /// is x's), for 1 + x in [√2/2, √2], x not tiny, at round-to-nearest and full precision:
    /// t = x/(2 + x) to 128 bits, then t·(lead + P(t²)), P evaluated in floatx80.
    /// </summary>
    private static (int Exp, UInt128 Sig) Log2OnePlus(Float80 x, ref X87FloatEnv env)
    {
        int xExp = x.BiasedExponent;
        int dExp = x.IsNegative ? 0x3FFF : 0x4000;
        UInt128 d = ShiftRightJam(Wide(x), dExp - xExp);
        d = x.IsNegative ? UInt128.Zero - d : d | (UInt128.One << 127);
        int tExp = xExp - dExp + 0x3FFE;
        UInt128 numerator = Wide(x);
        if ((ulong)(d >> 64) <= x.Significand)
        {
            numerator >>= 1;
            tExp++;
        }

        UInt128 t = DivideWide(numerator, d);
        Float80 t2 = RoundPackExtended(false, tExp + tExp - 0x3FFE, MulHigh(t, t), ref env);
        Float80 rest = Add(Log2Coefficients[0], PolynomialTail(Log2Coefficients, t2, ref env), ref env);
        int exp = Log2Lead.BiasedExponent;
        UInt128 sig = AddSmaller(Wide(Log2Lead), exp, Log2Lead.IsNegative, rest);
        return (exp + tExp - 0x3FFE, MulHigh(sig, t));
    }

    /// <summary>
    /// c[n]·x, then (c[k] + ·)·x for k = n−1 … 1, in floatx80 at the caller's environment (QEMU's
    /// unrolled accum chains); c[0], the constant term, is left to the caller.
    /// </summary>
    private static Float80 PolynomialTail(Float80[] c, Float80 x, ref X87FloatEnv env)
    {
        Float80 accum = Mul(c[^1], x, ref env);
        for (int k = c.Length - 2; k >= 1; k--)
        {
            accum = Mul(Add(c[k], accum, ref env), x, ref env);
        }

        return accum;
    }

    /// <summary>
    /// The NaN rules helper_fyl2x, helper_fyl2xp1 and helper_fpatan share, in their order: an
    /// SNaN in ST(0), then in ST(1), is silenced with IE (a pseudo-SNaN too: QEMU tests for
    /// signalling NaNs before invalid encodings); then an invalid encoding gives IE and the
    /// default NaN; then a QNaN in ST(0), then in ST(1), passes through.
    /// </summary>
    private static bool BinaryNaNResult(Float80 st0, Float80 st1, ref X87FloatEnv env, out Float80 result)
    {
        if (IsSignalingNaN(st0) || IsSignalingNaN(st1))
        {
            env.Flags |= FloatExceptions.Invalid;
            result = SilenceNaN(IsSignalingNaN(st0) ? st0 : st1);
        }
        else if (IsInvalidEncoding(st0) || IsInvalidEncoding(st1))
        {
            env.Flags |= FloatExceptions.Invalid;
            result = DefaultNaN;
        }
        else if (IsNaN(st0) || IsNaN(st1))
        {
            result = IsNaN(st0) ? st0 : st1;
        }
        else
        {
            result = default;
            return false;
        }

        return true;
    }

    /// <summary>A NaN operand as a unary helper returns it: an SNaN silenced with IE, a QNaN unchanged.</summary>
    private static Float80 QuietOperand(Float80 x, ref X87FloatEnv env)
    {
        if (IsSignalingNaN(x))
        {
            env.Flags |= FloatExceptions.Invalid;
            return SilenceNaN(x);
        }

        return x;
    }
}
