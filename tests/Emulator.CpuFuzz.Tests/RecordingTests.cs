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
        RecordAndReplay(fuzzCase, 13, "SSE logic ops and SHUFPS on a misaligned m128 (QEMU 7.2 runs them), then MOVAPS (#GP)", "Long64-misaligned-sse.txt");
    }

    /// <summary>
    /// The SSE floating-point forms QEMU 7.2 runs on a misaligned m128 (the unpacks, SHUFPD,
    /// ANDPD, MOVSLDUP, ADDSUB, HADD and the packed conversions: X86_VEX_SSEUnaligned is the
    /// default vex_special, docs/cpu.md), a scalar form at an odd address, then ADDPS, which #GPs
    /// on both. Regressions/Long64-misaligned-sse-float.txt is this recording.
    /// </summary>
    [Fact]
    public void MisalignedSseFloatOperandsReplayWithoutQemu()
    {
        Code[] unchecked_ =
        [
            Code.Unpcklpd_xmm_xmmm128, Code.Unpckhps_xmm_xmmm128, Code.Andpd_xmm_xmmm128, Code.Movsldup_xmm_xmmm128,
            Code.Addsubps_xmm_xmmm128, Code.Haddpd_xmm_xmmm128, Code.Cvtdq2ps_xmm_xmmm128, Code.Cvtpd2ps_xmm_xmmm128,
            Code.Cvttps2dq_xmm_xmmm128, Code.Cvtdq2pd_xmm_xmmm64, Code.Cvtps2pd_xmm_xmmm64, Code.Addss_xmm_xmmm32,
            Code.Ucomisd_xmm_xmmm64, Code.Addps_xmm_xmmm128,
        ];
        var items = new List<FuzzItem> { new([Instruction.Create(Code.Mov_r32_imm32, Register.EAX, 0x20100u)]) };
        items.AddRange(unchecked_.Select(c => new FuzzItem([Instruction.Create(c, Register.XMM1, new MemoryOperand(Register.RAX, 1))])));
        items.Insert(6, new FuzzItem([Instruction.Create(Code.Shufpd_xmm_xmmm128_imm8, Register.XMM2, new MemoryOperand(Register.RAX, 1), 2)]));
        RecordAndReplay(Case(0x1F80, [.. items]), 13, "SSE FP forms on a misaligned m128 that QEMU 7.2 runs, then ADDPS (#GP)", "Long64-misaligned-sse-float.txt");
    }

    /// <summary>
    /// SSE floating point where QEMU's softfloat decides what the SDM leaves open or the hardware
    /// does otherwise (docs/cpu.md, "SSE floating point"): two NaNs (the larger fraction wins),
    /// MIN/MAX with NaNs, 0/0 and a negative root (the default NaN), the integer indefinite,
    /// exact RCPPS/RSQRTPS with no flags, COMISS/UCOMISS on NaNs, CMPPS, then with DAZ, FTZ and
    /// rounding up. Regressions/Long64-sse-float-edges.txt is this recording.
    /// </summary>
    [Fact]
    public void SseFloatEdgesReplayWithoutQemu()
    {
        Instruction Rr(Code code, Register a, Register b) => Instruction.Create(code, a, b);
        Instruction Imm(Code code, Register a, Register b, int imm) => Instruction.Create(code, a, b, imm);
        FuzzItem[] items =
        [
            new([Rr(Code.Addps_xmm_xmmm128, Register.XMM0, Register.XMM1)]),
            new([Rr(Code.Minps_xmm_xmmm128, Register.XMM2, Register.XMM1)]),
            new([Rr(Code.Maxsd_xmm_xmmm64, Register.XMM3, Register.XMM4)]),
            new([Rr(Code.Divpd_xmm_xmmm128, Register.XMM5, Register.XMM5)]),
            new([Rr(Code.Sqrtps_xmm_xmmm128, Register.XMM6, Register.XMM7)]),
            new([Rr(Code.Cvtps2dq_xmm_xmmm128, Register.XMM8, Register.XMM7)]),
            new([Rr(Code.Cvttsd2si_r64_xmmm64, Register.RBX, Register.XMM4)]),
            new([Rr(Code.Rcpps_xmm_xmmm128, Register.XMM9, Register.XMM7)]),
            new([Rr(Code.Rsqrtss_xmm_xmmm32, Register.XMM10, Register.XMM7)]),
            new([Rr(Code.Ucomiss_xmm_xmmm32, Register.XMM0, Register.XMM1)]),
            new([Rr(Code.Comiss_xmm_xmmm32, Register.XMM7, Register.XMM7)]),
            new([Imm(Code.Cmpps_xmm_xmmm128_imm8, Register.XMM11, Register.XMM1, 5)]),
            new([Rr(Code.Haddps_xmm_xmmm128, Register.XMM12, Register.XMM7)]),
            new([Rr(Code.Cvtsd2ss_xmm_xmmm64, Register.XMM13, Register.XMM4)]),
            new([Rr(Code.Mulps_xmm_xmmm128, Register.XMM14, Register.XMM15)]),
        ];
        RecordAndReplay(Case(0x5F80, items), -1, "SSE FP edge cases, round up", "Long64-sse-float-edges.txt");
        RecordAndReplay(Case(0x9FC0, items), -1, "SSE FP edge cases, DAZ and FTZ", "Long64-sse-float-daz-ftz.txt");
    }

    /// <summary>A 64-bit case over FP-edge XMM values (NaNs of both kinds, infinities, denormals, the conversion limits).</summary>
    private static FuzzCase Case(uint mxcsr, FuzzItem[] items)
    {
        var gprs = new ulong[16];
        gprs[4] = FuzzLayout.StackStart;
        UInt128[] xmm =
        [
            new(0x7FC000057FC00003, 0x7F8000013F800000), // QNaNs, SNaN, 1
            new(0xFFC000077F800002, 0x7FC000003FC00000), // QNaN (larger), SNaN (larger), QNaN, 1.5
            new(0x80000000FF800000, 0x00000001C0000000), // -0, -inf, denormal, -2
            new(0x7FF8000000000001, 0x0000000000000000),
            new(0x41E0000000000000, 0x7FF4000000000000), // 2^31, SNaN
            new(0x0000000000000000, 0xC000000000000000), // 0/0, -2/-2
            new(0, 0),
            new(0x4040000000800000, 0xBF8000007F7FFFFF), // min normal, 3, max, -1
            new(0, 0), new(0, 0), new(0, 0), new(0x3F8000003F800000, 0x3F8000003F800000),
            new(0x0000000140000000, 0xFF800000007FFFFF), new(0, 0),
            new(0x0080000000800001, 0x3F0000003E800000), // min normal, denormal, 0.25, 0.5
            new(0x3F0000003EFFFFFF, 0x0000000300FFFFFF),
        ];
        return new FuzzCase(FuzzMode.Long64, gprs, 2, xmm, mxcsr, 7, items);
    }

    private static void RecordAndReplay(FuzzCase fuzzCase, int lastVector, string description, string file)
    {
        FuzzEnvironment.RequireQemu();
        Assert.Null(DifferentialFuzzer.Check(fuzzCase, out var qemu));
        Assert.Equal(lastVector, qemu[^1].Vector);
        Assert.Equal(fuzzCase.Items.Count + 1, qemu.Count); // the start and every instruction, the last one at a handler when it faults
        string text = RegressionFile.Write(fuzzCase, qemu, description);
        if (FuzzEnvironment.OutputFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, file), text);
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
