using System.Numerics;

namespace Emulator.Core.Cpu.Float;

/// <summary>
/// floatx80 add, subtract, multiply, divide, square root, remainder, round-to-integer, scale and
/// compare as QEMU 7.2 computes them (fpu/softfloat-parts.c.inc parts_addsub, parts_mul, parts_div,
/// parts_sqrt, parts_modrem, parts_round_to_int, parts_scalbn, parts_compare): the exact result,
/// or one carrying a sticky bit, rounded once to FCW.PC's precision.
/// </summary>
public static partial class SoftFloat80
{
    public static Float80 Add(Float80 a, Float80 b, ref X87FloatEnv env) => AddSub(a, b, false, ref env);

    public static Float80 Sub(Float80 a, Float80 b, ref X87FloatEnv env) => AddSub(a, b, true, ref env);

    private static Float80 AddSub(Float80 x, Float80 y, bool subtract, ref X87FloatEnv env)
    {
        if (!Unpack(x, ref env, out Parts a) | !Unpack(y, ref env, out Parts b))
        {
            return DefaultNaN;
        }

        return Pack(AddSubParts(a, b, subtract, ref env), ref env);
    }

    private static Parts AddSubParts(Parts a, Parts b, bool subtract, ref X87FloatEnv env)
    {
        bool bSign = b.Sign ^ subtract;
        bool anyNaN = a.IsNaN || b.IsNaN;
        if (a.Sign != bSign)
        {
            if (a.Cls == Class.Normal && b.Cls == Class.Normal)
            {
                if (SubNormal(ref a, b))
                {
                    return a;
                }

                // An exact zero difference takes its sign from the rounding direction.
                a.Sign = env.Rounding == FloatRounding.Down;
                return a;
            }

            if (a.Cls == Class.Zero && b.Cls == Class.Zero)
            {
                a.Sign = env.Rounding == FloatRounding.Down;
                return a;
            }

            if (anyNaN)
            {
                return PickNaN(a, b, ref env);
            }

            if (a.Cls == Class.Inf || b.Cls == Class.Inf)
            {
                if (a.Cls != Class.Inf)
                {
                    b.Sign = bSign;
                    return b;
                }

                if (b.Cls != Class.Inf)
                {
                    return a;
                }

                env.Flags |= FloatExceptions.Invalid;
                return DefaultNaNParts();
            }
        }
        else
        {
            if (a.Cls == Class.Normal && b.Cls == Class.Normal)
            {
                AddNormal(ref a, b);
                return a;
            }

            if (a.Cls == Class.Zero && b.Cls == Class.Zero)
            {
                return a;
            }

            if (anyNaN)
            {
                return PickNaN(a, b, ref env);
            }

            if (a.Cls == Class.Inf || b.Cls == Class.Inf)
            {
                a.Cls = Class.Inf;
                a.Sign = bSign;
                return a;
            }
        }

        if (b.Cls == Class.Zero)
        {
            return a;
        }

        b.Sign = bSign;
        return b;
    }

    private static void AddNormal(ref Parts a, Parts b)
    {
        int diff = a.Exp - b.Exp;
        if (diff > 0)
        {
            b.Frac = ShiftRightJam(b.Frac, diff);
        }
        else if (diff < 0)
        {
            a.Frac = ShiftRightJam(a.Frac, -diff);
            a.Exp = b.Exp;
        }

        UInt128 sum = a.Frac + b.Frac;
        if (sum < a.Frac)
        {
            sum = ShiftRightJam(sum, 1) | Top;
            a.Exp++;
        }

        a.Frac = sum;
    }

    /// <summary>parts_sub_normal: false when the difference is exactly zero.</summary>
    private static bool SubNormal(ref Parts a, Parts b)
    {
        int diff = a.Exp - b.Exp;
        if (diff > 0)
        {
            a.Frac -= ShiftRightJam(b.Frac, diff);
        }
        else if (diff < 0)
        {
            a.Exp = b.Exp;
            a.Sign = !a.Sign;
            a.Frac = b.Frac - ShiftRightJam(a.Frac, -diff);
        }
        else if (a.Frac < b.Frac)
        {
            a.Frac = b.Frac - a.Frac;
            a.Sign = !a.Sign;
        }
        else
        {
            a.Frac -= b.Frac;
        }

        if (a.Frac == 0)
        {
            a.Cls = Class.Zero;
            return false;
        }

        int shift = (int)UInt128.LeadingZeroCount(a.Frac);
        a.Exp -= shift;
        a.Frac <<= shift;
        return true;
    }

    public static Float80 Mul(Float80 x, Float80 y, ref X87FloatEnv env)
    {
        if (!Unpack(x, ref env, out Parts a) | !Unpack(y, ref env, out Parts b))
        {
            return DefaultNaN;
        }

        bool sign = a.Sign ^ b.Sign;
        if (a.Cls == Class.Normal && b.Cls == Class.Normal)
        {
            // Unpacked significands are 64 bits wide: the 128-bit product is exact.
            a.Frac = (UInt128)(ulong)(a.Frac >> 64) * (ulong)(b.Frac >> 64);
            a.Exp += b.Exp + 1;
            if ((a.Frac & Top) == 0)
            {
                a.Frac <<= 1;
                a.Exp--;
            }

            a.Sign = sign;
            return Pack(a, ref env);
        }

        if ((a.Cls == Class.Inf && b.Cls == Class.Zero) || (a.Cls == Class.Zero && b.Cls == Class.Inf))
        {
            env.Flags |= FloatExceptions.Invalid;
            return DefaultNaN;
        }

        if (a.IsNaN || b.IsNaN)
        {
            return Pack(PickNaN(a, b, ref env), ref env);
        }

        a.Cls = a.Cls == Class.Inf || b.Cls == Class.Inf ? Class.Inf : Class.Zero;
        a.Sign = sign;
        return Pack(a, ref env);
    }

    public static Float80 Div(Float80 x, Float80 y, ref X87FloatEnv env)
    {
        if (!Unpack(x, ref env, out Parts a) | !Unpack(y, ref env, out Parts b))
        {
            return DefaultNaN;
        }

        bool sign = a.Sign ^ b.Sign;
        if (a.Cls == Class.Normal && b.Cls == Class.Normal)
        {
            ulong n = (ulong)(a.Frac >> 64), d = (ulong)(b.Frac >> 64);

            // Two 64-bit quotient digits of n/d scaled so the first has its top bit set, plus a sticky bit.
            bool shifted = n >= d;
            UInt128 num = shifted ? (UInt128)n << 63 : (UInt128)n << 64;
            ulong q1 = (ulong)(num / d), r1 = (ulong)(num % d);
            UInt128 num2 = (UInt128)r1 << 64;
            ulong q2 = (ulong)(num2 / d), r2 = (ulong)(num2 % d);
            a.Frac = ((UInt128)q1 << 64) | q2 | (r2 != 0 ? 1UL : 0UL);
            a.Exp = a.Exp - b.Exp - (shifted ? 0 : 1);
            a.Sign = sign;
            return Pack(a, ref env);
        }

        if ((a.Cls == Class.Zero && b.Cls == Class.Zero) || (a.Cls == Class.Inf && b.Cls == Class.Inf))
        {
            env.Flags |= FloatExceptions.Invalid;
            return DefaultNaN;
        }

        if (a.IsNaN || b.IsNaN)
        {
            return Pack(PickNaN(a, b, ref env), ref env);
        }

        a.Sign = sign;
        if (a.Cls == Class.Inf || a.Cls == Class.Zero)
        {
            return Pack(a, ref env);
        }

        if (b.Cls == Class.Inf)
        {
            a.Cls = Class.Zero;
            return Pack(a, ref env);
        }

        env.Flags |= FloatExceptions.DivideByZero;
        a.Cls = Class.Inf;
        return Pack(a, ref env);
    }

    /// <summary>parts_sqrt: correctly rounded; negative non-zero operands (and -inf) are invalid.</summary>
    public static Float80 Sqrt(Float80 x, ref X87FloatEnv env)
    {
        if (!Unpack(x, ref env, out Parts a))
        {
            return DefaultNaN;
        }

        switch (a.Cls)
        {
            case Class.QNaN:
            case Class.SNaN:
                return Pack(ReturnNaN(a, ref env), ref env);
            case Class.Zero:
                return Pack(a, ref env);
            case Class.Inf when !a.Sign:
                return Pack(a, ref env);
        }

        if (a.Sign)
        {
            env.Flags |= FloatExceptions.Invalid;
            return DefaultNaN;
        }

        // sqrt(sig * 2^(e-63)): R = floor(sqrt(m) * 2^127) with m in [1,4) and the exponent halved.
        bool odd = (a.Exp & 1) != 0;
        var n = new BigInteger((ulong)(a.Frac >> 64)) << (odd ? 192 : 191);
        BigInteger r = IntegerSqrt(n);
        a.Frac = (UInt128)r | (r * r != n ? UInt128.One : UInt128.Zero);
        a.Exp >>= 1;
        return Pack(a, ref env);
    }

    private static BigInteger IntegerSqrt(BigInteger n)
    {
        BigInteger x = BigInteger.One << (int)((n.GetBitLength() + 1) / 2);
        while (true)
        {
            BigInteger y = (x + (n / x)) >> 1;
            if (y >= x)
            {
                return x;
            }

            x = y;
        }
    }

    /// <summary>
    /// floatx80_modrem: the exact remainder of x / y with the quotient truncated
    /// (<paramref name="truncate"/>, FPREM) or rounded to nearest even (FPREM1). The quotient's
    /// low bits are reported only for the truncating form: QEMU 7.2 passes no quotient pointer
    /// for the IEEE remainder (parts_modrem with mod_quot NULL), so FPREM1's is 0.
    /// </summary>
    public static Float80 Remainder(Float80 x, Float80 y, bool truncate, out ulong quotient, ref X87FloatEnv env)
    {
        quotient = 0;
        if (!Unpack(x, ref env, out Parts a) | !Unpack(y, ref env, out Parts b))
        {
            return DefaultNaN;
        }

        if (a.Cls != Class.Normal || b.Cls != Class.Normal)
        {
            if (a.IsNaN || b.IsNaN)
            {
                return Pack(PickNaN(a, b, ref env), ref env);
            }

            if (a.Cls == Class.Inf || b.Cls == Class.Zero)
            {
                env.Flags |= FloatExceptions.Invalid;
                return DefaultNaN;
            }

            return Pack(a, ref env);
        }

        int diff = a.Exp - b.Exp;
        if (diff < -1)
        {
            return Pack(a, ref env);
        }

        // Integers in units of 2^(b.Exp - 63 + k): FPREM/FPREM1 scale the divisor so diff stays below 64.
        if (diff > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(y), "exponent difference above 64");
        }

        int k = Math.Min(diff, 0);
        UInt128 sa = (UInt128)(ulong)(a.Frac >> 64) << (diff - k);
        UInt128 sb = (UInt128)(ulong)(b.Frac >> 64) << -k;
        UInt128 q = sa / sb;
        UInt128 r = sa - (q * sb);
        if (truncate)
        {
            quotient = (ulong)q;
        }
        else
        {
            UInt128 t = sb - r;
            if (t < r || (t == r && (q & 1) != 0))
            {
                r = t;
                a.Sign = !a.Sign;
            }
        }

        if (r == 0)
        {
            a.Cls = Class.Zero;
            return Pack(a, ref env);
        }

        int msb = 127 - (int)UInt128.LeadingZeroCount(r);
        a.Frac = r << (127 - msb);
        a.Exp = b.Exp - 63 + k + msb;
        return Pack(a, ref env);
    }

    /// <summary>floatx80_round_to_int: by RC, the integer bits available at FCW.PC's precision, then packed at it.</summary>
    public static Float80 RoundToInt(Float80 x, ref X87FloatEnv env)
    {
        if (!Unpack(x, ref env, out Parts a))
        {
            return DefaultNaN;
        }

        if (a.IsNaN)
        {
            return Pack(ReturnNaN(a, ref env), ref env);
        }

        if (a.Cls == Class.Normal && RoundToIntNormal(ref a, env.Rounding, PrecisionFracSize(env.Precision)))
        {
            env.Flags |= FloatExceptions.Inexact;
        }

        return Pack(a, ref env);
    }

    private static int PrecisionFracSize(X87Precision p) => p switch
    {
        X87Precision.Single => 23,
        X87Precision.Double => 52,
        _ => 63,
    };

    /// <summary>parts_round_to_int_normal: true when bits were discarded.</summary>
    internal static bool RoundToIntNormal(ref Parts a, FloatRounding rounding, int fracSize)
    {
        if (a.Exp < 0)
        {
            // Wholly fractional: 0 or 1 by direction (to nearest, 1 only above one half).
            bool one = rounding switch
            {
                FloatRounding.NearestEven => a.Exp == -1 && (a.Frac << 1) != 0,
                FloatRounding.Up => !a.Sign,
                FloatRounding.Down => a.Sign,
                _ => false,
            };
            a.Exp = 0;
            a.Frac = one ? Top : 0;
            a.Cls = one ? Class.Normal : Class.Zero;
            return true;
        }

        if (a.Exp >= fracSize)
        {
            return false;
        }

        UInt128 lsb = Top >> a.Exp;
        UInt128 mask = lsb - 1;
        if ((a.Frac & mask) == 0)
        {
            return false;
        }

        UInt128 half = lsb >> 1;
        UInt128 inc = rounding switch
        {
            FloatRounding.NearestEven => (a.Frac & (mask | lsb)) != half ? half : 0,
            FloatRounding.Up => a.Sign ? 0 : mask,
            FloatRounding.Down => a.Sign ? mask : 0,
            _ => 0,
        };
        UInt128 sum = a.Frac + inc;
        if (sum < a.Frac)
        {
            sum = (sum >> 1) | Top;
            a.Exp++;
        }

        a.Frac = sum & ~mask;
        return true;
    }

    /// <summary>floatx80_scalbn: the exponent moved by n (clamped to ±65536), then packed at FCW.PC's precision.</summary>
    public static Float80 Scale(Float80 x, int n, ref X87FloatEnv env)
    {
        if (!Unpack(x, ref env, out Parts a))
        {
            return DefaultNaN;
        }

        if (a.IsNaN)
        {
            return Pack(ReturnNaN(a, ref env), ref env);
        }

        if (a.Cls == Class.Normal)
        {
            a.Exp += Math.Clamp(n, -0x10000, 0x10000);
        }

        return Pack(a, ref env);
    }

    /// <summary>floatx80_compare(_quiet): -1 less, 0 equal, 1 greater, 2 unordered. Any NaN raises IE unless quiet, where only SNaNs do; invalid encodings raise IE and are unordered.</summary>
    public static int Compare(Float80 x, Float80 y, bool quiet, ref X87FloatEnv env)
    {
        if (!Unpack(x, ref env, out Parts a) | !Unpack(y, ref env, out Parts b))
        {
            return 2;
        }

        if (a.IsNaN || b.IsNaN)
        {
            if (a.Cls == Class.SNaN || b.Cls == Class.SNaN || !quiet)
            {
                env.Flags |= FloatExceptions.Invalid;
            }

            return 2;
        }

        if (a.Cls == Class.Zero && b.Cls == Class.Zero)
        {
            return 0;
        }

        if (a.Cls == Class.Zero)
        {
            return b.Sign ? 1 : -1;
        }

        if (b.Cls == Class.Zero || a.Sign != b.Sign)
        {
            return a.Sign ? -1 : 1;
        }

        if (a.Cls == Class.Inf || b.Cls == Class.Inf)
        {
            if (a.Cls == b.Cls)
            {
                return 0;
            }

            int inf = b.Cls == Class.Inf ? -1 : 1;
            return a.Sign ? -inf : inf;
        }

        int cmp = a.Exp != b.Exp ? (a.Exp < b.Exp ? -1 : 1) : a.Frac.CompareTo(b.Frac);
        return a.Sign ? -cmp : cmp;
    }
}
