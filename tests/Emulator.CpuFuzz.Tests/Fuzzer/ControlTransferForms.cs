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
        if (mode is FuzzMode.Long64 or FuzzMode.Protected32 && random.Next(4) == 0)
        {
            return SystemCall(mode, random);
        }

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

    /// <summary>
    /// SYSCALL (64-bit and legacy protected mode) or SYSENTER (protected mode) with the MSRs the
    /// item writes first: EFER.SCE (left clear one time in eight: #UD), STAR's SYSCALL selector
    /// (the current code segment: 0x18, 0x08), SFMASK random, LSTAR or STAR[31:0] the item-local
    /// target; SYSENTER_CS 0x08, SYSENTER_ESP in the stack page, SYSENTER_EIP the target. The
    /// landing is at CPL 0 in the same mode (SS becomes CS + 8, 0x20 in 64-bit mode: QEMU and emu
    /// load it flat from the MSR without reading the GDT). Not generated: SYSRET and SYSEXIT (CPL 3
    /// with no TSS for the way back), SYSCALL from compatibility or real mode and SYSENTER under
    /// EFER.LMA (both land in 64-bit code the 32-bit sequence is not), SYSENTER in 64-bit mode (#UD
    /// on qemu64, an AMD model: a plain draw would do).
    /// </summary>
    private static FuzzItem SystemCall(FuzzMode mode, Random random)
    {
        bool is64 = mode == FuzzMode.Long64, sysenter = !is64 && random.Next(2) == 0;
        var a = new Assembler(mode.Bitness());
        var use = new List<Instruction>();
        if (sysenter)
        {
            WriteMsr(a, 0x174, FuzzLayout.Code32);
            WriteMsr(a, 0x175, (uint)FuzzLayout.StackPage + 0x700);
            use.Add(Instruction.Create(Code.Xor_r32_rm32, Register.EDX, Register.EDX));
            use.Add(Instruction.Create(Code.Mov_r32_imm32, Register.ECX, 0x176u));
            use.Add(Instruction.Create(Code.Wrmsr));
            use.Add(Instruction.Create(Code.Sysenter));
        }
        else
        {
            if (random.Next(8) != 0)
            {
                // EFER.SCE
                a.AddInstruction(Instruction.Create(Code.Mov_r32_imm32, Register.ECX, 0xC0000080u));
                a.AddInstruction(Instruction.Create(Code.Rdmsr));
                a.AddInstruction(Instruction.Create(Code.Or_rm32_imm8, Register.EAX, 1));
                a.AddInstruction(Instruction.Create(Code.Wrmsr));
            }

            WriteMsr(a, 0xC0000084, (uint)random.Next() & 0x3F_FEFF); // SFMASK, TF never set anyway
            if (is64)
            {
                WriteMsr(a, 0xC0000081, 0, FuzzLayout.Code64);
                use.Add(Instruction.Create(Code.Mov_r64_rm64, Register.RDX, Register.RAX));
                use.Add(Instruction.Create(Code.Shr_rm64_imm8, Register.RDX, 32));
                use.Add(Instruction.Create(Code.Mov_r32_imm32, Register.ECX, 0xC0000082u));
            }
            else
            {
                use.Add(Instruction.Create(Code.Mov_r32_imm32, Register.EDX, (uint)FuzzLayout.Code32));
                use.Add(Instruction.Create(Code.Mov_r32_imm32, Register.ECX, 0xC0000081u));
            }

            use.Add(Instruction.Create(Code.Wrmsr));
            use.Add(Instruction.Create(Code.Syscall));
        }

        EmitToComputedTarget(a, mode.Bitness(), mode.Bitness(), is64 ? Register.RAX : Register.EAX, use);
        a.nop();
        return SystemForms.Item(a);
    }

    private static void WriteMsr(Assembler a, uint msr, uint low, uint high = 0)
    {
        a.AddInstruction(Instruction.Create(Code.Mov_r32_imm32, Register.ECX, msr));
        a.AddInstruction(Instruction.Create(Code.Mov_r32_imm32, Register.EAX, low));
        a.AddInstruction(Instruction.Create(Code.Mov_r32_imm32, Register.EDX, high));
        a.AddInstruction(Instruction.Create(Code.Wrmsr));
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
