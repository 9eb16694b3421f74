using Emulator.CpuFuzz.Tests.Fuzzer;

namespace Emulator.CpuFuzz.Tests;

/// <summary>The generator is a function of its seed, and the regression format reads back what it wrote.</summary>
[Trait("Category", "Unit")]
public sealed class GeneratorTests
{
    [Theory]
    [InlineData(FuzzMode.Long64)]
    [InlineData(FuzzMode.Protected32)]
    [InlineData(FuzzMode.Compatibility32)]
    [InlineData(FuzzMode.Real16)]
    public void ASeedIsAlwaysTheSameCase(FuzzMode mode)
    {
        var first = CaseGenerator.Generate(mode, 1234, 64);
        var second = CaseGenerator.Generate(mode, 1234, 64);
        var other = CaseGenerator.Generate(mode, 1235, 64);
        Assert.Equal(first.Encode().Bytes, second.Encode().Bytes);
        Assert.Equal(first.Gprs, second.Gprs);
        Assert.Equal(first.InitialMemory(), second.InitialMemory());
        Assert.NotEqual(first.Encode().Bytes, other.Encode().Bytes);
    }

    [Fact]
    public void TheFormsCoverTheIntegerFamilies()
    {
        var codes = InstructionForms.For(FuzzMode.Long64).AllCodes.Select(c => c.ToString()).ToHashSet();
        Assert.Contains("Add_rm64_imm8", codes);
        Assert.Contains("Div_rm32", codes);
        Assert.Contains("Cmovge_r16_rm16", codes);
        Assert.Contains("Jne_rel8_64", codes);
        Assert.Contains("Cmpxchg8b_m64", codes);
        Assert.DoesNotContain("Daa", codes);
        Assert.Contains("Daa", InstructionForms.For(FuzzMode.Protected32).AllCodes.Select(c => c.ToString()));
    }

    [Fact]
    public void TheFormsCoverTheSseFloatingPoint()
    {
        var codes = InstructionForms.For(FuzzMode.Long64).AllCodes.Select(c => c.ToString()).ToHashSet();
        string[] expected =
        [
            "Addps_xmm_xmmm128", "Divsd_xmm_xmmm64", "Sqrtss_xmm_xmmm32", "Maxpd_xmm_xmmm128", "Rsqrtps_xmm_xmmm128",
            "Cmpsd_xmm_xmmm64_imm8", "Ucomiss_xmm_xmmm32", "Cvtsi2sd_xmm_rm64", "Cvttss2si_r64_xmmm32", "Cvtpd2dq_xmm_xmmm128",
            "Cvtdq2pd_xmm_xmmm64", "Haddps_xmm_xmmm128", "Addsubpd_xmm_xmmm128", "Movddup_xmm_xmmm64", "Movss_xmmm32_xmm",
            "Cvtpi2ps_xmm_mmm64", "Cvtpi2pd_xmm_mmm64", "Cvtps2pi_mm_xmmm64", "Cvttps2pi_mm_xmmm64", "Cvtpd2pi_mm_xmmm128", "Cvttpd2pi_mm_xmmm128",
        ];
        Assert.All(expected, c => Assert.Contains(c, codes));
    }

    [Fact]
    public void ARegressionFileReadsBackItsCaseAndStates()
    {
        var fuzzCase = CaseGenerator.Generate(FuzzMode.Long64, 7, 8);
        var memory = fuzzCase.InitialMemory();
        memory[5] ^= 0xFF;
        var states = new List<CpuState>
        {
            new(fuzzCase.Gprs, 0xFFFF3000, 0x246, [0x10, 0x18, 0x10, 0x10, 0x10, 0x10], -1, fuzzCase.InitialMemory(), fuzzCase.Xmm, 0x1F80),
            new(fuzzCase.Gprs, 0xFFFF0C0D, 0x202, [0x10, 0x18, 0x10, 0x10, 0x10, 0x10], 13, memory, fuzzCase.Xmm, 0x3F80),
            new(fuzzCase.Gprs, 0xFFFF3004, 0x2, [0x10, 0x18, 0x10, 0x10, 0x10, 0x10], -1, null, new UInt128[16], 0x1F81),
        };
        var (read, sequence, readStates) = RegressionFile.Read(RegressionFile.Write(fuzzCase, states, "comment\nsecond line"));
        Assert.Equal(fuzzCase.Gprs, read.Gprs);
        Assert.Equal(fuzzCase.Flags, read.Flags);
        Assert.Equal(fuzzCase.Xmm, read.Xmm);
        Assert.Equal(fuzzCase.Mxcsr, read.Mxcsr);
        Assert.Equal(fuzzCase.InitialMemory(), read.InitialMemory());
        Assert.Equal(fuzzCase.Encode().Bytes, sequence.Bytes);
        Assert.Equal(3, readStates.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Empty(states[i].Differences(readStates[i], FuzzMode.Long64));
            Assert.Equal(states[i].Memory, readStates[i].Memory);
            Assert.Equal(states[i].Xmm, readStates[i].Xmm);
        }
    }
}
