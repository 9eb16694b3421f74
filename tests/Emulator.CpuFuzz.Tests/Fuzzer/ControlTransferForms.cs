using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// The control transfers whose target is not an operand of a relative branch (one family of
/// <see cref="SystemForms"/>):
/// <list type="bullet">
/// <item>indirect JMP and CALL through a register or the scratch page, in each operand size the
/// mode can take without leaving the sequence (16 and 32 bits in real mode, 32 in the 32-bit
/// modes, 64 in 64-bit mode). The target is an item-local label whose address the item computes
/// itself: CALL to the next instruction, POP, ADD of the distance (the encoded lengths of the
/// instructions in between, the same at any address). An INT3 between the branch and its target
/// shows a branch not taken; a CALL's target POPs the return address it pushed.</item>
/// </list>
/// </summary>
internal static class ControlTransferForms
{
    public static FuzzItem Next(FuzzMode mode, Random random) => IndirectBranch(mode, random);

    private static FuzzItem IndirectBranch(FuzzMode mode, Random random)
    {
        int bitness = mode.Bitness();
        int size = bitness switch { 16 => random.Next(2) == 0 ? 16 : 32, 64 => 64, _ => 32 };
        bool call = random.Next(2) == 0, viaMemory = random.Next(2) == 0;
        var (r16, r32, r64) = new[] { (ax, eax, rax), (dx, edx, rdx), (si, esi, rsi), (di, edi, rdi) }[random.Next(4)];
        Register target = size switch { 16 => r16, 32 => r32, _ => r64 };
        Register pointer = bitness switch { 16 => Register.BX, 32 => Register.EBX, _ => Register.RBX };
        var pointerMemory = new MemoryOperand(pointer);

        // The instructions between the label after the CALL and the target; their lengths give the distance.
        var between = new List<Instruction>();
        if (bitness == 16 && size == 32)
        {
            between.Add(Instruction.Create(Code.Pop_r16, r16));
            between.Add(Instruction.Create(Code.Movzx_r32_rm16, r32, r16));
        }
        else
        {
            between.Add(Instruction.Create(bitness switch { 16 => Code.Pop_r16, 32 => Code.Pop_r32, _ => Code.Pop_r64 }, target));
        }

        var add = Instruction.Create(size switch { 16 => Code.Add_rm16_imm8, 32 => Code.Add_rm32_imm8, _ => Code.Add_rm64_imm8 }, target, 0);
        between.Add(add);
        var branch = (call, size) switch
        {
            (true, 16) => Code.Call_rm16, (true, 32) => Code.Call_rm32, (true, _) => Code.Call_rm64,
            (false, 16) => Code.Jmp_rm16, (false, 32) => Code.Jmp_rm32, _ => Code.Jmp_rm64,
        };
        if (viaMemory)
        {
            between.Add(Instruction.Create(size switch { 16 => Code.Mov_rm16_r16, 32 => Code.Mov_rm32_r32, _ => Code.Mov_rm64_r64 }, pointerMemory, target));
            between.Add(Instruction.Create(branch, pointerMemory));
        }
        else
        {
            between.Add(Instruction.Create(branch, target));
        }

        between.Add(Instruction.Create(Code.Int3));
        int addIndex = between.IndexOf(add);
        between[addIndex] = Instruction.Create(add.Code, target, between.Sum(i => EncodedLength(i, bitness)));

        var a = new Assembler(bitness);
        if (viaMemory)
        {
            SystemForms.LoadScratchAddress(a, mode, 0x300);
        }

        var next = a.CreateLabel();
        a.call(next);
        a.Label(ref next);
        foreach (var instruction in between)
        {
            a.AddInstruction(instruction);
        }

        // The target: a CALL's pops the return address it pushed, at the CALL's operand size (compared through the register and the stack page).
        if (call)
        {
            a.AddInstruction(Instruction.Create(size switch { 16 => Code.Pop_r16, 32 => Code.Pop_r32, _ => Code.Pop_r64 }, size switch { 16 => Register.CX, 32 => Register.ECX, _ => Register.RCX }));
        }
        else
        {
            a.nop();
        }

        return SystemForms.Item(a);
    }

    /// <summary>The length of <paramref name="instruction"/> encoded in <paramref name="bitness"/>-bit code (position-independent for the forms used here).</summary>
    private static int EncodedLength(Instruction instruction, int bitness)
    {
        var encoder = Encoder.Create(bitness, new NullWriter());
        return (int)encoder.Encode(instruction, 0);
    }

    private sealed class NullWriter : CodeWriter
    {
        public override void WriteByte(byte value)
        {
        }
    }
}
