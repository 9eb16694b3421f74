using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Emulator.Core.Cpu;

/// <summary>
/// The integer SIMD operations of MMX and SSE2 (Intel SDM Vol. 2; QEMU 7.2 target/i386/ops_sse.h
/// and tcg/emit.c.inc), each written once and run at the width its form chose
/// (<see cref="ISimdWidth"/>): element-wise arithmetic (wrapping, saturating), compares, min/max,
/// averages, multiplies, PMADDWD, PSADBW, the logic ops, packs and unpacks. Shifts are in
/// <c>Simd.Shifts.cs</c>, registration in <c>Simd.Forms.cs</c>.
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>One operation on a destination and a source value, <c>bytes</c> of them live (8 for MMX, 16 for XMM).</summary>
    internal interface ISimdOp
    {
        static abstract Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int bytes);
    }

    /// <summary>dest = op(dest, source): the shape of every two-operand integer form.</summary>
    private static void SimdBinary<TW, TOp>(Cpu cpu, ref DecodedOp op)
        where TW : struct, ISimdWidth
        where TOp : struct, ISimdOp
    {
        TW.Enter(cpu);
        var s = Source<TW>(cpu, ref op);
        TW.Set(cpu, op.Reg0, TOp.Apply(TW.Get(cpu, op.Reg0), s, TW.Bytes));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Span<T> Lanes<T>(ref Vector128<byte> v)
        where T : struct => MemoryMarshal.Cast<byte, T>(MemoryMarshal.CreateSpan(ref Unsafe.As<Vector128<byte>, byte>(ref v), 16));

    internal struct AddB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => d + s; }

    internal struct AddW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => (d.AsUInt16() + s.AsUInt16()).AsByte(); }

    internal struct AddD : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => (d.AsUInt32() + s.AsUInt32()).AsByte(); }

    internal struct AddQ : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => (d.AsUInt64() + s.AsUInt64()).AsByte(); }

    internal struct SubB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => d - s; }

    internal struct SubW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => (d.AsUInt16() - s.AsUInt16()).AsByte(); }

    internal struct SubD : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => (d.AsUInt32() - s.AsUInt32()).AsByte(); }

    internal struct SubQ : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => (d.AsUInt64() - s.AsUInt64()).AsByte(); }

    /// <summary>
    /// An element-wise operation on lanes of <typeparamref name="T"/> computed exactly in
    /// <see cref="int"/> and narrowed back (the saturating adds and subtracts clamp inside
    /// <paramref name="f"/>, the averages round there).
    /// </summary>
    private static Vector128<byte> Lanewise<T>(Vector128<byte> d, Vector128<byte> s, Func<int, int, int> f)
        where T : struct, IConvertible
    {
        var r = Vector128<byte>.Zero;
        var pd = Lanes<T>(ref d);
        var ps = Lanes<T>(ref s);
        var pr = Lanes<T>(ref r);
        for (int i = 0; i < pr.Length; i++)
        {
            pr[i] = (T)Convert.ChangeType(f(pd[i].ToInt32(null), ps[i].ToInt32(null)), typeof(T));
        }

        return r;
    }

    internal struct AddSatSB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Lanewise<sbyte>(d, s, static (a, b) => Math.Clamp(a + b, sbyte.MinValue, sbyte.MaxValue)); }

    internal struct AddSatSW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Lanewise<short>(d, s, static (a, b) => Math.Clamp(a + b, short.MinValue, short.MaxValue)); }

    internal struct AddSatUB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Lanewise<byte>(d, s, static (a, b) => Math.Min(a + b, byte.MaxValue)); }

    internal struct AddSatUW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Lanewise<ushort>(d, s, static (a, b) => Math.Min(a + b, ushort.MaxValue)); }

    internal struct SubSatSB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Lanewise<sbyte>(d, s, static (a, b) => Math.Clamp(a - b, sbyte.MinValue, sbyte.MaxValue)); }

    internal struct SubSatSW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Lanewise<short>(d, s, static (a, b) => Math.Clamp(a - b, short.MinValue, short.MaxValue)); }

    internal struct SubSatUB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Lanewise<byte>(d, s, static (a, b) => Math.Max(a - b, 0)); }

    internal struct SubSatUW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Lanewise<ushort>(d, s, static (a, b) => Math.Max(a - b, 0)); }

    internal struct CmpEqB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Vector128.Equals(d, s); }

    internal struct CmpEqW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Vector128.Equals(d.AsUInt16(), s.AsUInt16()).AsByte(); }

    internal struct CmpEqD : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Vector128.Equals(d.AsUInt32(), s.AsUInt32()).AsByte(); }

    internal struct CmpGtB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Vector128.GreaterThan(d.AsSByte(), s.AsSByte()).AsByte(); }

    internal struct CmpGtW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Vector128.GreaterThan(d.AsInt16(), s.AsInt16()).AsByte(); }

    internal struct CmpGtD : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Vector128.GreaterThan(d.AsInt32(), s.AsInt32()).AsByte(); }

    internal struct MinUB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Vector128.Min(d, s); }

    internal struct MaxUB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Vector128.Max(d, s); }

    internal struct MinSW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Vector128.Min(d.AsInt16(), s.AsInt16()).AsByte(); }

    internal struct MaxSW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Vector128.Max(d.AsInt16(), s.AsInt16()).AsByte(); }

    internal struct AvgB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Lanewise<byte>(d, s, static (a, b) => (a + b + 1) >> 1); }

    internal struct AvgW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Lanewise<ushort>(d, s, static (a, b) => (a + b + 1) >> 1); }

    internal struct BitAnd : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => d & s; }

    internal struct BitAndNot : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => ~d & s; }

    internal struct BitOr : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => d | s; }

    internal struct BitXor : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => d ^ s; }

    /// <summary>PMULLW: the low 16 bits of each product.</summary>
    internal struct MulLowW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => (d.AsUInt16() * s.AsUInt16()).AsByte(); }

    /// <summary>PMULHW (signed) and PMULHUW (unsigned): the high 16 bits of each 32-bit product.</summary>
    private static Vector128<byte> MulHigh(Vector128<byte> d, Vector128<byte> s, bool signed)
    {
        var r = Vector128<byte>.Zero;
        var pd = Lanes<ushort>(ref d);
        var ps = Lanes<ushort>(ref s);
        var pr = Lanes<ushort>(ref r);
        for (int i = 0; i < 8; i++)
        {
            int p = signed ? (short)pd[i] * (short)ps[i] : pd[i] * ps[i];
            pr[i] = (ushort)(p >> 16);
        }

        return r;
    }

    internal struct MulHighW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => MulHigh(d, s, true); }

    internal struct MulHighUW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => MulHigh(d, s, false); }

    /// <summary>PMULUDQ: the low dword of each quadword, multiplied to a full 64-bit product.</summary>
    internal struct MulUDQ : ISimdOp
    {
        public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n)
        {
            var mask = Vector128.Create(0xFFFF_FFFFUL);
            return ((d.AsUInt64() & mask) * (s.AsUInt64() & mask)).AsByte();
        }
    }

    /// <summary>PMADDWD: each dword the sum of two signed word products (wrapping: 2 × 0x8000² gives 0x80000000).</summary>
    internal struct MulAddWD : ISimdOp
    {
        public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n)
        {
            var r = Vector128<byte>.Zero;
            var pd = Lanes<short>(ref d);
            var ps = Lanes<short>(ref s);
            var pr = Lanes<uint>(ref r);
            for (int i = 0; i < 4; i++)
            {
                pr[i] = (uint)(pd[2 * i] * ps[2 * i]) + (uint)(pd[(2 * i) + 1] * ps[(2 * i) + 1]);
            }

            return r;
        }
    }

    /// <summary>PSADBW: per quadword, the sum of the eight absolute byte differences in its low word, the rest zero.</summary>
    internal struct SumAbsDiff : ISimdOp
    {
        public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n)
        {
            var r = Vector128<byte>.Zero;
            var pr = Lanes<ulong>(ref r);
            for (int q = 0; q < 2; q++)
            {
                int sum = 0;
                for (int i = 0; i < 8; i++)
                {
                    sum += Math.Abs(d.GetElement((q * 8) + i) - s.GetElement((q * 8) + i));
                }

                pr[q] = (ulong)sum;
            }

            return r;
        }
    }

    /// <summary>
    /// PACKSSWB/PACKSSDW/PACKUSWB: the destination's elements, then the source's, each narrowed to
    /// half its width with saturation into the destination (n/2 bytes from each).
    /// </summary>
    private static Vector128<byte> Pack<TWide, TNarrow>(Vector128<byte> d, Vector128<byte> s, int bytes, int min, int max)
        where TWide : struct, IConvertible
        where TNarrow : struct
    {
        var r = Vector128<byte>.Zero;
        var pr = Lanes<TNarrow>(ref r);
        int count = bytes / Unsafe.SizeOf<TWide>();
        var pd = Lanes<TWide>(ref d);
        var ps = Lanes<TWide>(ref s);
        for (int i = 0; i < count; i++)
        {
            pr[i] = (TNarrow)Convert.ChangeType(Math.Clamp(pd[i].ToInt32(null), min, max), typeof(TNarrow));
            pr[count + i] = (TNarrow)Convert.ChangeType(Math.Clamp(ps[i].ToInt32(null), min, max), typeof(TNarrow));
        }

        return r;
    }

    internal struct PackSSWB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Pack<short, sbyte>(d, s, n, sbyte.MinValue, sbyte.MaxValue); }

    internal struct PackSSDW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Pack<int, short>(d, s, n, short.MinValue, short.MaxValue); }

    internal struct PackUSWB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Pack<short, byte>(d, s, n, 0, byte.MaxValue); }

    /// <summary>PUNPCKL*/PUNPCKH*: elements of <paramref name="elem"/> bytes from the low or high half of the live bytes, destination first.</summary>
    private static Vector128<byte> Interleave(Vector128<byte> d, Vector128<byte> s, int bytes, int elem, bool high)
    {
        var r = Vector128<byte>.Zero;
        var pd = Lanes<byte>(ref d);
        var ps = Lanes<byte>(ref s);
        var pr = Lanes<byte>(ref r);
        int half = bytes / 2;
        int from = high ? half : 0;
        for (int i = 0; i < half / elem; i++)
        {
            pd.Slice(from + (i * elem), elem).CopyTo(pr.Slice(2 * i * elem));
            ps.Slice(from + (i * elem), elem).CopyTo(pr.Slice((2 * i * elem) + elem));
        }

        return r;
    }

    internal struct UnpackLowB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Interleave(d, s, n, 1, false); }

    internal struct UnpackLowW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Interleave(d, s, n, 2, false); }

    internal struct UnpackLowD : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Interleave(d, s, n, 4, false); }

    internal struct UnpackLowQ : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Interleave(d, s, n, 8, false); }

    internal struct UnpackHighB : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Interleave(d, s, n, 1, true); }

    internal struct UnpackHighW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Interleave(d, s, n, 2, true); }

    internal struct UnpackHighD : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Interleave(d, s, n, 4, true); }

    internal struct UnpackHighQ : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Interleave(d, s, n, 8, true); }
}
