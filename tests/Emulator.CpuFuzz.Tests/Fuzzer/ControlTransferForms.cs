using Iced.Intel;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// The control transfers whose target is not an operand of a relative branch (one family of
/// <see cref="SystemForms"/>). The target is an item-local label whose address the item computes
/// itself: CALL to the next instruction, POP, ADD of the distance (the encoded lengths of the
/// instructions in between, the same at any address). An INT3 between the transfer and its
/// target shows a transfer not taken.
/// <list type="bullet">
/// <item>indirect JMP and CALL through a register or the scratch page, in each operand size the
/// mode can take without leaving the sequence (16 and 32 bits in real mode, 32 in the 32-bit
/// modes, 64 in 64-bit mode); a CALL's target POPs the return address;</item>
/// <item>far JMP and CALL through an m16:16/m16:32/m16:64 pointer in the scratch page, RETF and
/// IRET/IRETD/IRETQ from a frame the item pushes, all to the current code segment at the same
/// privilege level (F000 in real mode, whose base becomes F0000h: the BIOS alias of the same
/// bytes). A far CALL's return frame stays on the stack and is compared with the stack page.
/// Transfers to the other modes' code segments are not generated: the sequence is encoded for
/// one mode.</item>
/// </list>
/// </summary>
internal static class ControlTransferForms
{
    private enum Transfer
    {
        Jmp,
        Call,
        FarJmp,
        FarCall,
        Retf,
        Iret,
    }

    public static FuzzItem Next(FuzzMode mode, Random random)
    {
        int bitness = mode.Bitness();
        var transfer = (Transfer)random.Next(6);
        int size = bitness switch { 16 => random.Next(2) == 0 ? 16 : 32, 64 => transfer is Transfer.FarJmp or Transfer.FarCall && random.Next(2) == 0 ? 32 : 64, _ => 32 };
        bool viaMemory = transfer is Transfer.FarJmp or Transfer.FarCall || (transfer is Transfer.Jmp or Transfer.Call && random.Next(2) == 0);
        var gprs = new[] { Register.EAX, Register.EDX, Register.ESI, Register.EDI };
        Register target = Sized(transfer is Transfer.Jmp or Transfer.Call ? gprs[random.Next(4)] : Register.EAX, size);
        var pointer = new MemoryOperand(bitness switch { 16 => Register.BX, 32 => Register.EBX, _ => Register.RBX });

        var use = new List<Instruction>();
        if (viaMemory)
        {
            use.Add(Instruction.Create(size switch { 16 => Code.Mov_rm16_r16, 32 => Code.Mov_rm32_r32, _ => Code.Mov_rm64_r64 }, pointer, target));
        }

        if (transfer is Transfer.FarJmp or Transfer.FarCall)
        {
            use.Add(Instruction.Create(Code.Mov_rm16_Sreg, new MemoryOperand(pointer.Base, size / 8), Register.CS));
        }

        switch (transfer)
        {
            case Transfer.Jmp:
            case Transfer.Call:
                var near = (transfer == Transfer.Call, size) switch
                {
                    (true, 16) => Code.Call_rm16, (true, 32) => Code.Call_rm32, (true, _) => Code.Call_rm64,
                    (false, 16) => Code.Jmp_rm16, (false, 32) => Code.Jmp_rm32, _ => Code.Jmp_rm64,
                };
                use.Add(viaMemory ? Instruction.Create(near, pointer) : Instruction.Create(near, target));
                break;
            case Transfer.FarJmp:
            case Transfer.FarCall:
                var far = (transfer == Transfer.FarCall, size) switch
                {
                    (true, 16) => Code.Call_m1616, (true, 32) => Code.Call_m1632, (true, _) => Code.Call_m1664,
                    (false, 16) => Code.Jmp_m1616, (false, 32) => Code.Jmp_m1632, _ => Code.Jmp_m1664,
                };
                use.Add(Instruction.Create(far, pointer));
                break;
            case Transfer.Retf:
                PushCodeSelector(use, size);
                use.Add(Instruction.Create(Push(size), target));
                use.Add(Instruction.Create(size switch { 16 => Code.Retfw, 32 => Code.Retfd, _ => Code.Retfq }));
                break;
            default:
                if (size == 64)
                {
                    // IRETQ pops SS:RSP as well: the frame returns to this stack.
                    use.Add(Instruction.Create(Code.Mov_r64_rm64, Register.RCX, Register.RSP));
                    use.Add(Instruction.Create(Code.Mov_r32m16_Sreg, Register.EDX, Register.SS));
                    use.Add(Instruction.Create(Code.Push_r64, Register.RDX));
                    use.Add(Instruction.Create(Code.Push_r64, Register.RCX));
                }

                use.Add(Instruction.Create(size switch { 16 => Code.Pushfw, 32 => Code.Pushfd, _ => Code.Pushfq }));
                PushCodeSelector(use, size);
                use.Add(Instruction.Create(Push(size), target));
                use.Add(Instruction.Create(size switch { 16 => Code.Iretw, 32 => Code.Iretd, _ => Code.Iretq }));
                break;
        }

        var a = new Assembler(bitness);
        if (viaMemory)
        {
            SystemForms.LoadScratchAddress(a, mode, 0x300);
        }

        EmitToComputedTarget(a, bitness, size, target, use);

        // The target: a near CALL's pops the return address it pushed, at the CALL's operand size
        // (compared through the register and the stack page).
        if (transfer == Transfer.Call)
        {
            a.AddInstruction(Instruction.Create(size switch { 16 => Code.Pop_r16, 32 => Code.Pop_r32, _ => Code.Pop_r64 }, Sized(Register.ECX, size)));
        }
        else
        {
            a.nop();
        }

        return SystemForms.Item(a);
    }

    /// <summary>CALL next; next: POP; ADD the distance to the target into <paramref name="target"/>; <paramref name="use"/>; INT3; then the caller's target.</summary>
    private static void EmitToComputedTarget(Assembler a, int bitness, int size, Register target, List<Instruction> use)
    {
        var before = new List<Instruction>();
        if (bitness == 16 && size == 32)
        {
            before.Add(Instruction.Create(Code.Pop_r16, Sized(target, 16)));
            before.Add(Instruction.Create(Code.Movzx_r32_rm16, target, Sized(target, 16)));
        }
        else
        {
            before.Add(Instruction.Create(bitness switch { 16 => Code.Pop_r16, 32 => Code.Pop_r32, _ => Code.Pop_r64 }, Sized(target, bitness)));
        }

        var addCode = size switch { 16 => Code.Add_rm16_imm8, 32 => Code.Add_rm32_imm8, _ => Code.Add_rm64_imm8 };
        var int3 = Instruction.Create(Code.Int3);
        int distance = before.Concat(use).Append(int3).Sum(i => EncodedLength(i, bitness)) + EncodedLength(Instruction.Create(addCode, target, 0), bitness);
        var next = a.CreateLabel();
        a.call(next);
        a.Label(ref next);
        foreach (var instruction in before.Append(Instruction.Create(addCode, target, distance)).Concat(use).Append(int3))
        {
            a.AddInstruction(instruction);
        }
    }

    /// <summary>The code selector pushed at <paramref name="size"/> bits (through EDX: 64-bit mode has no PUSH CS).</summary>
    private static void PushCodeSelector(List<Instruction> use, int size)
    {
        use.Add(Instruction.Create(Code.Mov_r32m16_Sreg, Register.EDX, Register.CS));
        use.Add(Instruction.Create(Push(size), Sized(Register.EDX, size)));
    }

    private static Code Push(int size) => size switch { 16 => Code.Push_r16, 32 => Code.Push_r32, _ => Code.Push_r64 };

    /// <summary>The general register <paramref name="r"/> (any width) at <paramref name="size"/> bits.</summary>
    private static Register Sized(Register r, int size) => size switch
    {
        16 => r.GetFullRegister32() - Register.EAX + Register.AX,
        32 => r.GetFullRegister32(),
        _ => r.GetFullRegister32() - Register.EAX + Register.RAX,
    };

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
