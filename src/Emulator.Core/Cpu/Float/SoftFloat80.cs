using System.Numerics;

namespace Emulator.Core.Cpu.Float;

/// <summary>The x87 precision-control field (FCW bits 9:8, Intel SDM Vol. 1, 8.1.5.2).</summary>
public enum X87Precision : byte
{
    Single = 0,

    /// <summary>Reserved: QEMU 7.2's update_fp_status rounds it as extended (docs/x87.md).</summary>
    Reserved = 1,
    Double = 2,
    Extended = 3,
}

/// <summary>
/// What a floatx80 operation reads and accumulates: rounding control, precision control and the
/// exception flags raised (QEMU's float_status for the x87: tininess detected after rounding, no
/// flush-to-zero, no default-NaN mode).
/// </summary>
public struct X87FloatEnv
{
    public FloatRounding Rounding;
    public X87Precision Precision;
    public FloatExceptions Flags;

    public X87FloatEnv(FloatRounding rounding, X87Precision precision)
    {
        Rounding = rounding;
        Precision = precision;
        Flags = FloatExceptions.None;
    }

    /// <summary>RC from FCW bits 11:10, PC from bits 9:8.</summary>
    public static X87FloatEnv FromControlWord(ushort fcw) =>
        new((FloatRounding)((fcw >> 10) & 3), (X87Precision)((fcw >> 8) & 3));
}

/// <summary>
/// IEEE 754 arithmetic on the x87 80-bit format with QEMU 7.2's soft-float semantics
/// (fpu/softfloat.c, softfloat-parts.c.inc, softfloat-specialize.c.inc; docs/x87.md). Values are
/// taken apart into <see cref="Parts"/>: a class, a sign, an unbiased exponent and a 128-bit
/// fraction whose bit 127 is the integer bit (QEMU's FloatParts128), operated on exactly or with a
/// sticky bit, then rounded once by <see cref="RoundPack"/>.
/// </summary>
public static partial class SoftFloat80
{
    internal enum Class : byte
    {
        Zero,
        Normal,
        Inf,
        QNaN,
        SNaN,
    }

    internal struct Parts
    {
        public Class Cls;
        public bool Sign;
        public int Exp;

        /// <summary>Normal: bit 127 set. NaN: the significand without its integer bit in bits 126:64 (bit 126 = quiet).</summary>
        public UInt128 Frac;

        public readonly bool IsNaN => Cls >= Class.QNaN;
    }

    /// <summary>A destination format: exponent bias and all-ones exponent, the fraction bits below the
    /// rounding point (in the 128-bit fraction) and how far the packed fraction sits below bit 127.</summary>
    internal readonly record struct Format(int Bias, int ExpMax, UInt128 RoundMask, int Shift, int FracBits);

    private static readonly UInt128 Top = UInt128.One << 127;
    private static readonly UInt128 QuietBit = UInt128.One << 126;

    /// <summary>QEMU's floatx80_params: extended exponent range, 64/53/24-bit significands.</summary>
    internal static readonly Format Extended = new(16383, 0x7FFF, ulong.MaxValue, 64, 63);
    internal static readonly Format ExtendedDouble = new(16383, 0x7FFF, (UInt128.One << 75) - 1, 64, 63);
    internal static readonly Format ExtendedSingle = new(16383, 0x7FFF, (UInt128.One << 104) - 1, 64, 63);
    internal static readonly Format Binary64 = new(1023, 0x7FF, (UInt128.One << 75) - 1, 64 + 11, 52);
    internal static readonly Format Binary32 = new(127, 0xFF, (UInt128.One << 104) - 1, 64 + 40, 23);

    /// <summary>x86's default NaN, 0xFFFF:C000000000000000 (softfloat-specialize.c.inc parts_default_nan: sign and the quiet bit).</summary>
    public static readonly Float80 DefaultNaN = new(0xC000000000000000UL, 0xFFFF);

    public static readonly Float80 Zero = new(0, 0);

    public static readonly Float80 One = new(0x8000000000000000UL, 0x3FFF);

    internal static Format PrecisionFormat(X87Precision p) => p switch
    {
        X87Precision.Single => ExtendedSingle,
        X87Precision.Double => ExtendedDouble,
        _ => Extended,
    };

    /// <summary>
    /// Unnormals, pseudo-infinities and pseudo-NaNs (integer bit clear, exponent not 0) are
    /// invalid operands on x86 (include/fpu/softfloat.h floatx80_invalid_encoding); pseudo-denormals
    /// (exponent 0, integer bit set) are valid.
    /// </summary>
    public static bool IsInvalidEncoding(Float80 a) => (a.Significand >> 63) == 0 && a.BiasedExponent != 0;

    public static bool IsNaN(Float80 a) => a.BiasedExponent == 0x7FFF && (a.Significand << 1) != 0;

    public static bool IsSignalingNaN(Float80 a) => IsNaN(a) && (a.Significand & (1UL << 62)) == 0;

    public static bool IsInfinity(Float80 a) => a.BiasedExponent == 0x7FFF && (a.Significand << 1) == 0;

    public static bool IsZero(Float80 a) => a.BiasedExponent == 0 && a.Significand == 0;

    public static Float80 Negate(Float80 a) => new(a.Significand, (ushort)(a.SignExponent ^ 0x8000));

    public static Float80 Abs(Float80 a) => new(a.Significand, (ushort)(a.SignExponent & 0x7FFF));

    /// <summary>floatx80_silence_nan: sets the quiet bit and the integer bit (a pseudo-NaN comes out a valid QNaN).</summary>
    public static Float80 SilenceNaN(Float80 a) => new(a.Significand | (3UL << 62), a.SignExponent);

    /// <summary>floatx80_unpack_canonical: false (and IE) for an invalid encoding.</summary>
    internal static bool Unpack(Float80 f, ref X87FloatEnv env, out Parts p)
    {
        p = default;
        if (IsInvalidEncoding(f))
        {
            env.Flags |= FloatExceptions.Invalid;
            return false;
        }

        p.Sign = f.IsNegative;
        int exp = f.BiasedExponent;
        ulong sig = f.Significand;
        if (exp == 0x7FFF)
        {
            // The explicit integer bit is ignored once the encoding is known valid.
            ulong frac = sig & ~(1UL << 63);
            p.Frac = (UInt128)frac << 64;
            p.Cls = frac == 0 ? Class.Inf : (frac & (1UL << 62)) == 0 ? Class.SNaN : Class.QNaN;
        }
        else if (exp == 0)
        {
            if (sig == 0)
            {
                p.Cls = Class.Zero;
                return true;
            }

            // Denormals and pseudo-denormals normalise with the exponent of 2^-16382 (parts_canonicalize).
            int shift = BitOperations.LeadingZeroCount(sig);
            p.Cls = Class.Normal;
            p.Frac = (UInt128)(sig << shift) << 64;
            p.Exp = -16382 - shift;
        }
        else
        {
            p.Cls = Class.Normal;
            p.Frac = (UInt128)sig << 64;
            p.Exp = exp - 16383;
        }

        return true;
    }

    internal static Parts DefaultNaNParts() => new() { Cls = Class.QNaN, Sign = true, Frac = QuietBit };

    /// <summary>floatx80_round_pack_canonical: rounds to FCW.PC's precision with the extended exponent range.</summary>
    internal static Float80 Pack(Parts p, ref X87FloatEnv env)
    {
        switch (p.Cls)
        {
            case Class.Normal:
                RoundPack(ref p, PrecisionFormat(env.Precision), ref env);
                if (p.Cls == Class.Inf)
                {
                    // x86 infinities keep the integer bit (floatx80_infinity_low).
                    return new Float80(1UL << 63, (ushort)(Sign(p) | 0x7FFF));
                }

                return new Float80((ulong)(p.Frac >> 64), (ushort)(Sign(p) | p.Exp));
            case Class.Inf:
                return new Float80(1UL << 63, (ushort)(Sign(p) | 0x7FFF));
            case Class.Zero:
                return new Float80(0, (ushort)Sign(p));
            default:
                return new Float80((ulong)(p.Frac >> 64) | (1UL << 63), (ushort)(Sign(p) | 0x7FFF));
        }
    }

    private static int Sign(in Parts p) => p.Sign ? 0x8000 : 0;

    /// <summary>
    /// parts_uncanon_normal: rounds a normal value by <paramref name="fmt"/> and RC, leaving the
    /// biased exponent in <c>Exp</c> and the rounded fraction (bits below the rounding point clear)
    /// in <c>Frac</c>; overflow gives infinity or the largest finite value by direction, tininess is
    /// detected after rounding and underflow is raised only when the result is also inexact.
    /// </summary>
    internal static void RoundPack(ref Parts p, in Format fmt, ref X87FloatEnv env)
    {
        UInt128 roundMask = fmt.RoundMask;
        UInt128 lsb = roundMask + 1;
        UInt128 half = roundMask ^ (roundMask >> 1);
        UInt128 inc;
        bool overflowToMax = false;
        FloatExceptions flags = FloatExceptions.None;
        switch (env.Rounding)
        {
            case FloatRounding.NearestEven:
                inc = (p.Frac & (roundMask | lsb)) != half ? half : 0;
                break;
            case FloatRounding.TowardZero:
                overflowToMax = true;
                inc = 0;
                break;
            case FloatRounding.Up:
                inc = p.Sign ? 0 : roundMask;
                overflowToMax = p.Sign;
                break;
            default:
                inc = p.Sign ? roundMask : 0;
                overflowToMax = !p.Sign;
                break;
        }

        int exp = p.Exp + fmt.Bias;
        if (exp > 0)
        {
            if ((p.Frac & roundMask) != 0)
            {
                flags |= FloatExceptions.Inexact;
                UInt128 sum = p.Frac + inc;
                if (sum < p.Frac)
                {
                    sum = (sum >> 1) | Top;
                    exp++;
                }

                p.Frac = sum & ~roundMask;
            }

            if (exp >= fmt.ExpMax)
            {
                flags |= FloatExceptions.Overflow | FloatExceptions.Inexact;
                if (overflowToMax)
                {
                    exp = fmt.ExpMax - 1;
                    p.Frac = UInt128.MaxValue & ~roundMask;
                }
                else
                {
                    p.Cls = Class.Inf;
                    exp = fmt.ExpMax;
                    p.Frac = 0;
                }
            }
        }
        else
        {
            bool tiny = exp < 0 || p.Frac + inc >= p.Frac;
            p.Frac = ShiftRightJam(p.Frac, 1 - exp);
            if ((p.Frac & roundMask) != 0)
            {
                if (env.Rounding == FloatRounding.NearestEven)
                {
                    inc = (p.Frac & (roundMask | lsb)) != half ? half : 0;
                }

                flags |= FloatExceptions.Inexact;
                p.Frac = (p.Frac + inc) & ~roundMask;
            }

            exp = (p.Frac & Top) != 0 ? 1 : 0;
            if (tiny && (flags & FloatExceptions.Inexact) != 0)
            {
                flags |= FloatExceptions.Underflow;
            }

            if (exp == 0 && p.Frac == 0)
            {
                p.Cls = Class.Zero;
            }
        }

        p.Exp = exp;
        env.Flags |= flags;
    }

    /// <summary>Shifts right, ORing every bit shifted out into bit 0 (QEMU's shrjam).</summary>
    internal static UInt128 ShiftRightJam(UInt128 v, int count)
    {
        if (count <= 0)
        {
            return v;
        }

        if (count >= 128)
        {
            return v != 0 ? UInt128.One : UInt128.Zero;
        }

        return (v >> count) | ((v & ((UInt128.One << count) - 1)) != 0 ? UInt128.One : UInt128.Zero);
    }

    /// <summary>parts_pick_nan with x86's pickNaN: SNaN loses to QNaN, two of a kind give the larger significand (then the positive one), SNaNs are silenced.</summary>
    internal static Parts PickNaN(Parts a, Parts b, ref X87FloatEnv env)
    {
        if (a.Cls == Class.SNaN || b.Cls == Class.SNaN)
        {
            env.Flags |= FloatExceptions.Invalid;
        }

        bool aLarger = a.Frac != b.Frac ? a.Frac > b.Frac : !a.Sign && b.Sign;
        bool pickB = a.Cls switch
        {
            Class.SNaN => b.Cls == Class.SNaN ? !aLarger : b.Cls == Class.QNaN,
            Class.QNaN => b.Cls == Class.QNaN && !aLarger,
            _ => true,
        };
        Parts r = pickB ? b : a;
        return Silence(r);
    }

    private static Parts Silence(Parts r)
    {
        if (r.Cls == Class.SNaN)
        {
            r.Frac |= QuietBit;
            r.Cls = Class.QNaN;
        }

        return r;
    }

    /// <summary>parts_return_nan: a signaling NaN raises IE and is silenced.</summary>
    internal static Parts ReturnNaN(Parts a, ref X87FloatEnv env)
    {
        if (a.Cls == Class.SNaN)
        {
            env.Flags |= FloatExceptions.Invalid;
        }

        return Silence(a);
    }
}
