using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using CpuCore = Emulator.Core.Cpu.Cpu;

namespace Emulator.Core.Tests.Cpu.Alu;

/// <summary>
/// For every code the ALU families (Arithmetic, Logic, Shifts, Bits) register: encode a sample
/// with random operands, run it on random inputs under two different incoming RFLAGS values, and
/// check that no flag outside Iced's <see cref="Instruction.RflagsModified"/> changed.
/// </summary>
[Trait("Category", "Unit")]
public sealed unsafe class AluFlagsContractTests
{
    private const ulong Testable = RFlags.Arith | RFlags.DF;

    /// <summary>Codes registered as #UD because QEMU 7.2 raises #UD for them (see <c>Logic.cs</c>).</summary>
    private static readonly HashSet<Code> DeliberatelyUndefined =
    [
        Code.Test_rm8_imm8_F6r1, Code.Test_rm16_imm16_F7r1, Code.Test_rm32_imm32_F7r1, Code.Test_rm64_imm32_F7r1,
    ];

    /// <summary>
    /// Every code the four ALU families register with a real handler (a fresh registry, so no
    /// other family's entries; codes deliberately mapped to #UD left out).
    /// </summary>
    internal static List<Code> RegisteredCodes()
    {
        var table = new delegate*<CpuCore, ref DecodedOp, void>[CodeCount.Value * 4];
        var r = new HandlerRegistry(table);
        Handlers.RegisterArithmetic(r);
        Handlers.RegisterLogic(r);
        Handlers.RegisterShifts(r);
        Handlers.RegisterBits(r);
        var codes = new List<Code>();
        for (int c = 0; c < CodeCount.Value; c++)
        {
            if (r.Registered[c] && !DeliberatelyUndefined.Contains((Code)c))
            {
                codes.Add((Code)c);
            }
        }

        return codes;
    }

    [Fact]
    public void EveryAluHandler_ChangesOnlyFlagsIcedSaysItModifies()
    {
        var rng = new Random(1234);
        using var box64 = new AluSandbox(64);
        using var box32 = new AluSandbox(32);
        var failures = new List<string>();
        int checkedCodes = 0;
        foreach (var code in RegisteredCodes())
        {
            var info = code.ToOpCode();
            var box = info.Mode64 ? box64 : box32;
            if (!info.Mode64 && !info.Mode32)
            {
                continue;
            }

            int runs = 0;
            for (int sample = 0; sample < 4; sample++)
            {
                if (!SampleEncoder.TryEncode(code, box.Bitness, rng, out var insn, out var bytes, out string? why))
                {
                    if (sample == 0 && why != null && !DecodedOnlyWithAnOption(code))
                    {
                        failures.Add($"{code}: no sample ({why})");
                    }

                    break;
                }

                ulong modified = ToRflags(insn.RflagsModified);
                var inputs = SampleEncoder.RandomInputs(rng, insn);
                for (int attempt = 0; attempt < 2; attempt++)
                {
                    ulong flagsIn = RFlags.Reserved1 | ((ulong)rng.NextInt64() & Testable);
                    if (attempt == 1)
                    {
                        flagsIn ^= Testable;
                    }

                    if (!box.Run([.. bytes, 0xF4], cpu => inputs.Apply(cpu), flagsIn))
                    {
                        // Division overflow and the like: not what this test is about.
                        continue;
                    }

                    runs++;
                    ulong changed = (box.Flags ^ flagsIn) & ~modified & 0x3F_7FD7UL;
                    if (changed != 0)
                    {
                        failures.Add($"{code} ({insn}): changed {changed:X} outside {insn.RflagsModified} (in {flagsIn:X}, out {box.Flags:X})");
                    }
                }
            }

            if (runs == 0 && !DecodedOnlyWithAnOption(code))
            {
                failures.Add($"{code}: no sample ran without a fault");
            }

            checkedCodes++;
        }

        Assert.True(checkedCodes > 300, $"only {checkedCodes} codes checked");
        Assert.Empty(failures);
    }

    /// <summary>The 486 A-step CMPXCHG opcodes (0F A6/A7) decode only with a decoder option we never set.</summary>
    private static bool DecodedOnlyWithAnOption(Code code) =>
        code.ToString().StartsWith("Cmpxchg486", StringComparison.Ordinal);

    internal static ulong ToRflags(RflagsBits bits)
    {
        ulong f = 0;
        if ((bits & RflagsBits.OF) != 0)
        {
            f |= RFlags.OF;
        }

        if ((bits & RflagsBits.SF) != 0)
        {
            f |= RFlags.SF;
        }

        if ((bits & RflagsBits.ZF) != 0)
        {
            f |= RFlags.ZF;
        }

        if ((bits & RflagsBits.AF) != 0)
        {
            f |= RFlags.AF;
        }

        if ((bits & RflagsBits.CF) != 0)
        {
            f |= RFlags.CF;
        }

        if ((bits & RflagsBits.PF) != 0)
        {
            f |= RFlags.PF;
        }

        if ((bits & RflagsBits.DF) != 0)
        {
            f |= RFlags.DF;
        }

        return f;
    }
}
