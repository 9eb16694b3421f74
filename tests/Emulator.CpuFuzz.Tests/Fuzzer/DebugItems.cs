using Iced.Intel;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// Items that exercise the debug machinery (emu's Cpu.Debug.cs): an instruction under test run
/// with RFLAGS.TF set (PUSHF, OR 0x100 into the image on the stack, POPF just before it: QEMU
/// traps after the instruction, or after one REP iteration). The #DB ends the case (the first
/// exception does); the gdb stub shows no DR6, so the vector, the handler's state and the frame
/// on the stack page are what is compared. Data breakpoints are not generated: under the stub's
/// single-stepping QEMU delivered their #DB instructions after the access that hit
/// (docs/cpu-fuzzer.md), so they are checked by emu's unit tests only.
/// </summary>
internal static class DebugItems
{
    /// <summary>
    /// <paramref name="item"/> with TF set right before its instruction under test (after its
    /// preparation): the last one, or the BT before the ADC that follows every BT family member
    /// (InstructionForms.RedefineFlagsFromCarry; POPF ends a block, so between the two it would
    /// push the block-dependent undefined flags the ADC is there to hide).
    /// </summary>
    public static FuzzItem WithTrapFlag(FuzzItem item, FuzzMode mode)
    {
        var instructions = item.Instructions.ToList();
        int at = item.SkipsNextItem ? 0 : instructions.Count - 1;
        if (at > 0 && instructions[at - 1].Mnemonic is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc)
        {
            at--;
        }

        var inserted = SetTrapFlag(mode);
        instructions.InsertRange(at, inserted);
        return item with { Instructions = [.. instructions], LocalTargets = ShiftTargets(item.LocalTargets, at, inserted.Length) };
    }

    /// <summary>An item's local branch targets after <paramref name="count"/> instructions were inserted at <paramref name="at"/>.</summary>
    private static int[]? ShiftTargets(int[]? targets, int at, int count)
    {
        if (targets == null)
        {
            return null;
        }

        int Moved(int index) => index < at ? index : index + count;
        var shifted = Enumerable.Repeat(-1, targets.Length + count).ToArray();
        for (int j = 0; j < targets.Length; j++)
        {
            shifted[Moved(j)] = targets[j] < 0 ? -1 : Moved(targets[j]);
        }

        return shifted;
    }

    private static Instruction[] SetTrapFlag(FuzzMode mode) => mode.Bitness() switch
    {
        64 =>
        [
            Instruction.Create(Code.Pushfq),
            Instruction.Create(Code.Or_rm64_imm32, new MemoryOperand(Register.RSP), 0x100),
            Instruction.Create(Code.Popfq),
        ],
        32 =>
        [
            Instruction.Create(Code.Pushfd),
            Instruction.Create(Code.Or_rm32_imm32, new MemoryOperand(Register.ESP), 0x100),
            Instruction.Create(Code.Popfd),
        ],
        // Real mode cannot address [SP]: BP points at the image, and is restored.
        _ =>
        [
            Instruction.Create(Code.Pushfw),
            Instruction.Create(Code.Push_r16, Register.BP),
            Instruction.Create(Code.Mov_r16_rm16, Register.BP, Register.SP),
            Instruction.Create(Code.Or_rm16_imm16, new MemoryOperand(Register.BP, 2), 0x100),
            Instruction.Create(Code.Pop_r16, Register.BP),
            Instruction.Create(Code.Popfw),
        ],
    };
}
