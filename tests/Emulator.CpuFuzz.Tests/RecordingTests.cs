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
    /// until the fuzzer found it; Handlers/Sse.cs, QemuUnchecked), then MOVAPS, which
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

    /// <summary>
    /// LOCK where the SDM says #UD and QEMU 7.2 runs the instruction, one form each: once known
    /// divergences (emu raised #UD), now followed (Cpu.DecodeLock.cs). Regressions/*-lock-*.txt
    /// are these recordings (made while they still diverged: their comment lines are that report).
    /// </summary>
    public static TheoryData<string> LockForms() => [.. LockFormCases.Keys];

    [Theory]
    [MemberData(nameof(LockForms))]
    public void ALockFormQemuRunsIsRecorded(string name)
    {
        FuzzEnvironment.RequireQemu();
        var (mode, instruction) = LockFormCases[name];
        instruction.HasLockPrefix = true;
        var gprs = Enumerable.Range(0, 16).Select(i => 0x1111111111111111UL * (ulong)i).ToArray();
        gprs[4] = FuzzLayout.StackStart;
        var fuzzCase = new FuzzCase(mode, gprs, 2, new UInt128[16], 0x1F80, 3, [new FuzzItem([instruction])]);
        var divergence = DifferentialFuzzer.Check(fuzzCase, out var qemu);
        Assert.Null(divergence);
        Assert.Equal(-1, qemu[^1].Vector);
        string text = RegressionFile.Write(fuzzCase, qemu, $"LOCK form QEMU 7.2 runs: {name}");
        if (FuzzEnvironment.OutputFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, $"{mode}-{name}.txt"), text);
        }

        AssertReplays(text, qemu.Count);
    }

    private static readonly Dictionary<string, (FuzzMode Mode, Instruction Instruction)> LockFormCases = new()
    {
        ["lock-xchg-registers"] = (FuzzMode.Long64, Instruction.Create(Code.Xchg_rm8_r8, Register.CL, Register.AH)),
        ["lock-xadd-registers"] = (FuzzMode.Long64, Instruction.Create(Code.Xadd_rm16_r16, Register.BP, Register.BX)),
        ["lock-lahf"] = (FuzzMode.Long64, Instruction.Create(Code.Lahf)),
        ["lock-shl-cl"] = (FuzzMode.Real16, Instruction.Create(Code.Shl_rm16_CL, Register.DI, Register.CL)),
        ["lock-imul-imm8"] = (FuzzMode.Real16, Instruction.Create(Code.Imul_r16_rm16_imm8, Register.DX, Register.BX, -104)),
        ["lock-das"] = (FuzzMode.Protected32, Instruction.Create(Code.Das)),
    };

    internal static void AssertReplays(string text, int states)
    {
        var (read, sequence, recorded) = RegressionFile.Read(text);
        Assert.Equal(states, recorded.Count);
        Assert.Null(DifferentialFuzzer.Compare(read, sequence, RomImage.Build(read, sequence), recorded));
    }
}
