using Emulator.Core.Cpu;
using Iced.Intel;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// The instruction forms a mode's cases draw from: every legacy encoding Iced lists for the
/// mnemonics below that is valid in the mode and whose operands are general registers, memory,
/// immediates or fixed AL/CL/AX/EAX/RAX, grouped into families (one per mnemonic; SETcc, CMOVcc
/// and the forward branches are one family each; the string instructions another, with their
/// REP forms and a count of 0 to 8), CPUID with a leaf and subleaf, and, for one item in six, the SSE/SSE2 encodings emu
/// implements (one family per mnemonic).
/// </summary>
public sealed class InstructionForms
{
    private static readonly Mnemonic[] Plain =
    [
        Mnemonic.Add, Mnemonic.Or, Mnemonic.Adc, Mnemonic.Sbb, Mnemonic.And, Mnemonic.Sub, Mnemonic.Xor, Mnemonic.Cmp,
        Mnemonic.Test, Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Neg, Mnemonic.Not, Mnemonic.Shl, Mnemonic.Shr, Mnemonic.Sar,
        Mnemonic.Sal, Mnemonic.Rol, Mnemonic.Ror, Mnemonic.Rcl, Mnemonic.Rcr, Mnemonic.Shld, Mnemonic.Shrd, Mnemonic.Mul,
        Mnemonic.Imul, Mnemonic.Div, Mnemonic.Idiv, Mnemonic.Mov, Mnemonic.Movzx, Mnemonic.Movsx, Mnemonic.Movsxd,
        Mnemonic.Lea, Mnemonic.Xchg, Mnemonic.Cmpxchg, Mnemonic.Xadd, Mnemonic.Bswap, Mnemonic.Bt, Mnemonic.Bts,
        Mnemonic.Btr, Mnemonic.Btc, Mnemonic.Bsf, Mnemonic.Bsr, Mnemonic.Cbw, Mnemonic.Cwde, Mnemonic.Cdqe, Mnemonic.Cwd,
        Mnemonic.Cdq, Mnemonic.Cqo, Mnemonic.Clc, Mnemonic.Stc, Mnemonic.Cmc, Mnemonic.Cld, Mnemonic.Std, Mnemonic.Lahf,
        Mnemonic.Sahf, Mnemonic.Push, Mnemonic.Pop, Mnemonic.Nop, Mnemonic.Daa, Mnemonic.Das, Mnemonic.Aaa, Mnemonic.Aas,
        Mnemonic.Aam, Mnemonic.Aad, Mnemonic.Cmpxchg8b,
        // Exceptions: #BP, ICEBP (#UD on QEMU 7.2), #OF when OF is set, #BR out of bounds (not in 64-bit mode).
        Mnemonic.Int3, Mnemonic.Int1, Mnemonic.Into, Mnemonic.Bound,
    ];

    private static readonly Mnemonic[] Setcc =
    [
        Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete, Mnemonic.Setne, Mnemonic.Setbe, Mnemonic.Seta,
        Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp, Mnemonic.Setl, Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg,
    ];

    private static readonly Mnemonic[] Cmovcc =
    [
        Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove, Mnemonic.Cmovne, Mnemonic.Cmovbe, Mnemonic.Cmova,
        Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp, Mnemonic.Cmovnp, Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg,
    ];

    private static readonly Mnemonic[] Branches =
    [
        Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne, Mnemonic.Jbe, Mnemonic.Ja,
        Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl, Mnemonic.Jge, Mnemonic.Jle, Mnemonic.Jg,
        Mnemonic.Jmp, Mnemonic.Loop, Mnemonic.Loope, Mnemonic.Loopne, Mnemonic.Jcxz, Mnemonic.Jecxz, Mnemonic.Jrcxz,
    ];

    private static readonly Mnemonic[] Strings = [Mnemonic.Movsb, Mnemonic.Movsw, Mnemonic.Movsd, Mnemonic.Movsq,
        Mnemonic.Stosb, Mnemonic.Stosw, Mnemonic.Stosd, Mnemonic.Stosq, Mnemonic.Lodsb, Mnemonic.Lodsw, Mnemonic.Lodsd,
        Mnemonic.Lodsq, Mnemonic.Scasb, Mnemonic.Scasw, Mnemonic.Scasd, Mnemonic.Scasq, Mnemonic.Cmpsb, Mnemonic.Cmpsw,
        Mnemonic.Cmpsd, Mnemonic.Cmpsq];

    private static readonly Dictionary<FuzzMode, InstructionForms> Cache = [];

    private readonly FuzzMode _mode;
    private readonly List<Code[]> _families;
    private readonly Code[] _branches;
    private readonly Mnemonic[] _strings;
    private readonly List<Code[]> _sse;
    private readonly List<Code[]> _x87;

    private InstructionForms(FuzzMode mode)
    {
        _mode = mode;
        var codes = Enum.GetValues<Code>().Where(c => IsUsable(c, mode)).ToList();
        _families = [.. Plain.Select(m => codes.Where(c => c.Mnemonic() == m && HasPlainOperands(c)).ToArray()).Where(f => f.Length > 0)];
        _families.Add([.. codes.Where(c => Setcc.Contains(c.Mnemonic()) && HasPlainOperands(c))]);
        _families.Add([.. codes.Where(c => Cmovcc.Contains(c.Mnemonic()) && HasPlainOperands(c))]);
        _branches = [.. codes.Where(c => Branches.Contains(c.Mnemonic()) && IsRelativeBranch(c, mode))];
        _sse = [.. codes.Where(c => IsSseFormEmuImplements(c) && HasPlainOperands(c)).GroupBy(c => c.Mnemonic()).Select(g => g.ToArray())];
        _x87 = [.. codes.Where(c => IsX87FormEmuImplements(c) && HasPlainOperands(c)).GroupBy(c => c.Mnemonic()).Select(g => g.ToArray())];
        _strings = [.. Strings.Where(m => mode.Bitness() == 64 || !m.ToString().EndsWith('q'))];
    }

    /// <summary>The forms of <paramref name="mode"/> (built once per mode).</summary>
    public static InstructionForms For(FuzzMode mode)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(mode, out var forms))
            {
                Cache[mode] = forms = new InstructionForms(mode);
            }

            return forms;
        }
    }

    /// <summary>All the encodings the families hold (for tests and the docs' coverage note).</summary>
    public IEnumerable<Code> AllCodes => _families.SelectMany(f => f).Concat(_branches).Concat(_sse.SelectMany(f => f)).Concat(_x87.SelectMany(f => f));

    public FuzzItem NextItem(Random random)
    {
        if (random.Next(48) == 0)
        {
            // One item in 48 runs with TF set (DebugItems).
            return DebugItems.WithTrapFlag(NextItem(random), _mode);
        }

        if (random.Next(6) == 0)
        {
            return PlainItem(_sse[random.Next(_sse.Count)], random);
        }

        if (random.Next(8) == 0)
        {
            return SystemForms.Next(_mode, random);
        }

        if (random.Next(5) == 0)
        {
            return PlainItem(_x87[random.Next(_x87.Count)], random);
        }

        int family = random.Next(_families.Count + 3);
        if (family == _families.Count)
        {
            var branch = Instruction.CreateBranch(_branches[random.Next(_branches.Length)], 0);
            return new FuzzItem([branch], SkipsNextItem: true);
        }

        if (family == _families.Count + 1)
        {
            return StringItem(_strings[random.Next(_strings.Length)], random);
        }

        if (family == _families.Count + 2)
        {
            return CpuidItem(random);
        }

        return PlainItem(_families[family], random);
    }

    private FuzzItem PlainItem(Code[] codes, Random random)
    {
        var operands = new OperandBuilder(_mode, random);
        var instruction = operands.Build(codes[random.Next(codes.Length)]);
        if (instruction.Mnemonic is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc)
        {
            return new FuzzItem([.. operands.Preparation, instruction, RedefineFlagsFromCarry(random)]);
        }

        return new FuzzItem([.. operands.Preparation, instruction]);
    }

    /// <summary>
    /// ADC r32, 0: every status flag from the result and CF. After BT/BTS/BTR/BTC, QEMU 7.2's
    /// undefined flags depend on translation-block boundaries (OF/SF/ZF/PF from the previous
    /// lazy result when it is in the same block, unchanged when materialised at a block start;
    /// target/i386/tcg/translate.c, the BT group's bt_op derives its CC_OP_SAR* from the current
    /// cc_op, which is CC_OP_EFLAGS at a block start). emu does the
    /// same with its own blocks (Handlers/Bits.cs, SetBitTestFlags). The single-stepped QEMU
    /// shows only the one-instruction-block behaviour, which the stepped run compares right after
    /// the BT; this ADC keeps the whole-block runs from observing the block-dependent flags.
    /// </summary>
    private Instruction RedefineFlagsFromCarry(Random random)
    {
        int index = random.Next(7);
        return Instruction.Create(Code.Adc_rm32_imm8, Register.EAX + index + (index >= 4 ? 1 : 0), 0);
    }

    private FuzzItem StringItem(Mnemonic mnemonic, Random random)
    {
        bool is64 = _mode == FuzzMode.Long64;
        Register si = is64 ? Register.RSI : Register.ESI, di = is64 ? Register.RDI : Register.EDI, cx = is64 ? Register.RCX : Register.ECX;
        var prepare = new List<Instruction>
        {
            Instruction.Create(Code.Mov_r32_imm32, si.GetFullRegister32(), (uint)FuzzLayout.ScratchPage + (uint)random.Next(0x400, 0xC00)),
            Instruction.Create(Code.Mov_r32_imm32, di.GetFullRegister32(), (uint)FuzzLayout.ScratchPage + (uint)random.Next(0x400, 0xC00)),
            Instruction.Create(Code.Mov_r32_imm32, cx.GetFullRegister32(), (uint)random.Next(0, 9)),
        };
        int addressSize = _mode.Bitness();
        var rep = (RepPrefixKind)random.Next(3);
        var instruction = mnemonic switch
        {
            Mnemonic.Movsb => Instruction.CreateMovsb(addressSize, Register.None, rep),
            Mnemonic.Movsw => Instruction.CreateMovsw(addressSize, Register.None, rep),
            Mnemonic.Movsd => Instruction.CreateMovsd(addressSize, Register.None, rep),
            Mnemonic.Movsq => Instruction.CreateMovsq(addressSize, Register.None, rep),
            Mnemonic.Stosb => Instruction.CreateStosb(addressSize, rep),
            Mnemonic.Stosw => Instruction.CreateStosw(addressSize, rep),
            Mnemonic.Stosd => Instruction.CreateStosd(addressSize, rep),
            Mnemonic.Stosq => Instruction.CreateStosq(addressSize, rep),
            Mnemonic.Lodsb => Instruction.CreateLodsb(addressSize, Register.None, rep),
            Mnemonic.Lodsw => Instruction.CreateLodsw(addressSize, Register.None, rep),
            Mnemonic.Lodsd => Instruction.CreateLodsd(addressSize, Register.None, rep),
            Mnemonic.Lodsq => Instruction.CreateLodsq(addressSize, Register.None, rep),
            Mnemonic.Scasb => Instruction.CreateScasb(addressSize, rep),
            Mnemonic.Scasw => Instruction.CreateScasw(addressSize, rep),
            Mnemonic.Scasd => Instruction.CreateScasd(addressSize, rep),
            Mnemonic.Scasq => Instruction.CreateScasq(addressSize, rep),
            Mnemonic.Cmpsb => Instruction.CreateCmpsb(addressSize, Register.None, rep),
            Mnemonic.Cmpsw => Instruction.CreateCmpsw(addressSize, Register.None, rep),
            Mnemonic.Cmpsd => Instruction.CreateCmpsd(addressSize, Register.None, rep),
            _ => Instruction.CreateCmpsq(addressSize, Register.None, rep),
        };

        return new FuzzItem([.. prepare, instruction]);
    }

    /// <summary>The CPUID leaves qemu64 answers (basic up to 0xD, extended up to 0x80000008), and two it does not.</summary>
    private static readonly uint[] CpuidLeaves =
        [0, 1, 2, 3, 4, 5, 6, 7, 0xA, 0xB, 0xD, 0x14, 0x40000000, 0x80000000, 0x80000001, 0x80000002, 0x80000003,
         0x80000004, 0x80000005, 0x80000006, 0x80000007, 0x80000008, 0x8000000A, 0x12345678];

    /// <summary>CPUID of a leaf (EAX) and subleaf (ECX 0-3): emu answers as qemu64 does (CpuModel).</summary>
    private static FuzzItem CpuidItem(Random random) => new(
    [
        Instruction.Create(Code.Mov_r32_imm32, Register.EAX, CpuidLeaves[random.Next(CpuidLeaves.Length)]),
        Instruction.Create(Code.Mov_r32_imm32, Register.ECX, (uint)random.Next(4)),
        Instruction.Create(Code.Cpuid),
    ]);

    private static bool IsUsable(Code code, FuzzMode mode)
    {
        var op = code.ToOpCode();
        return op.IsInstruction && op.Encoding == EncodingKind.Legacy && mode.Bitness() switch { 64 => op.Mode64, 32 => op.Mode32, _ => op.Mode16 };
    }

    /// <summary>
    /// MMX, SSE, SSE2 and SSE3 encodings (qemu64 has them; not SSSE3 and later, which its CPUID
    /// lacks) that emu implements (the MMX registers compared through QEMU's st0..st7): the others raise #UD in emu by design
    /// (docs/cpu.md), a known gap rather than a divergence to rediscover on every run. Not
    /// LDMXCSR (random bits #GP or unmask exceptions for the rest of the case), FXSAVE/FXRSTOR
    /// (512 bytes, past the scratch page) or MASKMOVQ/MASKMOVDQU (write at RDI).
    /// </summary>
    private static bool IsSseFormEmuImplements(Code code) =>
        code.CpuidFeatures().All(f => f is CpuidFeature.MMX or CpuidFeature.SSE or CpuidFeature.SSE2 or CpuidFeature.SSE3 or CpuidFeature.X64)
        && code.CpuidFeatures().Any(f => f is CpuidFeature.MMX or CpuidFeature.SSE or CpuidFeature.SSE2 or CpuidFeature.SSE3)
        && code.Mnemonic() is not (Mnemonic.Ldmxcsr or Mnemonic.Maskmovdqu or Mnemonic.Maskmovq)
        && HandlerTable.IsImplemented(code);

    /// <summary>
    /// x87 encodings (CPUID.FPU; FCMOVcc and FCOMI also CMOV) emu implements, the 9B-prefixed
    /// forms (FINIT, FSTSW, FSTENV, …) among them: Iced decodes them as one instruction, QEMU
    /// steps them as two, and the QEMU runner folds the step after the WAIT.
    /// </summary>
    private static bool IsX87FormEmuImplements(Code code) =>
        code.CpuidFeatures().Contains(CpuidFeature.FPU)
        && HandlerTable.IsImplemented(code);

    private static bool HasPlainOperands(Code code)
    {
        var op = code.ToOpCode();
        return Enumerable.Range(0, op.OpCount).All(i => OperandBuilder.Supports(op.GetOpKind(i)));
    }

    private static bool IsRelativeBranch(Code code, FuzzMode mode)
    {
        var op = code.ToOpCode();
        // The 16-bit operand-size forms truncate EIP to 16 bits (SDM Vol. 2, Jcc): out of the
        // sequence at 0xFFFF3000, so only in real mode, where the sequence is at IP 0x3000.
        return op.OpCount == 1 && (op.GetOpKind(0) is OpCodeOperandKind.br32_1 or OpCodeOperandKind.br64_1
            or OpCodeOperandKind.br32_4 or OpCodeOperandKind.br64_4
            || (mode == FuzzMode.Real16 && op.GetOpKind(0) is OpCodeOperandKind.br16_1 or OpCodeOperandKind.br16_2));
    }

    internal static Register FixedRegister(OpCodeOperandKind kind) => kind switch
    {
        OpCodeOperandKind.al => Register.AL,
        OpCodeOperandKind.cl => Register.CL,
        OpCodeOperandKind.ax => Register.AX,
        OpCodeOperandKind.eax => Register.EAX,
        OpCodeOperandKind.rax => Register.RAX,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a fixed register"),
    };
}
