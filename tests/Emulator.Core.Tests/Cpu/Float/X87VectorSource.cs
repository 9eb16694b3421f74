using Emulator.Core.Cpu.Float;

namespace Emulator.Core.Tests.Cpu.Float;

/// <summary>
/// The operand stream of tools/x87-vectors/gen.c, draw for draw: splitmix64 and the same
/// edge-biased choices of exponents (0, all ones, near the extremes, near the bias) and
/// significands (integer bit alone, all ones, sparse, unnormal, runs of ones).
/// </summary>
internal sealed class X87VectorSource(ulong seed)
{
    private ulong state = seed;

    public ulong Next()
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private ushort Exponent()
    {
        ulong r = Next();
        return (r % 8) switch
        {
            0 => 0,
            1 => 0x7FFF,
            2 => (ushort)(1 + ((r >> 8) % 64)),
            3 => (ushort)(0x7FFE - ((r >> 8) % 64)),
            4 => (ushort)((r >> 8) & 0x7FFF),
            _ => (ushort)(0x3FFF - 64 + ((r >> 8) % 128)),
        };
    }

    private ulong Significand()
    {
        ulong r = Next();
        return (r % 8) switch
        {
            0 => 0x8000000000000000UL,
            1 => ulong.MaxValue,
            2 => 0x8000000000000000UL | (Next() & Next() & Next()),
            3 => Next(),
            4 => ulong.MaxValue << (int)((r >> 8) % 64),
            _ => Next() | 0x8000000000000000UL,
        };
    }

    public Float80 Extended()
    {
        ulong r = Next();
        ushort se = (ushort)(Exponent() | (int)((r & 1) << 15));
        return new Float80(Significand(), se);
    }

    /// <summary>A second operand, half the time with an exponent within 2 of <paramref name="a"/>'s (and sometimes nearly its significand).</summary>
    public Float80 Near(Float80 a)
    {
        Float80 v = Extended();
        ulong r = Next();
        if (r % 2 != 0)
        {
            int e = Math.Clamp(a.BiasedExponent + (int)((r >> 8) % 5) - 2, 0, 0x7FFF);
            v.SignExponent = (ushort)((v.SignExponent & 0x8000) | e);
            if ((r & 0x100000) != 0)
            {
                v.Significand = a.Significand ^ (Next() & 0xFF);
            }
        }

        return v;
    }

    /// <summary>A binary32/binary64 bit pattern: zero or all-ones exponents, tiny ones, any.</summary>
    public ulong Binary(int fracBits, int expBits)
    {
        ulong r = Next();
        ulong emax = (1UL << expBits) - 1;
        ulong e = (r % 6) switch
        {
            0 => 0,
            1 => emax,
            2 => 1 + ((r >> 8) % 4),
            _ => (r >> 8) & emax,
        };
        ulong f = Next() & ((1UL << fracBits) - 1);
        if ((r >> 20) % 4 == 0)
        {
            f &= Next();
        }

        ulong s = (r >> 30) & 1;
        return (s << (fracBits + expBits)) | (e << fracBits) | f;
    }
}
