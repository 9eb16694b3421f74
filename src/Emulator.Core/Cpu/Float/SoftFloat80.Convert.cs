using System.Numerics;

namespace Emulator.Core.Cpu.Float;

/// <summary>
/// floatx80 conversions as QEMU 7.2 does them: from and to binary32/binary64 (float32_to_floatx80,
/// floatx80_to_float32, …: NaNs keep their payload's top bits, SNaNs raise IE and are silenced, the
/// widening result is still rounded to FCW.PC's precision) and to and from 64-bit integers
/// (parts_sint_to_float, parts_float_to_sint: NaN and out-of-range give IE).
/// </summary>
public static partial class SoftFloat80
{
    public static Float80 FromInt64(long value, ref X87FloatEnv env)
    {
        if (value == 0)
        {
            return Zero;
        }

        ulong magnitude = value < 0 ? (ulong)-value : (ulong)value;
        int shift = BitOperations.LeadingZeroCount(magnitude);
        var p = new Parts { Cls = Class.Normal, Sign = value < 0, Exp = 63 - shift, Frac = (UInt128)(magnitude << shift) << 64 };
        return Pack(p, ref env);
    }

    /// <summary>
    /// parts_float_to_sint: rounds by <paramref name="rounding"/>; a NaN (or invalid encoding)
    /// gives <paramref name="max"/> and IE, an out-of-range value the bound of its sign and IE alone.
    /// </summary>
    public static long ToInt(Float80 x, FloatRounding rounding, long min, long max, ref X87FloatEnv env)
    {
        if (!Unpack(x, ref env, out Parts p))
        {
            p = DefaultNaNParts();
        }

        switch (p.Cls)
        {
            case Class.SNaN:
            case Class.QNaN:
                env.Flags |= FloatExceptions.Invalid;
                return max;
            case Class.Inf:
                env.Flags |= FloatExceptions.Invalid;
                return p.Sign ? min : max;
            case Class.Zero:
                return 0;
        }

        FloatExceptions flags = RoundToIntNormal(ref p, rounding, 126) ? FloatExceptions.Inexact : FloatExceptions.None;
        ulong r = p.Cls == Class.Zero ? 0 : p.Exp <= 63 ? (ulong)(p.Frac >> 64) >> (63 - p.Exp) : ulong.MaxValue;
        long result;
        if (p.Sign)
        {
            if (r <= (ulong)-min)
            {
                result = (long)(0 - r);
            }
            else
            {
                flags = FloatExceptions.Invalid;
                result = min;
            }
        }
        else if (r > (ulong)max)
        {
            flags = FloatExceptions.Invalid;
            result = max;
        }
        else
        {
            result = (long)r;
        }

        env.Flags |= flags;
        return result;
    }

    public static Float80 FromFloat32(uint bits, ref X87FloatEnv env) => FromBinary(bits, Binary32, ref env);

    public static Float80 FromFloat64(ulong bits, ref X87FloatEnv env) => FromBinary(bits, Binary64, ref env);

    public static uint ToFloat32(Float80 x, ref X87FloatEnv env) => (uint)ToBinary(x, Binary32, ref env);

    public static ulong ToFloat64(Float80 x, ref X87FloatEnv env) => ToBinary(x, Binary64, ref env);

    private static int ExpBits(in Format fmt) => fmt.FracBits == 52 ? 11 : 8;

    private static Float80 FromBinary(ulong bits, in Format fmt, ref X87FloatEnv env)
    {
        int fracBits = fmt.FracBits;
        ulong frac = bits & ((1UL << fracBits) - 1);
        int exp = (int)(bits >> fracBits) & fmt.ExpMax;
        var p = new Parts { Sign = ((bits >> (fracBits + ExpBits(fmt))) & 1) != 0 };
        if (exp == fmt.ExpMax)
        {
            p.Frac = (UInt128)(frac << (63 - fracBits)) << 64;
            p.Cls = frac == 0 ? Class.Inf : (frac >> (fracBits - 1)) == 0 ? Class.SNaN : Class.QNaN;
            if (p.IsNaN)
            {
                p = ReturnNaN(p, ref env);
            }
        }
        else if (exp == 0)
        {
            if (frac != 0)
            {
                int shift = BitOperations.LeadingZeroCount(frac);
                p.Cls = Class.Normal;
                p.Frac = (UInt128)(frac << shift) << 64;
                p.Exp = 64 - fmt.Bias - fracBits - shift;
            }
        }
        else
        {
            p.Cls = Class.Normal;
            p.Frac = (UInt128)((frac | (1UL << fracBits)) << (63 - fracBits)) << 64;
            p.Exp = exp - fmt.Bias;
        }

        return Pack(p, ref env);
    }

    private static ulong ToBinary(Float80 x, in Format fmt, ref X87FloatEnv env)
    {
        if (!Unpack(x, ref env, out Parts p))
        {
            p = DefaultNaNParts();
        }

        int fracBits = fmt.FracBits;
        ulong exp;
        ulong frac = 0;
        switch (p.Cls)
        {
            case Class.Normal:
                RoundPack(ref p, fmt, ref env);
                exp = (ulong)p.Exp;
                frac = (ulong)(p.Frac >> fmt.Shift);
                break;
            case Class.Zero:
                exp = 0;
                break;
            case Class.Inf:
                exp = (ulong)fmt.ExpMax;
                break;
            default:
                p = ReturnNaN(p, ref env);
                exp = (ulong)fmt.ExpMax;
                frac = (ulong)(p.Frac >> fmt.Shift);
                break;
        }

        ulong sign = p.Sign ? 1UL : 0UL;
        return (sign << (fracBits + ExpBits(fmt))) | (exp << fracBits) | (frac & ((1UL << fracBits) - 1));
    }
}
