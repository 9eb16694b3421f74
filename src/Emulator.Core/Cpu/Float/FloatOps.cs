using System.Numerics;

namespace Emulator.Core.Cpu.Float;

/// <summary>The relation a comparison finds (QEMU's <c>FloatRelation</c>).</summary>
public enum FloatRelation
{
    Less = -1,
    Equal = 0,
    Greater = 1,
    Unordered = 2,
}

/// <summary>
/// The binary32/binary64 operations, one body for both formats, following QEMU 7.2's
/// <c>fpu/softfloat-parts.c.inc</c> as built for TARGET_I386 (the reference emu matches; see
/// docs/cpu.md, "SSE floating point"): results are IEEE 754 correctly rounded in the status's
/// mode, and the special cases — which NaN comes out, when invalid is raised, the signs of zeros —
/// are QEMU's. NaN operands propagate by QEMU's x87 rule (<c>pickNaN</c> in
/// <c>softfloat-specialize.c.inc</c>), which QEMU also applies to SSE: a quiet NaN wins over a
/// signalling one, between two of the same kind the larger fraction wins (the positive one on a
/// tie), and a signalling NaN is returned quieted; real SSE hardware returns the first operand's.
/// </summary>
internal static class FloatOps
{
    public static ulong AddSub(ulong x, ulong y, bool subtract, FloatFormat f, ref SoftFloatStatus s)
    {
        var a = FloatParts.Unpack(x, f, ref s);
        var b = FloatParts.Unpack(y, f, ref s);
        return AddSub(a, b, subtract, ref s).Pack(f, ref s);
    }

    public static ulong Mul(ulong x, ulong y, FloatFormat f, ref SoftFloatStatus s)
    {
        var a = FloatParts.Unpack(x, f, ref s);
        var b = FloatParts.Unpack(y, f, ref s);
        return Mul(a, b, ref s).Pack(f, ref s);
    }

    public static ulong Div(ulong x, ulong y, FloatFormat f, ref SoftFloatStatus s)
    {
        var a = FloatParts.Unpack(x, f, ref s);
        var b = FloatParts.Unpack(y, f, ref s);
        return Div(a, b, ref s).Pack(f, ref s);
    }

    public static ulong Sqrt(ulong x, FloatFormat f, ref SoftFloatStatus s) =>
        Sqrt(FloatParts.Unpack(x, f, ref s), ref s).Pack(f, ref s);

    /// <summary>x86 MIN: <paramref name="x"/> when it compares (signalling) below <paramref name="y"/>, else <paramref name="y"/> — so a NaN operand or two zeros give <paramref name="y"/>, and under DAZ an operand is returned unflushed (QEMU's <c>FPU_MIN</c>, target/i386/ops_sse.h).</summary>
    public static ulong Min(ulong x, ulong y, FloatFormat f, ref SoftFloatStatus s) => Compare(x, y, false, f, ref s) == FloatRelation.Less ? x : y;

    /// <summary>x86 MAX: <paramref name="x"/> when <paramref name="y"/> compares (signalling) below it, else <paramref name="y"/> (QEMU's <c>FPU_MAX</c>).</summary>
    public static ulong Max(ulong x, ulong y, FloatFormat f, ref SoftFloatStatus s) => Compare(y, x, false, f, ref s) == FloatRelation.Less ? x : y;

    /// <summary>QEMU's <c>floatN_compare</c> (<paramref name="quiet"/> false: invalid on any NaN) and <c>floatN_compare_quiet</c> (invalid on a signalling NaN only).</summary>
    public static FloatRelation Compare(ulong x, ulong y, bool quiet, FloatFormat f, ref SoftFloatStatus s)
    {
        var a = FloatParts.Unpack(x, f, ref s);
        var b = FloatParts.Unpack(y, f, ref s);
        if (a.IsNaN || b.IsNaN)
        {
            if (!quiet || a.Cls == FloatClass.SNaN || b.Cls == FloatClass.SNaN)
            {
                s.Raise(FloatExceptions.Invalid);
            }

            return FloatRelation.Unordered;
        }

        if (a.Cls == FloatClass.Zero && b.Cls == FloatClass.Zero)
        {
            return FloatRelation.Equal;
        }

        if (a.Sign != b.Sign)
        {
            return a.Sign ? FloatRelation.Less : FloatRelation.Greater;
        }

        int m = CompareMagnitude(a, b);
        return (FloatRelation)(a.Sign ? -m : m);
    }

    /// <summary>Format to format (QEMU's <c>parts_float_to_float</c>): a signalling NaN is quieted with invalid; the value is rounded to <paramref name="to"/>.</summary>
    public static ulong Convert(ulong x, FloatFormat from, FloatFormat to, ref SoftFloatStatus s)
    {
        var a = FloatParts.Unpack(x, from, ref s);
        if (a.IsNaN)
        {
            ReturnNaN(ref a, ref s);
        }

        return a.Pack(to, ref s);
    }

    /// <summary>A signed integer to the format, rounded (QEMU's <c>parts_sint_to_float</c>).</summary>
    public static ulong FromInt(long value, FloatFormat f, ref SoftFloatStatus s)
    {
        if (value == 0)
        {
            return FloatParts.Zero(false).Pack(f, ref s);
        }

        ulong mag = value < 0 ? (ulong)-value : (ulong)value;
        int shift = BitOperations.LeadingZeroCount(mag);
        var p = new FloatParts { Cls = FloatClass.Normal, Sign = value < 0, Exp = 63 - shift, Frac = mag << shift };
        return p.Pack(f, ref s);
    }

    /// <summary>
    /// To a signed integer of <paramref name="bits"/> bits the x86 way: QEMU's <c>parts_float_to_sint</c>
    /// wrapped by <c>WRAP_FLOATCONV</c> in <c>target/i386/ops_sse.h</c>, so any invalid conversion
    /// (NaN, infinity, out of range) gives the integer indefinite (the most negative value) with
    /// invalid alone; an in-range inexact one raises inexact.
    /// </summary>
    public static long ToInt(ulong x, FloatRounding mode, int bits, FloatFormat f, ref SoftFloatStatus s)
    {
        long min = long.MinValue >> (64 - bits);
        var p = FloatParts.Unpack(x, f, ref s);
        switch (p.Cls)
        {
            case FloatClass.Zero:
                return 0;
            case FloatClass.Normal:
                break;
            default:
                s.Raise(FloatExceptions.Invalid);
                return min;
        }

        bool inexact = RoundToInteger(p, mode, out ulong mag, out bool huge);
        ulong limit = p.Sign ? (ulong)-min : (ulong)~min;
        if (huge || mag > limit)
        {
            s.Raise(FloatExceptions.Invalid);
            return min;
        }

        if (inexact)
        {
            s.Raise(FloatExceptions.Inexact);
        }

        return p.Sign ? (long)(0 - mag) : (long)mag;
    }

    private static FloatParts AddSub(FloatParts a, FloatParts b, bool subtract, ref SoftFloatStatus s)
    {
        bool bSign = b.Sign ^ subtract;
        bool bothNormal = a.Cls == FloatClass.Normal && b.Cls == FloatClass.Normal;
        bool bothZero = a.Cls == FloatClass.Zero && b.Cls == FloatClass.Zero;
        if (a.Sign != bSign)
        {
            if (bothNormal)
            {
                if (SubNormal(ref a, b))
                {
                    return a;
                }

                bothZero = true;
            }

            if (bothZero)
            {
                return FloatParts.Zero(s.Rounding == FloatRounding.Down);
            }

            if (a.IsNaN || b.IsNaN)
            {
                return PickNaN(a, b, ref s);
            }

            if (a.Cls == FloatClass.Inf && b.Cls == FloatClass.Inf)
            {
                s.Raise(FloatExceptions.Invalid);
                return FloatParts.DefaultNaN;
            }

            if (a.Cls == FloatClass.Inf)
            {
                return a;
            }

            if (b.Cls == FloatClass.Inf)
            {
                b.Sign = bSign;
                return b;
            }
        }
        else
        {
            if (bothNormal)
            {
                AddNormal(ref a, b);
                return a;
            }

            if (bothZero)
            {
                return a;
            }

            if (a.IsNaN || b.IsNaN)
            {
                return PickNaN(a, b, ref s);
            }

            if (a.Cls == FloatClass.Inf || b.Cls == FloatClass.Inf)
            {
                a.Cls = FloatClass.Inf;
                return a;
            }
        }

        if (b.Cls == FloatClass.Zero)
        {
            return a;
        }

        b.Sign = bSign;
        return b;
    }

    private static void AddNormal(ref FloatParts a, FloatParts b)
    {
        int diff = a.Exp - b.Exp;
        if (diff > 0)
        {
            b.Frac = FloatParts.ShiftRightJam(b.Frac, diff);
        }
        else if (diff < 0)
        {
            a.Frac = FloatParts.ShiftRightJam(a.Frac, -diff);
            a.Exp = b.Exp;
        }

        ulong sum = a.Frac + b.Frac;
        if (sum < a.Frac)
        {
            sum = FloatParts.ShiftRightJam(sum, 1) | FloatParts.ImplicitBit;
            a.Exp++;
        }

        a.Frac = sum;
    }

    /// <summary>QEMU's <c>parts_sub_normal</c>: false when the difference is exactly zero.</summary>
    private static bool SubNormal(ref FloatParts a, FloatParts b)
    {
        int diff = a.Exp - b.Exp;
        if (diff > 0)
        {
            a.Frac -= FloatParts.ShiftRightJam(b.Frac, diff);
        }
        else if (diff < 0)
        {
            a.Exp = b.Exp;
            a.Sign = !a.Sign;
            a.Frac = b.Frac - FloatParts.ShiftRightJam(a.Frac, -diff);
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
            return false;
        }

        int shift = BitOperations.LeadingZeroCount(a.Frac);
        a.Frac <<= shift;
        a.Exp -= shift;
        return true;
    }

    private static FloatParts Mul(FloatParts a, FloatParts b, ref SoftFloatStatus s)
    {
        bool sign = a.Sign ^ b.Sign;
        if (a.Cls == FloatClass.Normal && b.Cls == FloatClass.Normal)
        {
            UInt128 product = (UInt128)a.Frac * b.Frac;
            ulong lo = (ulong)product;
            a.Frac = (ulong)(product >> 64) | (lo != 0 ? 1UL : 0);
            a.Exp += b.Exp + 1;
            if ((a.Frac & FloatParts.ImplicitBit) == 0)
            {
                a.Frac <<= 1;
                a.Exp--;
            }

            a.Sign = sign;
            return a;
        }

        bool infTimesZero = (a.Cls == FloatClass.Inf && b.Cls == FloatClass.Zero) || (a.Cls == FloatClass.Zero && b.Cls == FloatClass.Inf);
        if (InvalidOrNaN(infTimesZero, a, b, ref s, out FloatParts special))
        {
            return special;
        }

        FloatParts r = a.Cls is FloatClass.Inf or FloatClass.Zero ? a : b;
        r.Sign = sign;
        return r;
    }

    private static FloatParts Div(FloatParts a, FloatParts b, ref SoftFloatStatus s)
    {
        bool sign = a.Sign ^ b.Sign;
        if (a.Cls == FloatClass.Normal && b.Cls == FloatClass.Normal)
        {
            // QEMU's frac64_div: a 128/64-bit division giving exactly 64 quotient bits, the
            // remainder jammed into bit 0.
            bool smaller = a.Frac < b.Frac;
            UInt128 n = smaller ? (UInt128)a.Frac << 64 : ((UInt128)(a.Frac >> 1) << 64) | (a.Frac << 63);
            UInt128 q = n / b.Frac;
            bool remainder = q * b.Frac != n;
            a.Frac = (ulong)q | (remainder ? 1UL : 0);
            a.Exp -= b.Exp + (smaller ? 1 : 0);
            a.Sign = sign;
            return a;
        }

        bool sameClass = a.Cls == b.Cls && a.Cls is FloatClass.Zero or FloatClass.Inf;
        if (InvalidOrNaN(sameClass, a, b, ref s, out FloatParts special))
        {
            return special;
        }

        a.Sign = sign;
        if (a.Cls is FloatClass.Inf or FloatClass.Zero)
        {
            return a;
        }

        if (b.Cls == FloatClass.Inf)
        {
            a.Cls = FloatClass.Zero;
            return a;
        }

        s.Raise(FloatExceptions.DivideByZero);
        a.Cls = FloatClass.Inf;
        return a;
    }

    /// <summary>What multiplication and division check before the ordinary cases: an invalid pairing (QEMU's inf×0, 0/0, inf/inf) gives the default NaN, then a NaN operand propagates.</summary>
    private static bool InvalidOrNaN(bool invalid, FloatParts a, FloatParts b, ref SoftFloatStatus s, out FloatParts result)
    {
        if (invalid)
        {
            s.Raise(FloatExceptions.Invalid);
            result = FloatParts.DefaultNaN;
            return true;
        }

        result = a.IsNaN || b.IsNaN ? PickNaN(a, b, ref s) : default;
        return a.IsNaN || b.IsNaN;
    }

    private static FloatParts Sqrt(FloatParts a, ref SoftFloatStatus s)
    {
        switch (a.Cls)
        {
            case FloatClass.QNaN or FloatClass.SNaN:
                ReturnNaN(ref a, ref s);
                return a;
            case FloatClass.Zero:
                return a;
            case FloatClass.Inf when !a.Sign:
                return a;
        }

        if (a.Sign)
        {
            s.Raise(FloatExceptions.Invalid);
            return FloatParts.DefaultNaN;
        }

        // The value is Frac / 2^63 * 2^Exp; with an even exponent the root of Frac * 2^63 (of
        // Frac * 2^64 for an odd one) is the 64-bit root fraction; a remainder is jammed into bit 0.
        bool odd = (a.Exp & 1) != 0;
        UInt128 n = (UInt128)a.Frac << (odd ? 64 : 63);
        ulong r = ISqrt(n);
        a.Frac = r | ((UInt128)r * r != n ? 1UL : 0);
        a.Exp >>= 1;
        return a;
    }

    /// <summary>floor(sqrt(n)) for n below 2^128: a double estimate, Newton steps, then exact correction.</summary>
    private static ulong ISqrt(UInt128 n)
    {
        double d = Math.Sqrt((double)n);
        UInt128 r = d >= 18446744073709551615.0 ? ulong.MaxValue : (ulong)d;
        if (r == 0)
        {
            r = 1;
        }

        for (int i = 0; i < 2; i++)
        {
            r = (r + (n / r)) >> 1;
        }

        if (r > ulong.MaxValue)
        {
            r = ulong.MaxValue;
        }

        while (r * r > n)
        {
            r--;
        }

        while ((r + 1) * (r + 1) <= n && r < ulong.MaxValue)
        {
            r++;
        }

        return (ulong)r;
    }

    /// <summary>QEMU's <c>parts_return_nan</c> for one NaN operand: a signalling one is quieted, with invalid.</summary>
    private static void ReturnNaN(ref FloatParts a, ref SoftFloatStatus s)
    {
        if (a.Cls == FloatClass.SNaN)
        {
            s.Raise(FloatExceptions.Invalid);
            a.Frac |= FloatParts.QuietBit;
            a.Cls = FloatClass.QNaN;
        }
    }

    /// <summary>QEMU's <c>parts_pick_nan</c> with the TARGET_I386 (x87) <c>pickNaN</c> rule.</summary>
    private static FloatParts PickNaN(FloatParts a, FloatParts b, ref SoftFloatStatus s)
    {
        if (a.Cls == FloatClass.SNaN || b.Cls == FloatClass.SNaN)
        {
            s.Raise(FloatExceptions.Invalid);
        }

        bool aLarger = a.Frac > b.Frac || (a.Frac == b.Frac && !a.Sign && b.Sign);
        bool pickB;
        if (a.Cls == FloatClass.SNaN)
        {
            pickB = b.Cls == FloatClass.SNaN ? !aLarger : b.Cls == FloatClass.QNaN;
        }
        else if (a.Cls == FloatClass.QNaN)
        {
            pickB = b.Cls == FloatClass.QNaN && !aLarger;
        }
        else
        {
            pickB = true;
        }

        FloatParts r = pickB ? b : a;
        ReturnNaN(ref r, ref s);
        return r;
    }

    private static int CompareMagnitude(FloatParts a, FloatParts b)
    {
        int ra = Rank(a.Cls), rb = Rank(b.Cls);
        if (ra != rb)
        {
            return ra < rb ? -1 : 1;
        }

        if (a.Cls != FloatClass.Normal)
        {
            return 0;
        }

        if (a.Exp != b.Exp)
        {
            return a.Exp < b.Exp ? -1 : 1;
        }

        return a.Frac.CompareTo(b.Frac);

        static int Rank(FloatClass c) => c switch { FloatClass.Zero => 0, FloatClass.Normal => 1, _ => 2 };
    }

    /// <summary>
    /// Rounds a normal value to an integer magnitude in <paramref name="mode"/>; <paramref name="huge"/>
    /// when it is 2^64 or more. Returns whether the value was not integral.
    /// </summary>
    private static bool RoundToInteger(FloatParts p, FloatRounding mode, out ulong mag, out bool huge)
    {
        huge = false;
        int shift = 63 - p.Exp;
        if (shift <= 0)
        {
            huge = shift < 0;
            mag = p.Frac;
            return false;
        }

        ulong ip, rem, half;
        if (shift >= 64)
        {
            ip = 0;
            rem = p.Frac;
            half = shift == 64 ? 1UL << 63 : 0;
        }
        else
        {
            ip = p.Frac >> shift;
            rem = p.Frac & ((1UL << shift) - 1);
            half = 1UL << (shift - 1);
        }

        mag = ip;
        if (rem == 0)
        {
            return false;
        }

        bool up = mode switch
        {
            // half == 0: the value is below a quarter, never rounded up to nearest.
            FloatRounding.NearestEven => half != 0 && (rem > half || (rem == half && (ip & 1) != 0)),
            FloatRounding.Up => !p.Sign,
            FloatRounding.Down => p.Sign,
            _ => false,
        };
        if (up)
        {
            mag++;
        }

        return true;
    }
}
