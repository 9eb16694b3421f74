using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using CsCheck;

namespace Emulator.Fuzz.Tests.Support;

/// <summary>
/// Generators that start from a real, valid file and damage it the way storage, transfers and
/// hostile peers do: flipped bits, overwritten length fields, truncation, inserted garbage. A
/// parser's deep paths are reached only from a nearly valid input, so these find more than
/// random bytes do.
/// </summary>
public static class Mutations
{
    // Which seed each generator mutates, so FuzzRun can save a failure as a patch against it.
    private static readonly ConditionalWeakTable<Gen<byte[]>, byte[]> s_seeds = new();

    /// <summary>Random bytes of random length up to <paramref name="maxLength"/>.</summary>
    public static Gen<byte[]> Garbage(int maxLength) => Gen.Byte.Array[0, maxLength];

    /// <summary>
    /// <paramref name="seed"/> with 1–8 mutations applied. <paramref name="hotOffsets"/> (header and
    /// length-field positions) receive half the mutations, where they matter most.
    /// </summary>
    public static Gen<byte[]> Of(byte[] seed, IReadOnlyList<int>? hotOffsets = null)
    {
        hotOffsets ??= [];
        Gen<Func<byte[], byte[]>> one = Gen.OneOf(
            FlipBit(seed.Length, hotOffsets),
            OverwriteWord(seed.Length, hotOffsets),
            Truncate(seed.Length),
            Splice(seed.Length));
        Gen<byte[]> gen = one.Array[1, 8].Select(steps =>
        {
            byte[] bytes = (byte[])seed.Clone();
            foreach (var step in steps)
            {
                bytes = step(bytes);
            }

            return bytes;
        });
        s_seeds.AddOrUpdate(gen, seed);
        return gen;
    }

    /// <summary>The seed <paramref name="gen"/> mutates when it came from <see cref="Of"/>.</summary>
    public static byte[]? SeedOf(Gen<byte[]> gen) => s_seeds.TryGetValue(gen, out byte[]? seed) ? seed : null;

    private static Gen<int> Position(int length, IReadOnlyList<int> hot) =>
        hot.Count == 0 || length == 0
            ? Gen.Int[0, Math.Max(0, length - 1)]
            : Gen.Bool.SelectMany(useHot => useHot
                ? Gen.Int[0, hot.Count - 1].SelectMany(i => Gen.Int[0, 7].Select(d => Math.Min(length - 1, hot[i] + d)))
                : Gen.Int[0, length - 1]);

    private static Gen<Func<byte[], byte[]>> FlipBit(int length, IReadOnlyList<int> hot) =>
        Gen.Select(Position(length, hot), Gen.Int[0, 7], (at, bit) => (Func<byte[], byte[]>)(b =>
        {
            if (at < b.Length)
            {
                b[at] ^= (byte)(1 << bit);
            }

            return b;
        }));

    /// <summary>A 1/2/4/8-byte field set to an edge value: 0, all-ones, a sign bit, just past the file.</summary>
    private static Gen<Func<byte[], byte[]>> OverwriteWord(int length, IReadOnlyList<int> hot) =>
        Gen.Select(Position(length, hot), Gen.OneOf<int>(1, 2, 4, 8),
            Gen.OneOf<ulong>(Gen.OneOf<ulong>(0UL, ulong.MaxValue, 0x7FFF_FFFFUL, 0x8000_0000UL, 0xFFFF_FFFFUL, 0x1_0000_0000UL, (ulong)length, (ulong)length + 1), Gen.ULong),
            (at, width, value) => (Func<byte[], byte[]>)(b =>
            {
                if (at + width <= b.Length)
                {
                    Span<byte> field = stackalloc byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(field, value);
                    field[..width].CopyTo(b.AsSpan(at));
                }

                return b;
            }));

    private static Gen<Func<byte[], byte[]>> Truncate(int length) =>
        Gen.Int[0, Math.Max(0, length)].Select(keep => (Func<byte[], byte[]>)(b => b[..Math.Min(keep, b.Length)]));

    private static Gen<Func<byte[], byte[]>> Splice(int length) =>
        Gen.Select(Gen.Int[0, Math.Max(0, length)], Gen.Byte.Array[1, 64], (at, junk) => (Func<byte[], byte[]>)(b =>
        {
            int cut = Math.Min(at, b.Length);
            return [.. b.AsSpan(0, cut), .. junk, .. b.AsSpan(cut)];
        }));
}
