using System.Text.RegularExpressions;

namespace Emulator.Fuzz.Tests.Support;

/// <summary>The corpus stays small and replayable, and failures from seeded runs are saved as patches.</summary>
[Trait("Category", "Fuzz")]
public class CorpusTests
{
    // Raw entries are small generated inputs; anything cut from a fixture is stored as a patch.
    private const int MaximumEntryBytes = 16 << 10;

    [Fact]
    public void EveryEntryIsSmallAndEveryPatchRebuildsItsRecordedInput()
    {
        string[] entries = Directory.GetFiles(FuzzRun.CorpusDirectory, "*", SearchOption.AllDirectories);

        Assert.NotEmpty(entries);
        Assert.All(entries, path =>
        {
            Assert.True(new FileInfo(path).Length < MaximumEntryBytes, $"{path} is {new FileInfo(path).Length} bytes; store a fixture-derived case as a .patch");
            if (path.EndsWith(".patch", StringComparison.Ordinal))
            {
                CorpusPatch patch = CorpusPatch.Parse(File.ReadAllText(path));
                Assert.NotNull(patch.Sha256);
                Assert.Equal(patch.Sha256, CorpusPatch.Hash(patch.Apply()));
            }
        });
    }

    [Fact]
    public void PatchOfFlippedInsertedAndTruncatedStoreIsShortAndExact()
    {
        byte[] seed = Seeds.Fixture("OVMF_VARS.fd");
        byte[] input = [.. seed.AsSpan(0, 5000), .. "inserted!"u8, .. seed.AsSpan(5000, 95000)];
        input[100] ^= 0x40;
        input[70000] = 0x12;
        input[70001] = 0x34;

        string text = CorpusPatch.Create(Seeds.OriginOf(seed)!, input).ToText(["test"]);

        Assert.Equal(input, CorpusPatch.Parse(text).Apply());
        Assert.True(text.Length < 400, text);
    }

    /// <summary>Fixed-seed or campaign (EMU_FUZZ_SECONDS, where CsCheck reports the shrunk input): both name the saved patch.</summary>
    [Fact]
    public void FailureOfSeededRunIsSavedAsPatch()
    {
        byte[] seed = Seeds.Fixture("OVMF_VARS.fd");

        Exception failure = Assert.ThrowsAny<Exception>(() => FuzzRun.Run("selftest-save", Mutations.Of(seed, [0x20]),
            _ => throw new InvalidOperationException("planted"), _ => false, new FuzzOptions(Iterations: 1)));

        string path = Regex.Match(failure.Message, @"(/\S+\.patch)").Groups[1].Value;
        Assert.True(File.Exists(path), failure.Message);
        string text = File.ReadAllText(path);
        Assert.Contains("planted", text, StringComparison.Ordinal);
        Assert.True(text.Length < MaximumEntryBytes);
        Assert.NotEqual(seed, CorpusPatch.Parse(text).Apply());
    }

    [Fact]
    public void TargetWithoutEntriesReplaysTheEmptyInput()
    {
        TheoryData<string> rows = FuzzRun.CorpusFiles("no-such-target");

        Assert.Equal(FuzzRun.NoEntries, Assert.Single((IEnumerable<object[]>)rows)[0]);
        Assert.Empty(FuzzRun.ReadCorpus("no-such-target", FuzzRun.NoEntries));
    }
}
