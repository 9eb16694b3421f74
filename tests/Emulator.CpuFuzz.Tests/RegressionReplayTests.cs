using Emulator.CpuFuzz.Tests.Fuzzer;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// Cases the fuzzer recorded (Regressions/, <see cref="RegressionFile"/>) replayed against emu
/// with QEMU's states as the data, no QEMU needed: every state must agree. A divergence the
/// fuzzer finds becomes such a file once shrunk (docs/cpu-fuzzer.md).
/// </summary>
[Trait("Category", "Unit")]
[Collection(HandlerTableCollection.Name)]
public sealed class RegressionReplayTests
{
    public static TheoryData<string> Agreeing() => Files("Regressions");

    [Theory]
    [MemberData(nameof(Agreeing))]
    public void EmuAgreesWithTheRecordedQemuStates(string file)
    {
        var divergence = Replay(file);
        Assert.True(divergence == null, divergence?.Report(file));
    }

    [Fact]
    public void TheFolderHoldsCasesOfEveryMode()
    {
        var modes = Agreeing().Cast<object[]>().Select(row => RegressionFile.Read(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, (string)row[0]))).Case.Mode);
        Assert.Equal(Enum.GetValues<FuzzMode>(), modes.Distinct().Order());
    }

    private static Divergence? Replay(string file)
    {
        var (fuzzCase, sequence, qemu) = RegressionFile.Read(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, file)));
        return DifferentialFuzzer.Compare(fuzzCase, sequence, RomImage.Build(fuzzCase, sequence), qemu);
    }

    private static TheoryData<string> Files(string folder)
    {
        var data = new TheoryData<string>();
        foreach (string path in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, folder), "*.txt").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(AppContext.BaseDirectory, path));
        }

        return data;
    }
}
