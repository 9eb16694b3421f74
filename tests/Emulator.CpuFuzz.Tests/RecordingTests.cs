using Emulator.CpuFuzz.Tests.Fuzzer;
using Iced.Intel;

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
    [InlineData(FuzzMode.Real16, 104)]
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

        AssertReplays(text, qemu.Count);
    }

    /// <summary>
    /// The SSE logic ops and SHUFPS on a misaligned m128, which QEMU 7.2 runs (emu raised #GP
    /// until the fuzzer found it; Handlers/Sse.cs, QemuIgnoresAlignment), then MOVAPS, which
    /// #GPs on both. Regressions/Long64-misaligned-sse.txt is this recording.
    /// </summary>
    [Fact]
    public void MisalignedSseOperandsReplayWithoutQemu()
    {
        FuzzEnvironment.RequireQemu();
        var gprs = new ulong[16];
        gprs[4] = FuzzLayout.StackStart;
        var xmm = Enumerable.Range(1, 16).Select(i => new UInt128(0x0123456789ABCDEFUL * (ulong)i, 0xFEDCBA9876543210UL ^ (ulong)i)).ToArray();
        Instruction Misaligned(Code code) => Instruction.Create(code, Register.XMM1, new MemoryOperand(Register.RAX, 1));
        var fuzzCase = new FuzzCase(FuzzMode.Long64, gprs, 2, xmm, 0x1F80, 7,
        [
            new FuzzItem([Instruction.Create(Code.Mov_r32_imm32, Register.EAX, 0x20100u)]),
            new FuzzItem([Misaligned(Code.Andps_xmm_xmmm128)]),
            new FuzzItem([Misaligned(Code.Andnps_xmm_xmmm128)]),
            new FuzzItem([Misaligned(Code.Orps_xmm_xmmm128)]),
            new FuzzItem([Misaligned(Code.Xorps_xmm_xmmm128)]),
            new FuzzItem([Misaligned(Code.Xorpd_xmm_xmmm128)]),
            new FuzzItem([Instruction.Create(Code.Shufps_xmm_xmmm128_imm8, Register.XMM1, new MemoryOperand(Register.RAX, 1), 0x1B)]),
            new FuzzItem([Misaligned(Code.Movaps_xmm_xmmm128)]),
        ]);
        Assert.Null(DifferentialFuzzer.Check(fuzzCase, out var qemu));
        Assert.Equal(13, qemu[^1].Vector);
        Assert.Equal(9, qemu.Count); // the start and the eight instructions, the last one at the #GP handler
        string text = RegressionFile.Write(fuzzCase, qemu, "SSE logic ops and SHUFPS on a misaligned m128 (QEMU 7.2 runs them), then MOVAPS (#GP)");
        if (FuzzEnvironment.OutputFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "Long64-misaligned-sse.txt"), text);
        }

        AssertReplays(text, qemu.Count);
    }

    private static void AssertReplays(string text, int states)
    {
        var (read, sequence, recorded) = RegressionFile.Read(text);
        Assert.Equal(states, recorded.Count);
        Assert.Null(DifferentialFuzzer.Compare(read, sequence, RomImage.Build(read, sequence), recorded));
    }
}
