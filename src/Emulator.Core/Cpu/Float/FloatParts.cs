using System.Numerics;

namespace Emulator.Core.Cpu.Float;

/// <summary>What an unpacked operand is (QEMU's <c>FloatClass</c>).</summary>
internal enum FloatClass : byte
{
    Zero,
    Normal,
    Inf,
    QNaN,
    SNaN,
}

/// <summary>
/// An IEEE binary interchange format with up to 52 fraction bits: binary32 (8/23) or binary64
/// (11/52). The layout QEMU's <c>FloatFmt</c> gives it: in unpacked form the fraction is
/// left-aligned in 64 bits with the integer bit at bit 63, so <see cref="FracShift"/> bits below
/// the format's last fraction bit are rounding bits.
/// </summary>
internal readonly struct FloatFormat
{
    public static readonly FloatFormat Binary32 = new(8, 23);
    public static readonly FloatFormat Binary64 = new(11, 52);

    public FloatFormat(int expBits, int fracBits)
    {
        ExpBits = expBits;
        FracBits = fracBits;
    }

    public int ExpBits { get; }

    public int FracBits { get; }

    public int ExpBias => (1 << (ExpBits - 1)) - 1;

    public int ExpMax => (1 << ExpBits) - 1;

    public int FracShift => 63 - FracBits;

    public ulong RoundMask => (1UL << FracShift) - 1;
}

/// <summary>
/// An unpacked operand (QEMU's <c>FloatParts64</c>): class, sign, unbiased exponent and the
/// fraction with the integer bit at bit 63 (for a NaN the raw fraction shifted up to bit 62, the
/// quiet bit).
/// </summary>
internal struct FloatParts
{
    public const ulong ImplicitBit = 1UL << 63;
    public const ulong QuietBit = 1UL << 62;

    public FloatClass Cls;
    public bool Sign;
    public int Exp;
    public ulong Frac;

    public readonly bool IsNaN => Cls >= FloatClass.QNaN;

    /// <summary>x86's default NaN, the "real indefinite": negative, quiet, fraction otherwise zero (QEMU's <c>parts64_default_nan</c> for TARGET_I386).</summary>
    public static FloatParts DefaultNaN => new() { Cls = FloatClass.QNaN, Sign = true, Frac = QuietBit };

    public static FloatParts Zero(bool sign) => new() { Cls = FloatClass.Zero, Sign = sign };

    /// <summary>
    /// Unpacks <paramref name="bits"/> (QEMU's <c>parts_canonicalize</c>): a denormal becomes a
    /// normalised value, or under DAZ a signed zero. QEMU raises <c>float_flag_input_denormal</c>
    /// there, which MXCSR never shows (<c>update_mxcsr_from_sse_status</c> leaves DE alone), so
    /// nothing is raised here; QEMU 7.2 never sets MXCSR.DE.
    /// </summary>
    public static FloatParts Unpack(ulong bits, FloatFormat f, ref SoftFloatStatus s)
    {
        var p = new FloatParts
        {
            Sign = ((bits >> (f.FracBits + f.ExpBits)) & 1) != 0,
            Exp = (int)((bits >> f.FracBits) & (ulong)f.ExpMax),
            Frac = bits & ((1UL << f.FracBits) - 1),
        };
        if (p.Exp == 0)
        {
            if (p.Frac == 0 || s.FlushInputs)
            {
                p.Cls = FloatClass.Zero;
                p.Frac = 0;
            }
            else
            {
                int shift = BitOperations.LeadingZeroCount(p.Frac);
                p.Frac <<= shift;
                p.Cls = FloatClass.Normal;
                p.Exp = f.FracShift - f.ExpBias - shift + 1;
            }
        }
        else if (p.Exp < f.ExpMax)
        {
            p.Cls = FloatClass.Normal;
            p.Exp -= f.ExpBias;
            p.Frac = (p.Frac << f.FracShift) | ImplicitBit;
        }
        else if (p.Frac == 0)
        {
            p.Cls = FloatClass.Inf;
        }
        else
        {
            p.Frac <<= f.FracShift;
            p.Cls = (p.Frac & QuietBit) != 0 ? FloatClass.QNaN : FloatClass.SNaN;
        }

        return p;
    }

    /// <summary>Rounds to <paramref name="f"/> and packs (QEMU's <c>parts_uncanon</c>).</summary>
    public readonly ulong Pack(FloatFormat f, ref SoftFloatStatus s)
    {
        FloatParts p = this;
        ulong exp, frac;
        switch (p.Cls)
        {
            case FloatClass.Normal:
                (exp, frac) = p.RoundNormal(f, ref s);
                break;
            case FloatClass.Zero:
                (exp, frac) = (0, 0);
                break;
            case FloatClass.Inf:
                (exp, frac) = ((ulong)f.ExpMax, 0);
                break;
            default:
                (exp, frac) = ((ulong)f.ExpMax, p.Frac >> f.FracShift);
                break;
        }

        ulong sign = p.Sign ? 1UL << (f.FracBits + f.ExpBits) : 0;
        return sign | (exp << f.FracBits) | (frac & ((1UL << f.FracBits) - 1));
    }

    /// <summary>
    /// QEMU 7.2's <c>parts_uncanon_normal</c> for 64-bit parts: round to the format's precision
    /// in the current mode; overflow gives infinity or the largest finite value; below the normal
    /// range FTZ flushes (judged on the exponent before rounding), otherwise the value is
    /// denormalised and rounded again, with underflow raised when the result is tiny after
    /// rounding (x86's tininess rule, QEMU's default <c>float_tininess_after_rounding</c>) and inexact.
    /// </summary>
    private (ulong Exp, ulong Frac) RoundNormal(FloatFormat f, ref SoftFloatStatus s)
    {
        ulong roundMask = f.RoundMask;
        ulong lsb = roundMask + 1;
        ulong lsbm1 = roundMask ^ (roundMask >> 1);
        ulong roundEvenMask = roundMask | lsb;
        ulong frac = Frac;
        bool overflowNorm = false;
        ulong inc;
        switch (s.Rounding)
        {
            case FloatRounding.NearestEven:
                inc = (frac & roundEvenMask) != lsbm1 ? lsbm1 : 0;
                break;
            case FloatRounding.TowardZero:
                overflowNorm = true;
                inc = 0;
                break;
            case FloatRounding.Up:
                inc = Sign ? 0 : roundMask;
                overflowNorm = Sign;
                break;
            default:
                inc = Sign ? roundMask : 0;
                overflowNorm = !Sign;
                break;
        }

        var flags = FloatExceptions.None;
        int exp = Exp + f.ExpBias;
        if (exp > 0)
        {
            if ((frac & roundMask) != 0)
            {
                flags |= FloatExceptions.Inexact;
                ulong sum = frac + inc;
                if (sum < frac)
                {
                    sum = (sum >> 1) | ImplicitBit;
                    exp++;
                }

                frac = sum & ~roundMask;
            }

            if (exp >= f.ExpMax)
            {
                flags |= FloatExceptions.Overflow | FloatExceptions.Inexact;
                if (overflowNorm)
                {
                    exp = f.ExpMax - 1;
                    frac = ~roundMask;
                }
                else
                {
                    Cls = FloatClass.Inf;
                    exp = f.ExpMax;
                    frac = 0;
                }
            }

            s.Raise(flags);
            return ((ulong)exp, frac >> f.FracShift);
        }

        if (s.FlushToZero)
        {
            // float_flag_output_denormal, which update_mxcsr_from_sse_status turns into UE|PE.
            Cls = FloatClass.Zero;
            s.Raise(FloatExceptions.Underflow | FloatExceptions.Inexact);
            return (0, 0);
        }

        bool tiny = exp < 0 || frac + inc >= frac;
        frac = ShiftRightJam(frac, 1 - exp);
        if ((frac & roundMask) != 0)
        {
            if (s.Rounding == FloatRounding.NearestEven)
            {
                inc = (frac & roundEvenMask) != lsbm1 ? lsbm1 : 0;
            }

            flags |= FloatExceptions.Inexact;
            frac = (frac + inc) & ~roundMask;
        }

        ulong newExp = (frac & ImplicitBit) != 0 ? 1UL : 0;
        if (tiny && (flags & FloatExceptions.Inexact) != 0)
        {
            flags |= FloatExceptions.Underflow;
        }

        frac >>= f.FracShift;
        if (newExp == 0 && frac == 0)
        {
            Cls = FloatClass.Zero;
        }

        s.Raise(flags);
        return (newExp, frac);
    }

    /// <summary>Shift right, OR-ing every bit shifted out into bit 0 (QEMU's <c>frac_shrjam</c>).</summary>
    public static ulong ShiftRightJam(ulong frac, int count) => count switch
    {
        0 => frac,
        < 64 => (frac >> count) | ((frac << (64 - count)) != 0 ? 1UL : 0),
        _ => frac != 0 ? 1UL : 0,
    };
}
