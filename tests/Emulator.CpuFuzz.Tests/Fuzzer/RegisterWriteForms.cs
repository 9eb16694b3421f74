using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// Writes to the control and debug registers that keep the machine running (one family of
/// <see cref="SystemForms"/>):
/// <list type="bullet">
/// <item>CR0 with some of MP, EM, TS, NE (rarely WP, AM) toggled, CR4 with some of TSD, DE, PCE,
/// OSFXSR, OSXMMEXCPT, PGE, PSE, PAE (not in long mode, see below) toggled, then one instruction that
/// looks at them (x87, SSE, MMX, an MMX-operand conversion, EMMS, RDPMC, MOV from DR4) and, one
/// time in two, the old value restored — otherwise the rest of the case runs with the new one;</item>
/// <item>CR3 rewritten with its own value; CR8 (64-bit mode) with a priority, or a value past
/// bit 3 (#GP), read back;</item>
/// <item>DR0–DR3 with random values, DR6, DR7 (every breakpoint disabled, the other bits
/// random, rarely bits 63:32: #GP) and DR4/DR5 (aliases, or #UD under CR4.DE), read back.</item>
/// </list>
/// Not generated: reserved CR4 bits (QEMU 7.2's helper_write_crN answers them with
/// cpu_vmexit(SVM_EXIT_ERR) even outside a guest), CR4.PAE cleared in long mode (QEMU accepts it
/// and breaks), PE and PG, enabled breakpoints (docs/cpu-fuzzer.md).
/// </summary>
internal static class RegisterWriteForms
{
    private const uint Mp = 1 << 1, Em = 1 << 2, Ts = 1 << 3, Ne = 1 << 5, Wp = 1 << 16, Am = 1 << 18;

    private const uint Pse = 1 << 4, Pae = 1 << 5, Tsd = 1 << 2, De = 1 << 3, Pge = 1 << 7, Pce = 1 << 8, OsFxsr = 1 << 9, OsXmmExcpt = 1 << 10;

    public static FuzzItem Next(FuzzMode mode, Random random) => random.Next(4) switch
    {
        0 => Toggle(mode, random, cr0, RandomMask(random, [Mp, Em, Ts, Ne], [Wp, Am])),
        // PAE only outside long mode: QEMU 7.2 lets a MOV clear it under EFER.LMA (helper_write_crN
        // has no such check), and the next page walk resets the machine; emu raises the SDM's #GP.
        1 => Toggle(mode, random, cr4, RandomMask(random, [Tsd, De, Pce, OsFxsr, OsXmmExcpt], mode.IsLongMode() ? [Pge, Pse] : [Pge, Pse, Pae])),
        2 => Cr3OrCr8(mode, random),
        _ => DebugRegisterWrite(mode, random),
    };

    /// <summary>Some of <paramref name="common"/>, one time in four one of <paramref name="rare"/> too; never none.</summary>
    private static uint RandomMask(Random random, uint[] common, uint[] rare)
    {
        uint mask = 0;
        while (mask == 0)
        {
            mask = common.Where(_ => random.Next(3) == 0).Aggregate(0u, (m, b) => m | b);
            if (random.Next(4) == 0)
            {
                mask |= rare[random.Next(rare.Length)];
            }
        }

        return mask;
    }

    private static FuzzItem Toggle(FuzzMode mode, Random random, AssemblerRegisterCR cr, uint mask)
    {
        var a = new Assembler(mode.Bitness());
        if (mode == FuzzMode.Long64)
        {
            a.mov(rax, cr);
            a.mov(rcx, rax);
            a.xor(rax, (int)mask);
            a.mov(cr, rax);
        }
        else
        {
            a.mov(eax, cr);
            a.mov(ecx, eax);
            a.xor(eax, mask);
            a.mov(cr, eax);
        }

        a.AddInstruction(Probe(mode, random));
        bool restore = random.Next(2) == 0;
        if (restore && mode == FuzzMode.Long64)
        {
            a.mov(cr, rcx);
        }
        else if (restore)
        {
            a.mov(cr, ecx);
        }

        return SystemForms.Item(a);
    }

    /// <summary>An instruction whose checks read CR0.MP/EM/TS/NE or CR4.OSFXSR/DE/PCE.</summary>
    private static Instruction Probe(FuzzMode mode, Random random) => random.Next(9) switch
    {
        0 => Instruction.Create(Code.Wait),
        1 => Instruction.Create(Code.Fnop),
        2 => Instruction.Create(Code.Fld1),
        3 => Instruction.Create(Code.Movaps_xmm_xmmm128, Register.XMM0, Register.XMM1),
        4 => Instruction.Create(Code.Paddb_mm_mmm64, Register.MM0, Register.MM1),
        5 => Instruction.Create(Code.Cvtpi2ps_xmm_mmm64, Register.XMM2, Register.MM3),
        6 => Instruction.Create(Code.Emms),
        7 => Instruction.Create(Code.Rdpmc),
        _ => mode == FuzzMode.Long64 ? Instruction.Create(Code.Mov_r64_dr, Register.RDX, Register.DR4) : Instruction.Create(Code.Mov_r32_dr, Register.EDX, Register.DR4),
    };

    private static FuzzItem Cr3OrCr8(FuzzMode mode, Random random)
    {
        var a = new Assembler(mode.Bitness());
        if (mode == FuzzMode.Long64 && random.Next(2) == 0)
        {
            a.mov(rax, random.Next(8) == 0 ? 0x10L << random.Next(60) : random.Next(16));
            a.mov(cr8, rax);
            a.mov(rdx, cr8);
        }
        else if (mode == FuzzMode.Long64)
        {
            a.mov(rax, cr3);
            a.mov(cr3, rax);
        }
        else
        {
            a.mov(eax, cr3);
            a.mov(cr3, eax);
        }

        return SystemForms.Item(a);
    }

    private static FuzzItem DebugRegisterWrite(FuzzMode mode, Random random)
    {
        var a = new Assembler(mode.Bitness());
        int n = new[] { 0, 1, 2, 3, 6, 7, 4, 5 }[random.Next(random.Next(4) == 0 ? 8 : 6)];
        ulong value = CaseGenerator.RandomValue(random);
        if (n is 7 or 5)
        {
            value &= ~0xFFUL; // L0-L3 and G0-G3 clear: no breakpoint armed
        }

        if (n is >= 4 && random.Next(8) != 0)
        {
            value &= uint.MaxValue;
        }

        var dr = new[] { dr0, dr1, dr2, dr3, dr4, dr5, dr6, dr7 }[n];
        if (mode == FuzzMode.Long64)
        {
            a.mov(rax, (long)value);
            a.mov(dr, rax);
            a.mov(rdx, dr);
        }
        else
        {
            a.mov(eax, (uint)value);
            a.mov(dr, eax);
            a.mov(edx, dr);
        }

        return SystemForms.Item(a);
    }
}
