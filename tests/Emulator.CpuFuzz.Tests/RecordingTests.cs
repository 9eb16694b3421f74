using Emulator.CpuFuzz.Tests.Fuzzer;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// A case recorded from QEMU into a regression file replays against emu from the file alone, as
/// the run with QEMU did. With EMU_CPU_FUZZ_OUT set, the files are written there (how
/// Regressions/*.txt were made: docs/cpu-fuzzer.md).
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(HandlerTableCollection.Name)]
public sealed class RecordingTests
{
    [Theory]
    [InlineData(FuzzMode.Long64, 104)]
    [InlineData(FuzzMode.Protected32, 104)]
    [InlineData(FuzzMode.Compatibility32, 104)]
    public void ARecordedCaseReplaysWithoutQemu(FuzzMode mode, int seed)
    {
        FuzzEnvironment.RequireQemu();
        var fuzzCase = CaseGenerator.Generate(mode, seed, 24);
        Assert.Null(DifferentialFuzzer.Check(fuzzCase, out var qemu));
        string text = RegressionFile.Write(fuzzCase, qemu, $"{mode} seed {seed}, 24 items, recorded from QEMU 7.2");
        if (FuzzEnvironment.OutputFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, $"{mode}-seed{seed}.txt"), text);
        }

        var (read, sequence, states) = RegressionFile.Read(text);
        Assert.Equal(qemu.Count, states.Count);
        Assert.Null(DifferentialFuzzer.Compare(read, sequence, RomImage.Build(read, sequence), states));
    }
}
