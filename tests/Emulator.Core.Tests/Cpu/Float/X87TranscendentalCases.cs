using System.Globalization;
using Emulator.Core.Cpu.Float;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu.Float;

/// <summary>The four instructions whose results Data/x87-transcendental-vectors.txt.gz records from QEMU 7.2.</summary>
public enum X87Transcendental
{
    F2xm1,
    Fyl2x,
    Fyl2xp1,
    Fpatan,
}

/// <summary>One case: FCW and the two stacked operands, and what the instruction left (FSW with TOP, the full tag word of FNSAVE, ST(0), ST(1) and ST(7) as FNSAVE stores them).</summary>
public sealed record X87TranscendentalVector(
    X87Transcendental Op, ushort Control, Float80 St0, Float80 St1, ushort Status, ushort Tags, Float80 OutSt0, Float80 OutSt1, Float80 OutSt7)
{
    public string Format() => string.Join(' ', Op.ToString().ToLowerInvariant(), $"{Control:x4}", St0, St1, $"{Status:x4}", $"{Tags:x4}", OutSt0, OutSt1, OutSt7);

    public static X87TranscendentalVector Parse(string line)
    {
        string[] f = line.Split(' ');
        return new(Enum.Parse<X87Transcendental>(f[0], ignoreCase: true), Hex16(f[1]), ParseFloat80(f[2]), ParseFloat80(f[3]),
            Hex16(f[4]), Hex16(f[5]), ParseFloat80(f[6]), ParseFloat80(f[7]), ParseFloat80(f[8]));
    }

    private static ushort Hex16(string s) => ushort.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static Float80 ParseFloat80(string s) =>
        new(ulong.Parse(s.AsSpan(5), NumberStyles.HexNumber, CultureInfo.InvariantCulture), Hex16(s[..4]));
}

/// <summary>
/// The cases of Data/x87-transcendental-vectors.txt.gz and the real-mode program that runs them,
/// the same on QEMU (as a BIOS image, <see cref="X87TranscendentalRecorder"/>) and on emu
/// (<see cref="X87TranscendentalVectorTests"/>): for each 32-byte case at 0x10000 + 32·i (FCW at
/// +0, ST(1) at +4, ST(0) at +16): FNINIT, FLDCW, FLD m80 ×2, the instruction, FNSAVE to 0:0x600,
/// and the 94-byte image out of port 0xE9; then port 0xF4 ends the run.
/// </summary>
public static class X87TranscendentalCases
{
    public const ulong InputBase = 0x10000;
    public const int CaseBytes = 32;
    public const int SaveImageBytes = 94;
    private const ushort SaveArea = 0x600;

    /// <summary>Operands that reach every special rule: zeros, infinities, NaNs and SNaNs, pseudo-NaNs and pseudo-infinities, unnormals, denormals and pseudo-denormals, exponent extremes, ±1, the rules' boundaries.</summary>
    private static readonly Float80[] Edges =
    [
        new(0, 0), new(0, 0x8000), new(1UL << 63, 0x7FFF), new(1UL << 63, 0xFFFF),
        new(0xC000000000000000, 0xFFFF), new(0xC000000000001234, 0x7FFF), new(0x8000000000000001, 0x7FFF), new(0xA000000000000000, 0xFFFF),
        new(0x4000000000000001, 0x7FFF), new(0x0000000000000001, 0x7FFF), new(0, 0x7FFF), new(0x4000000000000000, 0x3FFF),
        new(0x4000000000000000, 0x0001), new(1, 0), new(0x7FFFFFFFFFFFFFFF, 0x8000), new(0x0000000100000000, 0),
        new(1UL << 63, 0), new(0xC000000000000000, 0x8000), new(1UL << 63, 0x0001), new(ulong.MaxValue, 0x7FFE), new(ulong.MaxValue, 0xFFFE),
        new(1UL << 63, 0x3FFF), new(1UL << 63, 0xBFFF), new(0x8000000000000001, 0x3FFF), new(ulong.MaxValue, 0x3FFE),
        new(1UL << 63, 0x3FFE), new(1UL << 63, 0xBFFE), new(1UL << 63, 0x4000), new(0xB504F333F9DE6484, 0x3FFF), new(0xB504F333F9DE6485, 0x3FFF),
        new(0xD413CCCFE7799211, 0x3FFD), new(0xD413CCCFE7799212, 0x3FFD), new(0x95F619980C4336F7, 0xBFFD), new(0x95F619980C4336F8, 0xBFFD),
        new(ulong.MaxValue, 0x3FAF), new(1UL << 63, 0x3FB0), new(1UL << 63, 0xBFB0), new(1UL << 63, 0x3FBF), new(0xC90FDAA22168C235, 0x4000),
        new(1UL << 63, 0x3FFC), new(1UL << 63, 0xBFFB), new(0xF800000000002E7E, 0xBFFE), new(0xD0000000000093BE, 0x3FFD),
    ];

    public static IEnumerable<(ushort Control, Float80 St0, Float80 St1)> Generate(X87Transcendental op)
    {
        var random = new Random(0x87 + (int)op);
        ushort Control() => RandomControl(random);
        if (op == X87Transcendental.F2xm1)
        {
            foreach (Float80 v in Edges)
            {
                for (int rc = 0; rc < 4; rc++)
                {
                    yield return ((ushort)(0x037F | (rc << 10)), v, Edges[random.Next(Edges.Length)]);
                    yield return (Control(), v, RandomWide(random));
                }
            }

            for (int i = 0; i < 2600; i++)
            {
                int exp = random.Next(5) switch
                {
                    0 => random.Next(0x3FB0),
                    1 => 0x3FFF,
                    2 => 0x3FAC + random.Next(8),
                    _ => 0x3FB0 + random.Next(0x3FFF - 0x3FB0),
                };
                yield return (Control(), new Float80(RandomSignificand(random), (ushort)(exp | (random.Next(2) << 15))), RandomWide(random));
            }

            yield break;
        }

        foreach (Float80 a in Edges)
        {
            foreach (Float80 b in Edges)
            {
                yield return (Control(), a, b);
            }
        }

        for (int i = 0; i < 2400; i++)
        {
            yield return op switch
            {
                X87Transcendental.Fyl2x => (Control(), Positive(random.Next(3) == 0 ? NearOne(random) : RandomWide(random)), RandomWide(random)),
                X87Transcendental.Fyl2xp1 => (Control(), RandomSmall(random), RandomWide(random)),
                _ => (Control(), RandomWide(random), random.Next(2) == 0 ? RandomWide(random) : Near(RandomWide(random), random)),
            };
        }
    }

    /// <summary>RC and PC random (PC=01, reserved, included); exceptions masked seven times in eight, else a random mask set.</summary>
    private static ushort RandomControl(Random random)
    {
        int masks = random.Next(8) == 0 ? random.Next(0x40) : 0x3F;
        return (ushort)(0x40 | masks | (random.Next(4) << 8) | (random.Next(4) << 10));
    }

    private static ulong RandomSignificand(Random random) => random.Next(6) switch
    {
        0 => 1UL << 63,
        1 => ulong.MaxValue,
        2 => (1UL << 63) | (1UL << random.Next(63)),
        _ => (ulong)random.NextInt64() | (1UL << 63),
    };

    /// <summary>Any exponent, biased toward 0 and 1 and the extremes, either sign; denormals at exponent 0.</summary>
    private static Float80 RandomWide(Random random)
    {
        int exp = random.Next(6) switch
        {
            0 => random.Next(0x7FFF),
            1 => random.Next(4),
            2 => 0x7FFE - random.Next(4),
            3 => 0x3F00 + random.Next(0x200),
            _ => 0x3FFF - 70 + random.Next(140),
        };
        ulong sig = RandomSignificand(random);
        if (exp == 0)
        {
            sig >>= random.Next(64);
        }

        return new Float80(sig, (ushort)(exp | (random.Next(2) << 15)));
    }

    /// <summary>FYL2XP1's operand: |x| below about 0.3 (a few just outside), down to tiny and denormal.</summary>
    private static Float80 RandomSmall(Random random)
    {
        int exp = random.Next(4) switch
        {
            0 => random.Next(0x3FB0),
            1 => 0x3FFD + random.Next(2),
            _ => 0x3FB0 + random.Next(0x3FFD - 0x3FB0),
        };
        return new Float80(RandomSignificand(random), (ushort)(exp | (random.Next(2) << 15)));
    }

    private static Float80 NearOne(Random random) =>
        random.Next(2) == 0 ? new Float80((1UL << 63) + (ulong)random.Next(1 << 20), 0x3FFF) : new Float80(ulong.MaxValue - (ulong)random.Next(1 << 20), 0x3FFE);

    private static Float80 Positive(Float80 v) => new(v.Significand, (ushort)(v.SignExponent & 0x7FFF));

    /// <summary>A value whose exponent is within 90 of <paramref name="v"/>'s (FPATAN's quotients from 2^-90 to 2^90).</summary>
    private static Float80 Near(Float80 v, Random random)
    {
        int exp = Math.Clamp(v.BiasedExponent + random.Next(-90, 91), 1, 0x7FFE);
        return new Float80(RandomSignificand(random), (ushort)(exp | (random.Next(2) << 15)));
    }

    /// <summary>The cases' 32-byte input records.</summary>
    public static byte[] InputImage(IReadOnlyList<(ushort Control, Float80 St0, Float80 St1)> cases)
    {
        var image = new byte[cases.Count * CaseBytes];
        for (int i = 0; i < cases.Count; i++)
        {
            var span = image.AsSpan(i * CaseBytes);
            BitConverter.TryWriteBytes(span, cases[i].Control);
            WriteFloat80(span[4..], cases[i].St1);
            WriteFloat80(span[16..], cases[i].St0);
        }

        return image;
    }

    private static void WriteFloat80(Span<byte> span, Float80 v)
    {
        BitConverter.TryWriteBytes(span, v.Significand);
        BitConverter.TryWriteBytes(span[8..], v.SignExponent);
    }

    /// <summary>The real-mode loop over <paramref name="count"/> cases (at most 18,432: the records end below 0xA0000).</summary>
    public static void Program(Assembler a, X87Transcendental op, int count)
    {
        var next = a.CreateLabel();
        a.cli();
        a.xor(ax, ax);
        a.mov(ss, ax);
        a.mov(sp, 0x7000);
        a.mov(cx, (ushort)count);
        a.mov(bx, (ushort)(InputBase >> 4));
        a.Label(ref next);
        a.mov(ds, bx);
        a.fninit();
        a.fldcw(__word_ptr[0]);
        a.fld(__tword_ptr[4]);
        a.fld(__tword_ptr[16]);
        switch (op)
        {
            case X87Transcendental.F2xm1: a.f2xm1(); break;
            case X87Transcendental.Fyl2x: a.fyl2x(); break;
            case X87Transcendental.Fyl2xp1: a.fyl2xp1(); break;
            default: a.fpatan(); break;
        }

        a.xor(ax, ax);
        a.mov(ds, ax);
        a.fnsave(__[SaveArea]);
        a.mov(si, SaveArea);
        a.mov(dx, 0xE9);
        a.push(cx);
        a.mov(cx, SaveImageBytes);
        a.rep.outsb();
        a.pop(cx);
        a.add(bx, CaseBytes >> 4);
        a.dec(cx);
        a.jnz(next);
        a.mov(al, 0);
        a.@out(0xF4, al);
        a.hlt();
    }

    private static Float80 SavedRegister(ReadOnlySpan<byte> image, int i) =>
        new(BitConverter.ToUInt64(image[(14 + (10 * i))..]), BitConverter.ToUInt16(image[(22 + (10 * i))..]));

    /// <summary>A case's result from its 16-bit FNSAVE image: FSW at +2, the tag word at +4, ST(i) at 14 + 10·i.</summary>
    public static X87TranscendentalVector FromSaveImage(X87Transcendental op, (ushort Control, Float80 St0, Float80 St1) c, ReadOnlySpan<byte> image)
    {
        return new(op, c.Control, c.St0, c.St1, BitConverter.ToUInt16(image[2..]), BitConverter.ToUInt16(image[4..]),
            SavedRegister(image, 0), SavedRegister(image, 1), SavedRegister(image, 7));
    }
}
