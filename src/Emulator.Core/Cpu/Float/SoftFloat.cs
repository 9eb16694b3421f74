using System.Numerics;
using System.Runtime.CompilerServices;

namespace Emulator.Core.Cpu.Float;

/// <summary>
/// IEEE binary32 (<c>SoftFloat&lt;uint&gt;</c>) and binary64 (<c>SoftFloat&lt;ulong&gt;</c>)
/// arithmetic in software, exactly as QEMU 7.2 computes it for x86 SSE (see <see cref="FloatOps"/>):
/// operands and results are raw bit patterns, the environment and the accumulated exception
/// flags are a <see cref="SoftFloatStatus"/>.
/// </summary>
public static class SoftFloat<T>
    where T : unmanaged, IBinaryInteger<T>, IUnsignedNumber<T>
{
    private static FloatFormat Format => Unsafe.SizeOf<T>() == 4 ? FloatFormat.Binary32 : FloatFormat.Binary64;

    public static T Add(T a, T b, ref SoftFloatStatus s) => Bits(FloatOps.AddSub(U(a), U(b), false, Format, ref s));

    public static T Sub(T a, T b, ref SoftFloatStatus s) => Bits(FloatOps.AddSub(U(a), U(b), true, Format, ref s));

    public static T Mul(T a, T b, ref SoftFloatStatus s) => Bits(FloatOps.Mul(U(a), U(b), Format, ref s));

    public static T Div(T a, T b, ref SoftFloatStatus s) => Bits(FloatOps.Div(U(a), U(b), Format, ref s));

    public static T Sqrt(T a, ref SoftFloatStatus s) => Bits(FloatOps.Sqrt(U(a), Format, ref s));

    /// <summary>x86 MIN (<see cref="FloatOps.Min"/>).</summary>
    public static T Min(T a, T b, ref SoftFloatStatus s) => Bits(FloatOps.Min(U(a), U(b), Format, ref s));

    /// <summary>x86 MAX (<see cref="FloatOps.Max"/>).</summary>
    public static T Max(T a, T b, ref SoftFloatStatus s) => Bits(FloatOps.Max(U(a), U(b), Format, ref s));

    /// <summary>The relation of <paramref name="a"/> to <paramref name="b"/>; <paramref name="quiet"/> raises invalid only for a signalling NaN, otherwise for any NaN.</summary>
    public static FloatRelation Compare(T a, T b, bool quiet, ref SoftFloatStatus s) => FloatOps.Compare(U(a), U(b), quiet, Format, ref s);

    /// <summary>To a signed integer of <paramref name="bits"/> (32 or 64) bits in <paramref name="mode"/>; the integer indefinite (the most negative value) with invalid when NaN or out of range.</summary>
    public static long ToInt(T a, FloatRounding mode, int bits, ref SoftFloatStatus s) => FloatOps.ToInt(U(a), mode, bits, Format, ref s);

    public static T FromInt(long value, ref SoftFloatStatus s) => Bits(FloatOps.FromInt(value, Format, ref s));

    /// <summary>To the format of <typeparamref name="TTo"/>, rounded in the status's mode; a signalling NaN is quieted with invalid, a NaN's fraction kept from the top.</summary>
    public static TTo Convert<TTo>(T a, ref SoftFloatStatus s)
        where TTo : unmanaged, IBinaryInteger<TTo>, IUnsignedNumber<TTo> =>
        TTo.CreateTruncating(FloatOps.Convert(U(a), Format, SoftFloat<TTo>.Format, ref s));

    private static ulong U(T x) => ulong.CreateTruncating(x);

    private static T Bits(ulong x) => T.CreateTruncating(x);
}
