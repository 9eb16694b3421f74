using Emulator.Core.Cpu;
using Emulator.CpuFuzz.Tests.Fuzzer;
using Iced.Intel;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// The fuzzer catches a broken handler: with ADD r/m32, r32 replaced by a handler that does
/// nothing, a case with one such ADD diverges exactly there, in EAX and the flags; with the
/// handler restored, the same case agrees with QEMU; the shrinker reduces a padded case to that
/// ADD alone. (A compiled block calls the handler it was
/// decoded with unless that handler has a twin, so the replacement reaches compiled code too;
/// <see cref="TheWholeBlockRunRunsCompiledCode"/> checks that the compiled run is compiled.)
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(HandlerTableCollection.Name)]
public sealed unsafe class BrokenHandlerTests
{
    [Fact]
    public void ADivergenceIsReportedAtTheBrokenInstruction()
    {
        FuzzEnvironment.RequireQemu();
        var fuzzCase = AddCase();
        Divergence? divergence;
        using (HandlerTable.ReplaceForTest(Code.Add_rm32_r32, &DoesNothing))
        {
            divergence = DifferentialFuzzer.Check(fuzzCase);
        }

        Assert.NotNull(divergence);
        Assert.Equal(2, divergence.Index);
        Assert.Contains("add eax,ebx", divergence.Instruction);
        Assert.Contains(divergence.Fields, f => f.StartsWith("rax: c vs 5", StringComparison.Ordinal));
        Assert.Contains(divergence.Fields, f => f.StartsWith("rflags:", StringComparison.Ordinal));
        Assert.Null(DifferentialFuzzer.Check(fuzzCase));
    }

    [Fact]
    public void TheWholeBlockRunRunsCompiledCode()
    {
        FuzzEnvironment.RequireQemu();
        var fuzzCase = AddCase();
        Assert.Null(DifferentialFuzzer.Check(fuzzCase, out var qemu));
        var sequence = fuzzCase.Encode();
        using var emu = new EmuRunner(RomImage.Build(fuzzCase, sequence), sequence);
        var (interpreted, compiled, allBlocksCompiled) = emu.RunCompiled(100);
        Assert.True(allBlocksCompiled);
        Assert.Empty(qemu[^1].Differences(interpreted[^1].State, fuzzCase.Mode));
        Assert.Empty(qemu[^1].Differences(compiled[^1].State, fuzzCase.Mode));
    }

    [Fact]
    public void TheShrinkerReducesTheCaseToTheBrokenInstruction()
    {
        FuzzEnvironment.RequireQemu();
        var add = AddCase();
        // Items that cannot fault or touch EAX/EBX, so the case always reaches the ADD.
        Register[] others = [Register.ECX, Register.EDX, Register.ESI, Register.EDI, Register.R8D, Register.R9D];
        var padding = others.Select((r, i) => new FuzzItem([Instruction.Create(Code.Mov_r32_imm32, r, (uint)(0x1111 * (i + 1)))])).ToList();
        var fuzzCase = add.WithItems([.. padding.Take(3), add.Items[1], .. padding.Skip(3)]);
        using var qemu = new QemuRunner();
        using (HandlerTable.ReplaceForTest(Code.Add_rm32_r32, &DoesNothing))
        {
            var divergence = DifferentialFuzzer.Check(fuzzCase, out _, qemu);
            Assert.NotNull(divergence);
            var shrunk = Shrinker.Shrink(divergence, qemu);
            var item = Assert.Single(shrunk.Case.Items);
            Assert.Equal(Code.Add_rm32_r32, Assert.Single(item.Instructions).Code);
            Assert.Equal(divergence.Fields[0].Split(':')[0], shrunk.Fields[0].Split(':')[0]);
        }
    }

    /// <summary>NOP; ADD EAX, EBX (5 + 7); NOP in 64-bit mode.</summary>
    private static FuzzCase AddCase()
    {
        var gprs = new ulong[16];
        gprs[0] = 5;
        gprs[3] = 7;
        gprs[4] = FuzzLayout.StackStart;
        return new FuzzCase(FuzzMode.Long64, gprs, 2, new UInt128[16], 0x1F80, 1,
        [
            new FuzzItem([Instruction.Create(Code.Nopd)]),
            new FuzzItem([Instruction.Create(Code.Add_rm32_r32, Register.EAX, Register.EBX)]),
            new FuzzItem([Instruction.Create(Code.Nopd)]),
        ]);
    }

    private static void DoesNothing(Cpu cpu, ref DecodedOp op)
    {
    }
}
