using System.Runtime.CompilerServices;
using Emulator.Core.Cpu.Float;

namespace Emulator.Core.Tests.Cpu.Float;

/// <summary>
/// SoftFloat80 against the host x87 (tools/x87-vectors/gen.c): for every operation, all four
/// rounding controls and the three precision controls, the digest of the results and status bits
/// of the generated operands (Data/x87-vectors.txt, from a real FPU) must equal the digest of ours.
/// Where QEMU 7.2 deliberately differs from the hardware, the group is listed in
/// <see cref="QemuDiffers"/> with the reason, and unit tests pin QEMU's behaviour instead.
/// Set EMU_X87_VECTOR_DUMP to the text of <c>gen COUNT OP RC PC</c> to list the differing records.
/// </summary>
[Trait("Category", "Unit")]
public class SoftFloat80VectorTests
{
    private static readonly string[] Names =
    [
        "add", "sub", "mul", "div", "sqrt", "frndint", "fst32", "fst64", "fld32", "fld64",
        "fist16", "fist32", "fist64", "fild64", "fcom", "fucom",
    ];

    private static string DataFile([CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "Data", "x87-vectors.txt");

    /// <summary>
    /// (operation, PC) groups where QEMU 7.2 rounds and the FPU does not: QEMU packs every
    /// floatx80 result at FCW.PC's precision (floatx80_round_pack_canonical), so FLD m64 rounds
    /// to 24 bits under PC=single and FRNDINT rounds its integer to PC's width, where the FPU
    /// applies PC only to the arithmetic instructions (SDM Vol. 1, 8.1.5.2).
    /// </summary>
    private static bool QemuDiffers(string op, int pc) =>
        (op == "fld64" && pc == 0) || (op == "frndint" && pc != 3);

    public static TheoryData<string> Groups()
    {
        var data = new TheoryData<string>();
        foreach (string line in File.ReadAllLines(DataFile()))
        {
            string[] f = line.Split(' ');
            if (!QemuDiffers(f[0], int.Parse(f[2])))
            {
                data.Add(line);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void DigestMatchesTheHostFpu(string line)
    {
        string[] f = line.Split(' ');
        int op = Array.IndexOf(Names, f[0]);
        int rc = int.Parse(f[1]), pc = int.Parse(f[2]);
        long count = long.Parse(f[3]);
        var source = new X87VectorSource(0x5EED0000UL + (ulong)(op * 64) + (ulong)(rc * 4) + (ulong)pc);
        ushort cw = (ushort)(0x7F | (pc << 8) | (rc << 10));
        ulong hash = 0xcbf29ce484222325UL;
        var mine = new List<string>();
        Span<byte> result = stackalloc byte[10];
        for (long i = 0; i < count; i++)
        {
            Float80 a = source.Extended();
            Float80 b = source.Near(a);
            ulong bits = f[0] == "fld32" ? source.Binary(23, 8) : f[0] == "fld64" ? source.Binary(52, 11) : source.Next();
            ushort sw = X87VectorOps.Run(f[0], cw, a, b, bits, result, out int length);
            for (int k = 0; k < length; k++)
            {
                hash = (hash ^ result[k]) * 0x100000001b3UL;
            }

            hash = (hash ^ (byte)sw) * 0x100000001b3UL;
            hash = (hash ^ (byte)(sw >> 8)) * 0x100000001b3UL;
            if (Environment.GetEnvironmentVariable("EMU_X87_VECTOR_DUMP") != null)
            {
                mine.Add($"{Convert.ToHexString(result[..length].ToArray().Reverse().ToArray()).ToLowerInvariant()} sw {sw:x4}");
            }
        }

        if (Environment.GetEnvironmentVariable("EMU_X87_VECTOR_DUMP") is { } dump && File.Exists(dump))
        {
            string[] expected = File.ReadAllLines(dump);
            var diffs = expected.Select((l, i) => (l, i)).Where(x => !x.l.EndsWith(" -> " + mine[x.i])).Take(20)
                .Select(x => $"{x.l}   ours {mine[x.i]}");
            Assert.Fail(string.Join('\n', diffs));
        }

        Assert.Equal(f[4], hash.ToString("x16"));
    }
}
