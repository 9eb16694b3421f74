using Emulator.Core.Cpu.Float;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// x87 operations on ST(0) (and ST(1)) as QEMU 7.2's fpu_helper.c performs them: FCHS, FABS,
/// FXAM, FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM, FPREM1, and FSIN/FCOS/FSINCOS/FPTAN, which QEMU
/// computes in host doubles through libm (docs/x87.md, "Transcendentals").
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>QEMU's MAXTAN: FSIN/FCOS/FSINCOS/FPTAN leave operands beyond ±2^63 alone and set C2.</summary>
    private const double X87MaxTan = 9223372036854775808.0;

    private static void RegisterX87Unary(HandlerRegistry r)
    {
        r.Add(Mnemonic.Fchs, &Fchs);
        r.Add(Mnemonic.Fabs, &Fabs);
        r.Add(Mnemonic.Fxam, &Fxam);
        r.Add(Mnemonic.Fsqrt, &Fsqrt);
        r.Add(Mnemonic.Frndint, &Frndint);
        r.Add(Mnemonic.Fscale, &Fscale);
        r.Add(Mnemonic.Fxtract, &Fxtract);
        r.Add(Mnemonic.Fprem, &Fprem);
        r.Add(Mnemonic.Fprem1, &Fprem1);
        r.Add(Mnemonic.Fsin, &Fsin);
        r.Add(Mnemonic.Fcos, &Fcos);
        r.Add(Mnemonic.Fsincos, &Fsincos);
        r.Add(Mnemonic.Fptan, &Fptan);
    }

    private static void Fchs(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        St(fpu, 0) = SoftFloat80.Negate(St(fpu, 0));
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fabs(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        St(fpu, 0) = SoftFloat80.Abs(St(fpu, 0));
        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>
    /// helper_fxam_ST0: C1 = sign; empty 0x4100; infinity 0x500; NaN (integer bit set) 0x100;
    /// zero 0x4000; denormal 0x4400; normal 0x400; pseudo-NaNs, pseudo-infinities and unnormals 0.
    /// </summary>
    private static void Fxam(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        Float80 v = St(fpu, 0);
        int sw = fpu.StatusWord & ~FswConditionBits;
        if (v.IsNegative)
        {
            sw |= FswC1;
        }

        bool integerBit = (v.Significand >> 63) != 0;
        if ((fpu.TagValid & (1 << fpu.Top)) == 0)
        {
            sw |= 0x4100;
        }
        else if (v.BiasedExponent == 0x7FFF)
        {
            sw |= v.Significand == 1UL << 63 ? 0x500 : integerBit ? 0x100 : 0;
        }
        else if (v.BiasedExponent == 0)
        {
            sw |= v.Significand == 0 ? 0x4000 : 0x4400;
        }
        else if (integerBit)
        {
            sw |= 0x400;
        }

        fpu.StatusWord = (ushort)sw;
        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>helper_fsqrt: a negative sign (−0 included) first sets C2 and clears C0, C1, C3.</summary>
    private static void Fsqrt(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        if (St(fpu, 0).IsNegative)
        {
            fpu.StatusWord = (ushort)((fpu.StatusWord & ~FswConditionBits) | FswC2);
        }

        St(fpu, 0) = SoftFloat80.Sqrt(St(fpu, 0), ref env);
        X87Merge(fpu, env);
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Frndint(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        St(fpu, 0) = SoftFloat80.RoundToInt(St(fpu, 0), ref env);
        X87Merge(fpu, env);
        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>
    /// helper_fscale: invalid encodings give the default NaN; a NaN in ST(1) propagates (SNaNs
    /// raise IE); ±∞ in ST(1) gives ±0 or ±∞ (IE for ∞·2^−∞ and 0·2^∞); otherwise ST(1)
    /// truncated to int32 (its flags dropped) scales ST(0) at full precision.
    /// </summary>
    private static void Fscale(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        Float80 a = St(fpu, 0), b = St(fpu, 1);
        Float80 r;
        if (SoftFloat80.IsInvalidEncoding(a) || SoftFloat80.IsInvalidEncoding(b))
        {
            env.Flags |= FloatExceptions.Invalid;
            r = SoftFloat80.DefaultNaN;
        }
        else if (SoftFloat80.IsNaN(b))
        {
            if (SoftFloat80.IsSignalingNaN(a) || SoftFloat80.IsSignalingNaN(b))
            {
                env.Flags |= FloatExceptions.Invalid;
            }

            r = SoftFloat80.IsSignalingNaN(b) ? SoftFloat80.SilenceNaN(b) : b;
        }
        else if (SoftFloat80.IsInfinity(b) && !SoftFloat80.IsNaN(a))
        {
            bool invalid = b.IsNegative ? SoftFloat80.IsInfinity(a) : SoftFloat80.IsZero(a);
            env.Flags |= invalid ? FloatExceptions.Invalid : FloatExceptions.None;
            Float80 magnitude = b.IsNegative ? SoftFloat80.Zero : new Float80(1UL << 63, 0x7FFF);
            r = invalid ? SoftFloat80.DefaultNaN : a.IsNegative ? SoftFloat80.Negate(magnitude) : magnitude;
        }
        else
        {
            X87FloatEnv scratch = env;
            int n = (int)SoftFloat80.ToInt(b, FloatRounding.TowardZero, int.MinValue, int.MaxValue, ref scratch);
            env.Precision = X87Precision.Extended;
            r = SoftFloat80.Scale(a, n, ref env);
        }

        St(fpu, 0) = r;
        X87Merge(fpu, env);
        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>
    /// helper_fxtract: ST(0) becomes the exponent and a pushed ST(0) the significand with exponent
    /// 0x3FFF. Zero: −∞ (ZE) and the zero; invalid encodings: the default NaN twice (IE); NaNs:
    /// twice, silenced; ±∞: +∞ and ±∞; denormals normalise first and raise DE.
    /// </summary>
    private static void Fxtract(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        Float80 v = St(fpu, 0);
        Float80 exponent, significand;
        if (SoftFloat80.IsZero(v))
        {
            exponent = SoftFloat80.Div(SoftFloat80.Negate(SoftFloat80.One), SoftFloat80.Zero, ref env);
            significand = v;
        }
        else if (SoftFloat80.IsInvalidEncoding(v))
        {
            env.Flags |= FloatExceptions.Invalid;
            exponent = significand = SoftFloat80.DefaultNaN;
        }
        else if (SoftFloat80.IsNaN(v))
        {
            if (SoftFloat80.IsSignalingNaN(v))
            {
                env.Flags |= FloatExceptions.Invalid;
                v = SoftFloat80.SilenceNaN(v);
            }

            exponent = significand = v;
        }
        else if (SoftFloat80.IsInfinity(v))
        {
            exponent = new Float80(1UL << 63, 0x7FFF);
            significand = v;
        }
        else
        {
            ulong sig = v.Significand;
            int exp = v.BiasedExponent - 16383;
            if (v.BiasedExponent == 0)
            {
                int shift = System.Numerics.BitOperations.LeadingZeroCount(sig);
                sig <<= shift;
                exp = 1 - 16383 - shift;
                env.Flags |= FloatExceptions.Denormal;
            }

            exponent = SoftFloat80.FromInt64(exp, ref env);
            significand = new Float80(sig, (ushort)((v.SignExponent & 0x8000) | 0x3FFF));
        }

        St(fpu, 0) = exponent;
        PushSt(fpu, significand);
        X87Merge(fpu, env);
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fprem(Cpu cpu, ref DecodedOp op) => X87PartialRemainder(cpu, ref op, true);

    private static void Fprem1(Cpu cpu, ref DecodedOp op) => X87PartialRemainder(cpu, ref op, false);

    /// <summary>
    /// helper_fprem_common: C0–C3 cleared; special operands go straight to floatx80_modrem; an
    /// exponent difference below 64 gives the full remainder with the quotient's low bits in C0
    /// (q2), C3 (q1), C1 (q0) (always 0 for FPREM1, see <see cref="SoftFloat80.Remainder"/>); a
    /// larger one a partial remainder against ST(1) scaled by 2^(diff − (32 + diff mod 32)) at
    /// FCW's precision, with C2 set.
    /// </summary>
    private static void X87PartialRemainder(Cpu cpu, ref DecodedOp op, bool truncate)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        Float80 a = St(fpu, 0), b = St(fpu, 1);
        int sw = fpu.StatusWord & ~FswConditionBits;
        if (SoftFloat80.IsZero(a) || SoftFloat80.IsZero(b) || a.BiasedExponent == 0x7FFF || b.BiasedExponent == 0x7FFF
            || SoftFloat80.IsInvalidEncoding(a) || SoftFloat80.IsInvalidEncoding(b))
        {
            St(fpu, 0) = SoftFloat80.Remainder(a, b, truncate, out _, ref env);
        }
        else
        {
            int expA = a.BiasedExponent != 0 ? a.BiasedExponent : 1 - System.Numerics.BitOperations.LeadingZeroCount(a.Significand);
            int expB = b.BiasedExponent != 0 ? b.BiasedExponent : 1 - System.Numerics.BitOperations.LeadingZeroCount(b.Significand);
            int diff = expA - expB;
            if (diff < 64)
            {
                St(fpu, 0) = SoftFloat80.Remainder(a, b, truncate, out ulong q, ref env);
                sw |= (int)(((q & 4) << 6) | ((q & 2) << 13) | ((q & 1) << 9));
            }
            else
            {
                int n = 32 + (diff % 32);
                Float80 scaled = SoftFloat80.Scale(b, diff - n, ref env);
                St(fpu, 0) = SoftFloat80.Remainder(a, scaled, true, out _, ref env);
                sw |= FswC2;
            }
        }

        fpu.StatusWord = (ushort)sw;
        X87Merge(fpu, env);
        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>
    /// QEMU's FSIN/FCOS/FSINCOS/FPTAN: ST(0) to a double at FCW's rounding (flags not reported),
    /// the host's libm function (.NET's Math.Sin/Cos/Tan call the C runtime's, glibc on Linux, as
    /// QEMU does), back at FCW's precision; |x| &gt; 2^63 sets C2 and changes nothing.
    /// </summary>
    private static void X87Transcendental(Cpu cpu, ref DecodedOp op, Func<double, double> f, Float80? pushAfter, Func<double, double>? second)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        double x = BitConverter.UInt64BitsToDouble(SoftFloat80.ToFloat64(St(fpu, 0), ref env));
        if (x > X87MaxTan || x < -X87MaxTan)
        {
            fpu.StatusWord |= FswC2;
        }
        else
        {
            St(fpu, 0) = SoftFloat80.FromFloat64(BitConverter.DoubleToUInt64Bits(f(x)), ref env);
            if (pushAfter is { } constant)
            {
                PushSt(fpu, constant);
            }
            else if (second != null)
            {
                PushSt(fpu, SoftFloat80.FromFloat64(BitConverter.DoubleToUInt64Bits(second(x)), ref env));
            }

            fpu.StatusWord &= unchecked((ushort)~FswC2);
        }

        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fsin(Cpu cpu, ref DecodedOp op) => X87Transcendental(cpu, ref op, Math.Sin, null, null);

    private static void Fcos(Cpu cpu, ref DecodedOp op) => X87Transcendental(cpu, ref op, Math.Cos, null, null);

    private static void Fsincos(Cpu cpu, ref DecodedOp op) => X87Transcendental(cpu, ref op, Math.Sin, null, Math.Cos);

    private static void Fptan(Cpu cpu, ref DecodedOp op) => X87Transcendental(cpu, ref op, Math.Tan, SoftFloat80.One, null);
}
