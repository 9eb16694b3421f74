using Emulator.Core.Cpu;
using Iced.Intel;

namespace Emulator.Core.Tests.Cpu.Coverage;

/// <summary>docs/cpu-coverage.md is what the code says, and no qemu64 form is missing without a reason.</summary>
[Trait("Category", "Unit")]
public class CoverageTableTests
{
    private static string DocPath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Emulator.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        return Path.Combine(dir!.FullName, "docs", "cpu-coverage.md");
    }

    [Fact]
    public void CommittedTable_IsCurrent()
    {
        string expected = CoverageTable.Markdown();
        string path = DocPath();
        if (Environment.GetEnvironmentVariable("EMU_UPDATE_COVERAGE") == "1")
        {
            File.WriteAllText(path, expected);
        }

        Assert.True(File.Exists(path), $"{path} is missing: regenerate it with EMU_UPDATE_COVERAGE=1");
        string actual = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(actual == expected, "docs/cpu-coverage.md is stale: regenerate it with EMU_UPDATE_COVERAGE=1 (see its header)");
    }

    [Fact]
    public void EveryQemu64Form_IsImplementedUdOrExplained()
    {
        var unexplained = CoverageTable.Build().Where(r => r.Status == "missing").SelectMany(r => r.Codes).ToList();
        Assert.True(unexplained.Count == 0, "qemu64 forms neither implemented nor explained: " + string.Join(", ", unexplained));
    }

    [Fact]
    public void NoImplementedForm_NeedsAFeatureQemu64LacksUnlessQemuRunsItAnyway()
    {
        var wrong = CoverageTable.Build().Where(r => r.Status.StartsWith("implemented although", StringComparison.Ordinal)).SelectMany(r => r.Codes).ToList();
        Assert.True(wrong.Count == 0, "implemented, but QEMU 7.2 raises #UD on qemu64: " + string.Join(", ", wrong));
    }

    [Fact]
    public void Classifier_FollowsTheModel()
    {
        // qemu64 has SSE3 and CX16 but no SSSE3, POPCNT or MONITOR (CPUID.1:ECX = 0x80002001).
        Assert.True(ModelFeatures.Valid(CpuModel.Qemu64, Code.Cmpxchg16b_m128));
        Assert.False(ModelFeatures.Valid(CpuModel.Qemu64, Code.Pshufb_xmm_xmmm128));
        Assert.False(ModelFeatures.Valid(CpuModel.Qemu64, Code.Popcnt_r32_rm32));
        Assert.Equal("#UD by design (qemu64 lacks MONITOR)", CoverageTable.Status(Code.Monitorw));
        Assert.StartsWith("#UD by design", CoverageTable.Status(Code.VEX_Vpaddb_xmm_xmm_xmmm128));
        Assert.Equal("implemented", CoverageTable.Status(Code.Paddb_xmm_xmmm128));

        // qemu32 has no CLFLUSH (CPUID.1:EDX[19] clear) and no long mode.
        Assert.False(ModelFeatures.Has(CpuModel.Qemu32, CpuidFeature.CLFSH));
        Assert.True(ModelFeatures.Has(CpuModel.Qemu64, CpuidFeature.CLFSH));
        Assert.False(ModelFeatures.Has(CpuModel.Qemu32, CpuidFeature.X64));
    }
}
