using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// The families beyond straight-line code, each an item written with Iced's Assembler (its
/// labels become item-local branch targets, <see cref="FuzzItem.LocalTargets"/>):
/// <list type="bullet">
/// <item>calls and returns: CALL to a RET or RET imm16 that returns to a JMP over it (with the
/// pushes RET imm16 pops);</item>
/// <item>backward loops of one to four iterations: LOOP/LOOPE/LOOPNE, or DEC/SUB and JNZ/JG, with a
/// flag-setting body (what makes the block compiler's self-loops run);</item>
/// <item>RFLAGS through the stack: PUSHF/POP and PUSH/POPF of a random value (TF and IF kept clear:
/// no single-step trap, no interrupts; ID, AC, NT, IOPL, DF and the status flags random);</item>
/// <item>INT n (vectors 0–39: past 31 the IDT's limit, a #GP), INT3, INTO;</item>
/// <item>segment-register loads: MOV Sreg, LDS/LES from the scratch page, PUSH/POP Sreg, with
/// selectors from the GDT, out of its limit, in the LDT (none) or null, and the data segment
/// restored afterwards;</item>
/// <item>descriptor queries LAR/LSL/VERR/VERW on those selectors (protected modes);</item>
/// <item>reads of the machine's state: MOV from CR0/CR2/CR3/CR4 (CR8 in 64-bit mode), SMSW,
/// SGDT/SIDT, SLDT/STR; RDMSR and WRMSR of the architectural MSRs (with non-canonical values
/// for the address MSRs) and an MSR qemu64 lacks (#GP).</item>
/// </list>
/// </summary>
internal static class SystemForms
{
    /// <summary>EFER, STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, FS/GS base, SYSENTER_CS/ESP/EIP, PAT, TSC_AUX, and one qemu64 lacks.</summary>
    private static readonly uint[] ReadableMsrs =
        [0xC0000080, 0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084, 0xC0000102, 0xC0000100, 0xC0000101,
         0x174, 0x175, 0x176, 0x277, 0xC0000103, 0x12345];

    /// <summary>The MSRs a case may write: values there change nothing the rest of the case uses.</summary>
    private static readonly uint[] WritableMsrs = [0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084, 0xC0000102, 0x174, 0x175, 0x176];

    private const int Families = 10;

    public static FuzzItem Next(FuzzMode mode, Random random) => random.Next(Families) switch
    {
        9 => RegisterWriteForms.Next(mode, random),
        8 => ControlTransferForms.Next(mode, random),
        0 => CallAndReturn(mode, random),
        1 => BackwardLoop(mode, random),
        2 => FlagsThroughStack(mode, random),
        3 => SoftwareInterrupt(mode, random),
        4 => SegmentLoad(mode, random),
        5 => mode == FuzzMode.Real16 ? ControlRegisterRead(mode, random) : DescriptorQuery(mode, random),
        6 => ControlRegisterRead(mode, random),
        _ => MsrAccess(mode, random),
    };

    private static FuzzItem CallAndReturn(FuzzMode mode, Random random)
    {
        var a = new Assembler(mode.Bitness());
        var callee = a.CreateLabel();
        var after = a.CreateLabel();
        int pops = random.Next(3);
        for (int i = 0; i < pops; i++)
        {
            PushImmediate(a, mode, random.Next(256));
        }

        a.call(callee);
        a.jmp(after);
        a.Label(ref callee);
        if (pops == 0)
        {
            a.ret();
        }
        else
        {
            a.ret((ushort)(pops * StackSlot(mode)));
        }

        a.Label(ref after);
        a.nop();
        return Item(a);
    }

    private static FuzzItem BackwardLoop(FuzzMode mode, Random random)
    {
        var a = new Assembler(mode.Bitness());
        var top = a.CreateLabel();
        a.mov(ecx, (uint)random.Next(1, 5));
        a.Label(ref top);
        switch (random.Next(4))
        {
            case 0: a.add(eax, ebx); break;
            case 1: a.xor(edx, eax); break;
            case 2: a.rol(ebx, 3); break;
            default: a.adc(esi, edi); break;
        }

        switch (random.Next(5))
        {
            case 0: a.loop(top); break;
            case 1: a.loope(top); break;
            case 2: a.loopne(top); break;
            case 3: a.dec(ecx); a.jne(top); break;
            default: a.sub(ecx, 1); a.jg(top); break;
        }

        return Item(a);
    }

    private static FuzzItem FlagsThroughStack(FuzzMode mode, Random random)
    {
        var a = new Assembler(mode.Bitness());
        if (random.Next(2) == 0)
        {
            Pushf(a, mode);
            PopGpr(a, mode, random);
            return Item(a);
        }

        // TF (bit 8) and IF (bit 9) clear; the rest of the low 22 bits random.
        uint value = ((uint)random.Next() & 0x3F_FCFF) | 2;
        PushImmediate(a, mode, mode == FuzzMode.Real16 ? (int)(value & 0xFFFF) : (int)value);
        Popf(a, mode);
        return Item(a);
    }

    private static FuzzItem SoftwareInterrupt(FuzzMode mode, Random random)
    {
        var a = new Assembler(mode.Bitness());
        switch (random.Next(mode == FuzzMode.Long64 ? 2 : 3))
        {
            // Real mode's IVT sends vectors 0-31 to the image's handlers; past them it holds zeros.
            case 0: a.@int((byte)random.Next(mode == FuzzMode.Real16 ? 32 : 40)); break;
            case 1: a.int3(); break;
            default: a.into(); break;
        }

        return Item(a);
    }

    private static FuzzItem SegmentLoad(FuzzMode mode, Random random)
    {
        var a = new Assembler(mode.Bitness());
        ushort selector = RandomSelector(mode, random);
        var segment = new[] { ds, es, fs, gs }[random.Next(4)];
        switch (random.Next(mode == FuzzMode.Long64 ? 2 : 3))
        {
            case 0:
                a.mov(ax, selector);
                a.mov(segment, ax);
                break;
            case 1:
                // PUSH r / POP Sreg at the stack's width (64-bit mode pops only FS and GS).
                a.mov(eax, selector);
                switch (mode.Bitness())
                {
                    case 16: a.push(ax); a.pop(segment); break;
                    case 32: a.push(eax); a.pop(segment); break;
                    default: a.push(rax); a.pop(random.Next(2) == 0 ? fs : gs); break;
                }

                break;
            default:
                // LDS/LES: offset then selector, from the scratch page.
                LoadScratchAddress(a, mode, 0x100);
                if (mode == FuzzMode.Real16)
                {
                    a.mov(__word_ptr[bx + 2], selector);
                    a.lds(si, __dword_ptr[bx]);
                }
                else
                {
                    a.mov(__word_ptr[ebx + 4], selector);
                    a.les(esi, __fword_ptr[ebx]);
                }

                break;
        }

        // The data segments back to the set-up's, so the items after address the scratch page.
        a.mov(ax, mode == FuzzMode.Real16 ? FuzzLayout.RealScratchSegment : FuzzLayout.Data32);
        a.mov(ds, ax);
        a.mov(es, ax);
        return Item(a);
    }

    private static FuzzItem DescriptorQuery(FuzzMode mode, Random random)
    {
        var a = new Assembler(mode.Bitness());
        a.mov(ecx, RandomSelector(mode, random));
        a.mov(eax, (uint)random.Next());
        switch (random.Next(4))
        {
            case 0: a.lar(eax, ecx); break;
            case 1: a.lsl(eax, ecx); break;
            case 2: a.verr(cx); break;
            default: a.verw(cx); break;
        }

        return Item(a);
    }

    private static FuzzItem ControlRegisterRead(FuzzMode mode, Random random)
    {
        var a = new Assembler(mode.Bitness());
        bool is64 = mode == FuzzMode.Long64;
        switch (random.Next(6))
        {
            case 0:
                var cr = new[] { cr0, cr2, cr3, cr4 }[random.Next(4)];
                if (is64)
                {
                    a.mov(rax, random.Next(5) == 0 ? cr8 : cr);
                }
                else
                {
                    a.mov(eax, cr);
                }

                break;
            case 1:
                a.smsw(random.Next(2) == 0 ? ax : (AssemblerRegister16)dx);
                break;
            case 2:
                LoadScratchAddress(a, mode, 0x200);
                if (mode == FuzzMode.Real16)
                {
                    a.sgdt(__[bx]);
                }
                else if (is64)
                {
                    a.sgdt(__[rbx]);
                }
                else
                {
                    a.sgdt(__[ebx]);
                }

                break;
            case 3:
                LoadScratchAddress(a, mode, 0x210);
                if (mode == FuzzMode.Real16)
                {
                    a.sidt(__[bx]);
                }
                else if (is64)
                {
                    a.sidt(__[rbx]);
                }
                else
                {
                    a.sidt(__[ebx]);
                }

                break;
            case 4:
                if (mode == FuzzMode.Real16)
                {
                    a.smsw(bx);
                }
                else
                {
                    a.sldt(ax);
                }

                break;
            default:
                if (mode == FuzzMode.Real16)
                {
                    a.mov(eax, cr0);
                }
                else
                {
                    a.str(dx);
                }

                break;
        }

        return Item(a);
    }

    private static FuzzItem MsrAccess(FuzzMode mode, Random random)
    {
        var a = new Assembler(mode.Bitness());
        if (random.Next(2) == 0)
        {
            a.mov(ecx, ReadableMsrs[random.Next(ReadableMsrs.Length)]);
            a.rdmsr();
            return Item(a);
        }

        ulong value = random.Next(4) switch
        {
            0 => 0x0000_8000_0000_0000UL, // the first non-canonical address
            1 => 0xFFFF_8000_0000_0000UL,
            _ => CaseGenerator.RandomValue(random),
        };
        a.mov(ecx, WritableMsrs[random.Next(WritableMsrs.Length)]);
        a.mov(eax, (uint)value);
        a.mov(edx, (uint)(value >> 32));
        a.wrmsr();
        a.rdmsr();
        return Item(a);
    }

    /// <summary>A selector of the GDT's (null, code, data, 64-bit code), past its limit, in the LDT, or random, with a random RPL.</summary>
    private static ushort RandomSelector(FuzzMode mode, Random random) => random.Next(6) switch
    {
        0 => (ushort)random.Next(4),
        1 => (ushort)(FuzzLayout.Code32 | random.Next(4)),
        2 => (ushort)(FuzzLayout.Data32 | random.Next(4)),
        3 => (ushort)(FuzzLayout.Code64 | random.Next(4)),
        4 => (ushort)(0x20 + (8 * random.Next(4)) | (random.Next(2) << 2) | random.Next(4)),
        _ => mode == FuzzMode.Real16 ? (ushort)random.Next(0x1000, 0x8000) : (ushort)random.Next(0x10000),
    };

    /// <summary>BX/EBX at the scratch page plus <paramref name="offset"/> (DS's base in real mode is the page).</summary>
    internal static void LoadScratchAddress(Assembler a, FuzzMode mode, int offset)
    {
        if (mode == FuzzMode.Real16)
        {
            a.mov(bx, (ushort)offset);
        }
        else
        {
            a.mov(ebx, (uint)FuzzLayout.ScratchPage + (uint)offset);
        }
    }

    private static int StackSlot(FuzzMode mode) => mode.Bitness() / 8;

    private static void PushImmediate(Assembler a, FuzzMode mode, int value)
    {
        switch (mode.Bitness())
        {
            case 16: a.AddInstruction(Instruction.Create(Code.Push_imm16, (uint)(ushort)value)); break;
            case 32: a.AddInstruction(Instruction.Create(Code.Pushd_imm32, (uint)value)); break;
            default: a.AddInstruction(Instruction.Create(Code.Pushq_imm32, value)); break;
        }
    }

    private static void Pushf(Assembler a, FuzzMode mode) =>
        a.AddInstruction(Instruction.Create(mode.Bitness() switch { 16 => Code.Pushfw, 32 => Code.Pushfd, _ => Code.Pushfq }));

    private static void Popf(Assembler a, FuzzMode mode) =>
        a.AddInstruction(Instruction.Create(mode.Bitness() switch { 16 => Code.Popfw, 32 => Code.Popfd, _ => Code.Popfq }));

    private static void PopGpr(Assembler a, FuzzMode mode, Random random)
    {
        var (r16, r32, r64) = new[] { (ax, eax, rax), (dx, edx, rdx), (si, esi, rsi) }[random.Next(3)];
        switch (mode.Bitness())
        {
            case 16: a.pop(r16); break;
            case 32: a.pop(r32); break;
            default: a.pop(r64); break;
        }
    }

    /// <summary>The assembled instructions as an item; a branch to one of the item's labels keeps its target as an index into the item.</summary>
    internal static FuzzItem Item(Assembler a) => ItemWithLocalTargets(a);

    /// <summary>An item from an Assembler whose near branches go to its own labels (kept as item-local targets).</summary>
    internal static FuzzItem ItemWithLocalTargets(Assembler a)
    {
        var instructions = a.Instructions.ToArray();
        var labelIndex = new Dictionary<ulong, int>();
        for (int i = 0; i < instructions.Length; i++)
        {
            if (instructions[i].IP != 0)
            {
                labelIndex[instructions[i].IP] = i;
            }
        }

        var targets = new int[instructions.Length];
        for (int i = 0; i < instructions.Length; i++)
        {
            var op = instructions[i].Op0Kind;
            targets[i] = op is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64
                && labelIndex.TryGetValue(instructions[i].NearBranchTarget, out int index) ? index : -1;
            instructions[i].IP = 0;
        }

        return new FuzzItem(instructions, LocalTargets: targets.Any(t => t >= 0) ? targets : null);
    }
}
