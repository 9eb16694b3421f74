using Emulator.Core.Cpu.Float;
using Emulator.CpuFuzz.Tests.Fuzzer;
using Iced.Intel;
using Xunit.Abstractions;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// F2XM1, FYL2X, FYL2XP1 and FPATAN in runs of their own against QEMU 7.2: the campaign draws them
/// with the rest of the x87 family (about one item in a hundred), this gives them whole cases —
/// eight stacked values, half of them inside the instructions' ranges (|x| ≤ 1, near 1), the
/// others the x87 setup's edge-biased ones, random RC, PC and masks — each instruction reading
/// what the previous left. Compared stepped, in whole blocks and compiled as the campaign does;
/// EMU_CPU_FUZZ_INSTRUCTIONS and EMU_CPU_FUZZ_SEED size it (docs/cpu-fuzzer.md).
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(HandlerTableCollection.Name)]
public sealed class X87TranscendentalFuzzTests(ITestOutputHelper output)
{
    private const int ItemsPerCase = 12;
    private static readonly Code[] Forms = [Code.F2xm1, Code.Fyl2x, Code.Fyl2xp1, Code.Fpatan];

    [Theory]
    [InlineData(FuzzMode.Long64)]
    [InlineData(FuzzMode.Protected32)]
    [InlineData(FuzzMode.Compatibility32)]
    [InlineData(FuzzMode.Real16)]
    public void RunsOfTheFourAgreeWithQemu(FuzzMode mode)
    {
        FuzzEnvironment.RequireQemu();
        using var qemu = new QemuRunner();
        var divergences = new List<string>();
        long cases = (FuzzEnvironment.Instructions + ItemsPerCase - 1) / ItemsPerCase;
        for (int seed = FuzzEnvironment.Seed; seed < FuzzEnvironment.Seed + cases; seed++)
        {
            var random = new Random(seed ^ 0x2F87);
            var items = Enumerable.Range(0, ItemsPerCase).Select(_ => new FuzzItem([Instruction.Create(Forms[random.Next(Forms.Length)])])).ToArray();
            var values = Enumerable.Range(0, 8).Select(_ => random.Next(2) == 0 ? InRange(random) : X87Setup.RandomValue(random)).ToArray();
            var fuzzCase = CaseGenerator.Generate(mode, seed, 0).WithItems(items) with { X87 = new X87Setup(X87Setup.Random(random).Control, values) };
            if (DifferentialFuzzer.Check(fuzzCase, out _, qemu) is { } divergence)
            {
                divergences.Add(divergence.Report($"transcendental seed {seed}"));
                output.WriteLine(divergences[^1]);
            }
        }

        output.WriteLine($"{mode}: {cases} cases of {ItemsPerCase} from seed {FuzzEnvironment.Seed}, {divergences.Count} divergences");
        Assert.True(divergences.Count == 0, string.Join("\n", divergences.Take(5)));
    }

    /// <summary>|x| from 2^-80 to 1, or just around 1 (FYL2X's cancellation).</summary>
    private static Float80 InRange(Random random)
    {
        ulong significand = (ulong)random.NextInt64() | (1UL << 63);
        int exponent = random.Next(3) switch
        {
            0 => 0x3FFE + random.Next(2),
            _ => 0x3FAF + random.Next(0x3FFF - 0x3FAF),
        };
        if (random.Next(4) == 0)
        {
            significand = exponent == 0x3FFE ? ulong.MaxValue - (ulong)random.Next(1 << 16) : (1UL << 63) + (ulong)random.Next(1 << 16);
        }

        return new Float80(significand, (ushort)(exponent | (random.Next(2) << 15)));
    }
}
