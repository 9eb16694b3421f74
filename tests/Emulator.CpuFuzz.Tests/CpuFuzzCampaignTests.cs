using Emulator.CpuFuzz.Tests.Fuzzer;
using Xunit.Abstractions;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// The differential campaign against QEMU 7.2 (docs/cpu-fuzzer.md): cases from consecutive
/// seeds, compared instruction by instruction, interpreted and block-compiled. CI runs the short
/// fixed-seed campaign; <see cref="FuzzEnvironment"/> describes the long one.
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(HandlerTableCollection.Name)]
public sealed class CpuFuzzCampaignTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(FuzzMode.Long64)]
    [InlineData(FuzzMode.Protected32)]
    [InlineData(FuzzMode.Compatibility32)]
    [InlineData(FuzzMode.Real16)]
    public void EmuAgreesWithQemuOnEveryInstruction(FuzzMode mode)
    {
        FuzzEnvironment.RequireQemu();
        var result = DifferentialFuzzer.Campaign(mode, FuzzEnvironment.Seed, FuzzEnvironment.Instructions, FuzzEnvironment.ItemsPerCase,
            FuzzEnvironment.Shrink, output.WriteLine, FuzzEnvironment.Jobs, FuzzEnvironment.QemuLogged);
        output.WriteLine($"{mode}: {result.Instructions} instructions in {result.Cases} cases from seed {FuzzEnvironment.Seed}, {result.Divergences.Count} divergences");
        if (FuzzEnvironment.OutputFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            foreach (var (seed, divergence) in result.Divergences)
            {
                DifferentialFuzzer.Check(divergence.Case, out var qemu);
                File.WriteAllText(Path.Combine(folder, $"{mode}-seed{seed}.txt"),
                    RegressionFile.Write(divergence.Case, qemu, divergence.Report($"seed {seed}")));
            }
        }

        Assert.True(result.Instructions >= FuzzEnvironment.Instructions);
        Assert.True(result.Divergences.Count == 0, string.Join("\n", result.Divergences.Select(d => d.Divergence.Report($"seed {d.Seed}"))));
    }
}
