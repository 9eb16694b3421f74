using Emulator.CpuFuzz.Tests.Fuzzer;
using Iced.Intel;
using Xunit.Abstractions;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// LOCK on every form the fuzzer generates, with register and with memory operands, each a
/// one-item case compared with QEMU 7.2: emu raises #UD exactly where QEMU does
/// (Cpu.DecodeLock.cs). BT/BTS/BTR/BTC with a register destination are left out: QEMU runs
/// them on a stale address or aborts (docs/cpu-fuzzer.md).
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(HandlerTableCollection.Name)]
public sealed class LockPrefixTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(FuzzMode.Long64)]
    [InlineData(FuzzMode.Protected32)]
    [InlineData(FuzzMode.Compatibility32)]
    [InlineData(FuzzMode.Real16)]
    public void EveryFormWithLockAgreesWithQemu(FuzzMode mode)
    {
        FuzzEnvironment.RequireQemu();
        var qemuRunner = new QemuRunner();
        var divergences = new List<string>();
        int cases = 0;
        // The branches' operands are targets, which OperandBuilder does not draw (LOCK on them is
        // QEMU's plain jump, covered by the campaigns' 1-in-64 LOCK on every form).
        foreach (var code in InstructionForms.For(mode).AllCodes.Distinct().Where(c => c.FlowControl() == FlowControl.Next))
        {
            for (int variant = 0; variant < 2; variant++)
            {
                var random = new Random(((int)code * 2) + variant);
                var operands = new OperandBuilder(mode, random);
                var instruction = operands.Build(code, forceLock: true);
                if (instruction.Mnemonic is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc
                    && instruction.Op0Kind == OpKind.Register)
                {
                    continue;
                }

                var fuzzCase = CaseGenerator.Generate(mode, (int)code, 0).WithItems([new FuzzItem([.. operands.Preparation, instruction])]);
                cases++;
                try
                {
                    if (DifferentialFuzzer.Check(fuzzCase, out _, qemuRunner) is { } divergence)
                    {
                        divergences.Add(divergence.Report($"LOCK {code} variant {variant}"));
                        output.WriteLine(divergences[^1]);
                    }
                }
                catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException)
                {
                    divergences.Add($"LOCK {code} variant {variant} ({instruction}): QEMU failed: {e.Message}");
                    output.WriteLine(divergences[^1]);
                    qemuRunner.Dispose();
                    qemuRunner = new QemuRunner();
                }
            }
        }

        qemuRunner.Dispose();
        output.WriteLine($"{mode}: {cases} cases, {divergences.Count} divergences");
        Assert.True(divergences.Count == 0, string.Join("\n", divergences));
    }
}
