using Iced.Intel;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// Random cases from a seed (<see cref="System.Random"/> with a seed is one fixed algorithm, so a
/// seed is the same case on every run). Instruction forms come from Iced's opcode table
/// (<see cref="InstructionForms"/>): a family is drawn uniformly, then one of its encodings, then
/// operands — registers (never RSP, which keeps the stack in its page), memory
/// <c>[base + disp8]</c> into the scratch page with the base loaded just before, immediates.
/// </summary>
public static class CaseGenerator
{
    /// <summary>Values that hit the edges of the arithmetic more often than uniform ones.</summary>
    private static readonly ulong[] Interesting =
        [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
         0x7FFFFFFFFFFFFFFF, 0x8000000000000000, ulong.MaxValue, 31, 32, 63, 64];

    /// <summary>The arithmetic flags, DF and reserved bit 1; IF and TF stay clear (no interrupts, no #DB).</summary>
    private const ulong RandomFlags = 0x001 | 0x004 | 0x010 | 0x040 | 0x080 | 0x400 | 0x800;

    public static FuzzCase Generate(FuzzMode mode, int seed, int itemCount)
    {
        var random = new Random(seed);
        var gprs = new ulong[16];
        for (int i = 0; i < 16; i++)
        {
            gprs[i] = RandomValue(random);
        }

        gprs[4] = FuzzLayout.StackStart;
        ulong flags = ((ulong)random.NextInt64() & RandomFlags) | 2;
        var xmm = new UInt128[16];
        for (int i = 0; i < 16; i++)
        {
            xmm[i] = new UInt128(RandomValue(random), RandomValue(random));
        }

        // Exceptions masked (the reset value 0x1F80), the rounding mode random.
        uint mxcsr = 0x1F80u | ((uint)random.Next(4) << 13);
        var forms = InstructionForms.For(mode);
        var items = new List<FuzzItem>(itemCount);
        for (int i = 0; i < itemCount; i++)
        {
            items.Add(forms.NextItem(random));
        }

        int memorySeed = random.Next();

        // The x87 setup from a stream of its own, so the draws above stay what they were.
        return new FuzzCase(mode, gprs, flags, xmm, mxcsr, memorySeed, items) { X87 = X87Setup.Random(new Random(memorySeed ^ 0x87)) };
    }

    public static ulong RandomValue(Random random) => random.Next(4) == 0
        ? Interesting[random.Next(Interesting.Length)]
        : (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
}
