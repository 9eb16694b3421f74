using Emulator.CpuFuzz.Tests.Fuzzer;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// Cases the fuzzer recorded (Regressions/, <see cref="RegressionFile"/>) replayed against emu
/// with QEMU's states as the data, no QEMU needed: every state must agree. A divergence the
/// fuzzer finds becomes such a file once shrunk (docs/cpu-fuzzer.md). Regressions/known/ holds
/// the divergences not fixed yet: they must still diverge.
/// </summary>
[Trait("Category", "Unit")]
[Collection(HandlerTableCollection.Name)]
public sealed class RegressionReplayTests
{
    public static TheoryData<string> Agreeing() => Files("Regressions");

    /// <summary>The files of Regressions/known/ (none while every recorded divergence is fixed; the folder may be absent).</summary>
    private static IEnumerable<string> Known()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "Regressions", "known");
        return Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.txt").Order(StringComparer.Ordinal).Select(path => Path.GetRelativePath(AppContext.BaseDirectory, path))
            : [];
    }

    [Theory]
    [MemberData(nameof(Agreeing))]
    public void EmuAgreesWithTheRecordedQemuStates(string file)
    {
        var divergence = Replay(file);
        Assert.True(divergence == null, divergence?.Report(file));
    }

    [Fact]
    public void EveryKnownDivergenceStillDiverges()
    {
        foreach (string file in Known())
        {
            Assert.True(Replay(file) != null,
                $"{file} agrees with QEMU now: the divergence was fixed; move the file up to Regressions/ and take it off docs/cpu-fuzzer.md's list");
        }
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
