using System.Reflection;
using Iced.Intel;

namespace Emulator.Core.Cpu.Jit;

/// <summary>
/// Which instructions of a block may skip recording their arithmetic flags: those whose flags
/// nothing can see, because a later instruction of the same block replaces all six status flags
/// before anything reads them, faults, leaves the block or reads RIP. Only pure instructions
/// (<see cref="JitTwinAttribute.Pure"/>) come between, and they cannot fault, so no exception,
/// interrupt (taken between blocks only) or trace step can observe the skipped state; the flags
/// leaving the block are always recorded. What an instruction reads is Iced's
/// <see cref="Instruction.RflagsRead"/>; what it writes is its twin's
/// <see cref="JitTwinAttribute.FlagsWritten"/>. Instructions without a pure twin count as readers.
/// </summary>
internal static class FlagLiveness
{
    /// <summary>The six status flags in Iced's terms.</summary>
    internal const RflagsBits Status = RflagsBits.OF | RflagsBits.SF | RflagsBits.ZF | RflagsBits.AF | RflagsBits.CF | RflagsBits.PF;

    private enum FlagUse
    {
        /// <summary>Neither reads nor writes the status flags (MOV, LEA, MOVZX ...).</summary>
        Neutral,

        /// <summary>Replaces all six status flags and reads none (ADD, SUB, AND, XOR, CMP, TEST, IMUL, a shift by a non-zero constant).</summary>
        ReplacesAll,

        /// <summary>Reads flags, keeps some of them (INC/DEC keep CF), may fault or leave the block, or is not known.</summary>
        Observes,
    }

    /// <summary>Per instruction: true when its twin may skip recording flags (it has the parameter and its flags are dead).</summary>
    public static bool[] DeadFlags(Block block, (MethodInfo Method, JitTwinAttribute Attribute)?[] twins, bool[] pure)
    {
        var uses = new FlagUse[block.Count];
        for (int i = 0; i < block.Count; i++)
        {
            uses[i] = UseOf(twins[i]?.Attribute, ref block.Ops[i], pure[i]);
        }

        var dead = new bool[block.Count];
        for (int i = 0; i < block.Count; i++)
        {
            if (!pure[i] || twins[i] is not { } t || !t.Method.GetParameters().Any(p => p.Name == "recordFlags"))
            {
                continue;
            }

            for (int j = i + 1; j < block.Count; j++)
            {
                if (uses[j] == FlagUse.Observes)
                {
                    break;
                }

                if (uses[j] == FlagUse.ReplacesAll)
                {
                    dead[i] = true;
                    break;
                }
            }
        }

        return dead;
    }

    private static FlagUse UseOf(JitTwinAttribute? twin, ref DecodedOp op, bool pure)
    {
        if (twin == null || !pure || (op.Insn.RflagsRead & Status) != 0)
        {
            return FlagUse.Observes;
        }

        switch (twin.FlagsWritten)
        {
            case TwinFlags.None:
                return FlagUse.Neutral;
            case TwinFlags.All:
                return FlagUse.ReplacesAll;
            case TwinFlags.AllForNonZeroCount:
                // A shift by 0 changes no flag; only a constant non-zero count replaces them.
                int mask = op.OpSize == 8 ? 63 : 31;
                return op.Kind1 == OperandKind.Immediate && (op.Imm & (ulong)mask) != 0 ? FlagUse.ReplacesAll : FlagUse.Observes;
            default:
                return FlagUse.Observes;
        }
    }
}
