using Emulator.CpuFuzz.Tests.Fuzzer;
using Iced.Intel;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// The debug and exception cases of issue 19, each recorded from QEMU 7.2 and replayed without
/// it (Regressions/*-debug-*.txt are these recordings, written with EMU_CPU_FUZZ_OUT): a
/// single-step trap after an ADD and after one REP MOVSB iteration, no trap after STI but after
/// the next instruction, INT3 under TF (#BP only), ICEBP (#UD on QEMU 7.2), BOUND out of range
/// (#BR), a non-canonical RBP-based access (#GP, not #SS), and F7 /1 (#UD on QEMU) on a
/// non-canonical address, whose load QEMU makes first (#GP; found by the seed-1000 campaign).
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(HandlerTableCollection.Name)]
public sealed class DebugRecordingTests
{
    public static TheoryData<string> Cases() => [.. DebugCases.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void ADebugCaseReplaysWithoutQemu(string name)
    {
        FuzzEnvironment.RequireQemu();
        var (mode, vector, items) = DebugCases[name];
        var gprs = Enumerable.Range(0, 16).Select(i => 0x0101010101010101UL * (ulong)i).ToArray();
        gprs[4] = FuzzLayout.StackStart;
        var fuzzCase = new FuzzCase(mode, gprs, 0x2 | 0x800, new UInt128[16], 0x1F80, 5, items);
        Assert.Null(DifferentialFuzzer.Check(fuzzCase, out var qemu));
        Assert.Equal(vector, qemu[^1].Vector);
        string text = RegressionFile.Write(fuzzCase, qemu, $"debug case recorded from QEMU 7.2: {name}");
        if (FuzzEnvironment.OutputFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, $"{mode}-debug-{name}.txt"), text);
        }

        RecordingTests.AssertReplays(text, qemu.Count);
    }

    private static FuzzItem Traced(FuzzMode mode, params Instruction[] instructions) =>
        DebugItems.WithTrapFlag(new FuzzItem(instructions), mode);

    private static readonly Dictionary<string, (FuzzMode Mode, int Vector, FuzzItem[] Items)> DebugCases = new()
    {
        ["tf-add"] = (FuzzMode.Long64, 1, [Traced(FuzzMode.Long64, Instruction.Create(Code.Add_rm32_r32, Register.EAX, Register.EBX))]),
        ["tf-rep-movsb"] = (FuzzMode.Protected32, 1,
        [
            Traced(FuzzMode.Protected32,
                Instruction.Create(Code.Mov_r32_imm32, Register.ESI, 0x20100u),
                Instruction.Create(Code.Mov_r32_imm32, Register.EDI, 0x20200u),
                Instruction.Create(Code.Mov_r32_imm32, Register.ECX, 3u),
                Instruction.CreateMovsb(32, Register.None, RepPrefixKind.Repe)),
        ]),
        ["tf-sti"] = (FuzzMode.Real16, 1,
        [
            Traced(FuzzMode.Real16, Instruction.Create(Code.Sti)),
            new FuzzItem([Instruction.Create(Code.Add_rm16_r16, Register.AX, Register.BX)]),
            new FuzzItem([Instruction.Create(Code.Add_rm16_r16, Register.CX, Register.BX)]),
        ]),
        ["tf-int3"] = (FuzzMode.Long64, 3, [Traced(FuzzMode.Long64, Instruction.Create(Code.Int3))]),
        ["icebp"] = (FuzzMode.Compatibility32, 6, [new FuzzItem([Instruction.Create(Code.Int1)])]),
        ["bound"] = (FuzzMode.Protected32, 5,
        [
            new FuzzItem(
            [
                Instruction.Create(Code.Mov_r32_imm32, Register.EBX, 0x20300u),
                Instruction.Create(Code.Mov_rm32_imm32, new MemoryOperand(Register.EBX), 10u),
                Instruction.Create(Code.Mov_rm32_imm32, new MemoryOperand(Register.EBX, 4), 20u),
                Instruction.Create(Code.Mov_r32_imm32, Register.EAX, 15u),
                Instruction.Create(Code.Bound_r32_m3232, Register.EAX, new MemoryOperand(Register.EBX)),
                Instruction.Create(Code.Mov_r32_imm32, Register.EAX, 21u),
                Instruction.Create(Code.Bound_r32_m3232, Register.EAX, new MemoryOperand(Register.EBX)),
            ]),
        ]),
        ["test-alias-noncanonical"] = (FuzzMode.Long64, 13,
        [
            new FuzzItem(
            [
                Instruction.Create(Code.Mov_r64_imm64, Register.R12, 0x0000_8000_0002_07BAUL),
                Instruction.Create(Code.Test_rm64_imm32_F7r1, new MemoryOperand(Register.R12, -0x79), 0x7AA186AB),
            ]),
        ]),
        ["test-alias"] = (FuzzMode.Long64, 6,
        [
            new FuzzItem(
            [
                Instruction.Create(Code.Mov_r64_imm64, Register.R12, 0x20100UL),
                Instruction.Create(Code.Test_rm64_imm32_F7r1, new MemoryOperand(Register.R12, -0x79), 0x7AA186AB),
            ]),
        ]),
        ["noncanonical-rbp"] = (FuzzMode.Long64, 13,
        [
            new FuzzItem(
            [
                Instruction.Create(Code.Mov_r64_imm64, Register.RBP, 0x0000_8000_0002_0100UL),
                Instruction.Create(Code.Mov_r32_rm32, Register.EAX, new MemoryOperand(Register.RBP, 8)),
            ]),
        ]),
    };
}
