using System.Numerics;
using System.Runtime.CompilerServices;
using Emulator.Core.Cpu.Float;

namespace Emulator.Core.Tests.Cpu.Float;

/// <summary>
/// Millions of edge-biased operands (denormals, infinities, NaNs, zeros, the exponent extremes)
/// through the soft-float library and the host's .NET float/double arithmetic, which is IEEE
/// round-to-nearest-even: results must be identical bit for bit (a NaN with one NaN operand is
/// that operand quieted on both; two NaN operands are left out, QEMU's choice differs from the hardware's).
/// </summary>
[Trait("Category", "Slow")]
public class SoftFloatHostTests
{
    private const int Count = 1_000_000;

    private static ulong Edge64(Random r) => r.Next(8) switch
    {
        0 => new ulong[] { 0, 1, 0x000FFFFFFFFFFFFF, 0x0010000000000000, 0x7FEFFFFFFFFFFFFF, 0x7FF0000000000000, 0x3FF0000000000000, 0x7FF8000000000000, 0x7FF0000000000001 }[r.Next(9)] | (r.Next(2) == 0 ? 0 : 1UL << 63),
        1 => (ulong)r.NextInt64() & 0x800FFFFFFFFFFFFFUL,
        2 => ((ulong)r.NextInt64() & 0x800FFFFFFFFFFFFFUL) | ((ulong)r.Next(1, 60) << 52),
        3 => ((ulong)r.NextInt64() & 0x800FFFFFFFFFFFFFUL) | ((ulong)(0x7FE - r.Next(60)) << 52),
        4 => ((ulong)r.NextInt64() & 0x800FFFFFFFFFFFFFUL) | ((ulong)(1023 + r.Next(-60, 60)) << 52),
        _ => (ulong)r.NextInt64() ^ ((ulong)r.Next() << 63),
    };

    private static uint Edge32(Random r) => r.Next(8) switch
    {
        0 => new uint[] { 0, 1, 0x007FFFFF, 0x00800000, 0x7F7FFFFF, 0x7F800000, 0x3F800000, 0x7FC00000, 0x7F800001 }[r.Next(9)] | (r.Next(2) == 0 ? 0 : 0x80000000u),
        1 => (uint)r.Next() & 0x807FFFFFu,
        2 => ((uint)r.Next() & 0x807FFFFFu) | ((uint)r.Next(1, 30) << 23),
        3 => ((uint)r.Next() & 0x807FFFFFu) | ((uint)(0xFE - r.Next(30)) << 23),
        4 => ((uint)r.Next() & 0x807FFFFFu) | ((uint)(127 + r.Next(-30, 30)) << 23),
        _ => (uint)r.Next() ^ ((uint)r.Next(2) << 31),
    };

    [Fact]
    public void Binary64AgreesWithTheHost() => Agrees<ulong, double>(
        Edge64, BitConverter.UInt64BitsToDouble, BitConverter.DoubleToUInt64Bits, Math.Sqrt, n => n, x => U((float)x));

    [Fact]
    public void Binary32AgreesWithTheHost() => Agrees<uint, float>(
        Edge32, BitConverter.UInt32BitsToSingle, BitConverter.SingleToUInt32Bits, MathF.Sqrt, n => n, x => BitConverter.DoubleToUInt64Bits(x));

    /// <summary>The four operations, the root, integer to float and the conversion to the other format, for <typeparamref name="TBits"/>-wide operands.</summary>
    private static void Agrees<TBits, THost>(
        Func<Random, TBits> edge, Func<TBits, THost> host, Func<THost, TBits> bits, Func<THost, THost> sqrt, Func<long, THost> fromInt, Func<THost, ulong> toOther)
        where TBits : unmanaged, IBinaryInteger<TBits>, IUnsignedNumber<TBits>
        where THost : IFloatingPointIeee754<THost>
    {
        var r = new Random(Unsafe.SizeOf<TBits>());
        for (int i = 0; i < Count; i++)
        {
            TBits a = edge(r), b = edge(r);
            THost x = host(a), y = host(b);
            if (THost.IsNaN(x) && THost.IsNaN(y))
            {
                continue;
            }

            var s = new SoftFloatStatus(FloatRounding.NearestEven);
            Check(i, a, b, SoftFloat<TBits>.Add(a, b, ref s), bits(x + y));
            Check(i, a, b, SoftFloat<TBits>.Sub(a, b, ref s), bits(x - y));
            Check(i, a, b, SoftFloat<TBits>.Mul(a, b, ref s), bits(x * y));
            Check(i, a, b, SoftFloat<TBits>.Div(a, b, ref s), bits(x / y));
            Check(i, a, b, SoftFloat<TBits>.Sqrt(a, ref s), bits(sqrt(x)));
            long n = r.NextInt64() >> r.Next(64);
            Check(i, a, b, SoftFloat<TBits>.FromInt(n, ref s), bits(fromInt(n)));
            ulong other = Unsafe.SizeOf<TBits>() == 4 ? SoftFloat<TBits>.Convert<ulong>(a, ref s) : SoftFloat<TBits>.Convert<uint>(a, ref s);
            Check(i, ulong.CreateTruncating(a), ulong.CreateTruncating(b), other, toOther(x));
        }
    }

    private static uint U(float x) => BitConverter.SingleToUInt32Bits(x);

    private static void Check<T>(int i, T a, T b, T got, T want)
        where T : IBinaryInteger<T>
    {
        if (got != want)
        {
            Assert.Fail($"case {i}: a={a:x} b={b:x}: got {got:x}, host {want:x}");
        }
    }
}
