using Emulator.CpuFuzz.Tests.Fuzzer;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// The control-transfer items reach their item-local targets: a case made of nothing else runs
/// on emu from the first item to the final HLT without an exception (a wrong target distance
/// would land on the INT3 between branch and target, or in the middle of an instruction).
/// </summary>
[Trait("Category", "Unit")]
public sealed class ControlTransferFormTests
{
    [Theory]
    [InlineData(FuzzMode.Long64)]
    [InlineData(FuzzMode.Protected32)]
    [InlineData(FuzzMode.Compatibility32)]
    [InlineData(FuzzMode.Real16)]
    public void EveryItemReachesItsTarget(FuzzMode mode)
    {
        var random = new Random(42);
        var template = CaseGenerator.Generate(mode, 42, 1);
        var items = Enumerable.Range(0, 40).Select(_ => ControlTransferForms.Next(mode, random)).ToList();
        var fuzzCase = template.WithItems(items);
        var sequence = fuzzCase.Encode();
        using var emu = new EmuRunner(RomImage.Build(fuzzCase, sequence), sequence);
        var states = emu.RunStepped(10_000);
        Assert.Equal(-1, states[^1].Vector);
        Assert.Equal(sequence.HltAddress, states[^1].Rip);
    }
}
