using Iced.Intel;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// Random operands for one encoding. Registers are any general register but the stack pointer
/// (AH..BH only where the encoder allows them) or any XMM register the mode has or MMX register; a memory operand is <c>[base + disp8]</c> with
/// the base (never the stack pointer) loaded with a scratch-page address by a MOV that
/// <see cref="Preparation"/> holds, sometimes with an index; LOCK one time in sixteen. BT/BTS/BTR/BTC with a register bit offset address memory
/// up to 2^63 bits away, so those take a register destination.
/// </summary>
internal sealed class OperandBuilder(FuzzMode mode, Random random)
{
    private static readonly Register[] Bytes64 =
        [Register.AL, Register.CL, Register.DL, Register.BL, Register.BPL, Register.SIL, Register.DIL,
         Register.R8L, Register.R9L, Register.R10L, Register.R11L, Register.R12L, Register.R13L, Register.R14L, Register.R15L,
         Register.AH, Register.CH, Register.DH, Register.BH];

    private static readonly HashSet<Mnemonic> Lockable =
    [
        Mnemonic.Add, Mnemonic.Adc, Mnemonic.And, Mnemonic.Btc, Mnemonic.Btr, Mnemonic.Bts, Mnemonic.Cmpxchg, Mnemonic.Cmpxchg8b,
        Mnemonic.Dec, Mnemonic.Inc, Mnemonic.Neg, Mnemonic.Not, Mnemonic.Or, Mnemonic.Sbb, Mnemonic.Sub, Mnemonic.Xor,
        Mnemonic.Xadd, Mnemonic.Xchg,
    ];

    private static readonly Register[] RealModeBases = [Register.BX, Register.BP, Register.SI, Register.DI];

    private static readonly Register[] Bytes32 =
        [Register.AL, Register.CL, Register.DL, Register.BL, Register.AH, Register.CH, Register.DH, Register.BH];

    private MemoryOperand? _memory;

    /// <summary>The instructions that load memory operands' bases.</summary>
    public List<Instruction> Preparation { get; } = [];

    public static bool Supports(OpCodeOperandKind kind) => kind is
        OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r64_or_mem
        or OpCodeOperandKind.mem
        or OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode or OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_opcode
        or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_opcode or OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_opcode
        or OpCodeOperandKind.al or OpCodeOperandKind.cl or OpCodeOperandKind.ax or OpCodeOperandKind.eax or OpCodeOperandKind.rax
        or OpCodeOperandKind.imm8 or OpCodeOperandKind.imm8_const_1 or OpCodeOperandKind.imm8sex16 or OpCodeOperandKind.imm8sex32
        or OpCodeOperandKind.imm8sex64 or OpCodeOperandKind.imm16 or OpCodeOperandKind.imm32 or OpCodeOperandKind.imm32sex64
        or OpCodeOperandKind.imm64 or OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm or OpCodeOperandKind.xmm_or_mem
        or OpCodeOperandKind.mm_reg or OpCodeOperandKind.mm_rm or OpCodeOperandKind.mm_or_mem
        or OpCodeOperandKind.st0 or OpCodeOperandKind.sti_opcode;

    /// <summary>An instruction of <paramref name="code"/> the encoder accepts (operands drawn again until it does); <paramref name="forceLock"/> puts LOCK on it whatever the form.</summary>
    public Instruction Build(Code code, bool forceLock = false)
    {
        var op = code.ToOpCode();
        bool bitTest = op.Mnemonic is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc;
        bool registerOnly = bitTest && op.OpCount == 2 && op.GetOpKind(1) != OpCodeOperandKind.imm8;
        // LOCK one time in sixteen on the lockable mnemonics with a memory destination (SDM
        // Vol. 2, LOCK), and one time in 64 on any other form: QEMU 7.2 runs many of those where
        // the SDM says #UD (XCHG between registers, LAHF, SHL, IMUL ...; Cpu.DecodeLock.cs).
        // Never on BT/BTS/BTR/BTC with a register, which QEMU runs on a stale address or aborts
        // ("tcg fatal error"; docs/cpu-fuzzer.md).
        int draw = random.Next(64);
        bool anyForm = forceLock || draw == 63;
        bool locked = forceLock || (draw < 4 && Lockable.Contains(op.Mnemonic)) || anyForm;
        for (int attempt = 0; ; attempt++)
        {
            Preparation.Clear();
            _memory = null;
            var instruction = new Instruction { Code = code };
            for (int i = 0; i < op.OpCount; i++)
            {
                SetOperand(ref instruction, i, op.GetOpKind(i), registerOnly);
            }

            instruction.HasLockPrefix = locked && (instruction.Op0Kind == OpKind.Memory || (anyForm && !(bitTest && instruction.Op0Kind == OpKind.Register)));
            var encoder = Encoder.Create(mode.Bitness(), new NullWriter());
            if (encoder.TryEncode(instruction, 0x1000, out _, out _) || attempt > 20)
            {
                SeedFloatOperand(instruction);
                return instruction;
            }
        }
    }

    private void SetOperand(ref Instruction instruction, int i, OpCodeOperandKind kind, bool registerOnly)
    {
        switch (kind)
        {
            case OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r64_or_mem
                or OpCodeOperandKind.xmm_or_mem or OpCodeOperandKind.mm_or_mem:
                if (registerOnly || random.Next(10) < 7)
                {
                    SetRegister(ref instruction, i, kind);
                }
                else
                {
                    SetMemory(ref instruction, i);
                }

                break;
            case OpCodeOperandKind.mem:
                SetMemory(ref instruction, i);
                break;
            case OpCodeOperandKind.al or OpCodeOperandKind.cl or OpCodeOperandKind.ax or OpCodeOperandKind.eax or OpCodeOperandKind.rax:
                instruction.SetOpKind(i, OpKind.Register);
                instruction.SetOpRegister(i, InstructionForms.FixedRegister(kind));
                break;
            case OpCodeOperandKind.imm8_const_1:
                instruction.SetOpKind(i, OpKind.Immediate8);
                instruction.Immediate8 = 1;
                break;
            case OpCodeOperandKind.imm8 or OpCodeOperandKind.imm8sex16 or OpCodeOperandKind.imm8sex32 or OpCodeOperandKind.imm8sex64
                or OpCodeOperandKind.imm16 or OpCodeOperandKind.imm32 or OpCodeOperandKind.imm32sex64 or OpCodeOperandKind.imm64:
                SetImmediate(ref instruction, i, kind);
                break;
            default:
                SetRegister(ref instruction, i, kind);
                break;
        }
    }

    private void SetRegister(ref Instruction instruction, int i, OpCodeOperandKind kind)
    {
        instruction.SetOpKind(i, OpKind.Register);
        if (kind is OpCodeOperandKind.st0 or OpCodeOperandKind.sti_opcode)
        {
            instruction.SetOpRegister(i, Register.ST0 + (kind == OpCodeOperandKind.st0 ? 0 : random.Next(8)));
            return;
        }

        if (kind is OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm or OpCodeOperandKind.xmm_or_mem)
        {
            instruction.SetOpRegister(i, Register.XMM0 + random.Next(mode.Bitness() == 64 ? 16 : 8));
            return;
        }

        if (kind is OpCodeOperandKind.mm_reg or OpCodeOperandKind.mm_rm or OpCodeOperandKind.mm_or_mem)
        {
            instruction.SetOpRegister(i, Register.MM0 + random.Next(8));
            return;
        }

        instruction.SetOpRegister(i, RandomRegister(kind switch
        {
            OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode => 1,
            OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_opcode => 2,
            OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_opcode => 4,
            _ => 8,
        }));
    }

    private Register RandomRegister(int size)
    {
        if (size == 1)
        {
            var bytes = mode.Bitness() == 64 ? Bytes64 : Bytes32;
            return bytes[random.Next(bytes.Length)];
        }

        int count = mode.Bitness() == 64 ? 16 : 8;
        int index = random.Next(count - 1);
        index += index >= 4 ? 1 : 0; // skip the stack pointer
        var baseRegister = size switch { 2 => Register.AX, 4 => Register.EAX, _ => Register.RAX };
        return baseRegister + index;
    }

    /// <summary>
    /// One time in two, an SSE form's memory operand first gets an XMM register's 16 bytes
    /// (MOVUPS to the same address): the registers hold floating-point edge values
    /// (<see cref="CaseGenerator.XmmValue"/>), the scratch page only random bytes.
    /// </summary>
    private void SeedFloatOperand(Instruction instruction)
    {
        bool sse = Enumerable.Range(0, instruction.OpCount).Any(i => instruction.GetOpKind(i) == OpKind.Register && instruction.GetOpRegister(i).IsXMM());
        if (_memory is { } memory && sse && random.Next(2) == 0)
        {
            var source = Register.XMM0 + random.Next(mode.Bitness() == 64 ? 16 : 8);
            Preparation.Add(Instruction.Create(Code.Movups_xmmm128_xmm, memory, source));
        }
    }

    /// <summary>
    /// <c>[base + disp8]</c>, or one time in three <c>[base + index × scale + disp8]</c> (in
    /// 16-bit addressing BX or BP plus SI or DI), the base loaded with a scratch-page address
    /// and the index with 0..0x40 by MOVs in <see cref="Preparation"/>.
    /// </summary>
    private void SetMemory(ref Instruction instruction, int i)
    {
        bool indexed = random.Next(3) == 0;
        var (baseRegister, indexRegister) = mode.Bitness() switch
        {
            64 => (RandomRegister(8), RandomRegister(8)),
            32 => (RandomRegister(4), RandomRegister(4)),
            // 16-bit addressing: BX or BP (SS-relative: the stack page) with SI or DI, or one of the four alone.
            _ => indexed
                ? (random.Next(2) == 0 ? Register.BX : Register.BP, random.Next(2) == 0 ? Register.SI : Register.DI)
                : (RealModeBases[random.Next(RealModeBases.Length)], Register.None),
        };
        indexed &= indexRegister != baseRegister;
        uint address = (uint)FuzzLayout.ScratchPage + (uint)random.Next(0x100, indexed ? 0xC00 : 0xE00);
        int displacement = random.Next(-128, 128);
        if (instruction.MemorySize.GetSize() >= 16 && random.Next(10) != 0)
        {
            // Mostly aligned: MOVAPS and the like #GP on a misaligned 16-byte operand (also compared).
            address &= ~15u;
            displacement &= ~15;
        }

        if (mode == FuzzMode.Long64 && random.Next(32) == 0)
        {
            // A non-canonical base: QEMU 7.2 raises #GP(0) at translation, also for SS (RBP)
            // accesses (target/i386/tcg/sysemu/excp_helper.c, get_physical_address).
            Preparation.Add(Instruction.Create(Code.Mov_r64_imm64, baseRegister, (1UL << 47) | address));
        }
        else
        {
            // MOV r32 in every mode; in real mode the base's low 16 bits are the page offset.
            Preparation.Add(Instruction.Create(Code.Mov_r32_imm32, baseRegister.GetFullRegister32(), address));
        }
        instruction.SetOpKind(i, OpKind.Memory);
        instruction.MemoryBase = baseRegister;
        instruction.MemoryIndex = Register.None;
        instruction.MemoryIndexScale = 1;
        if (indexed)
        {
            int scale = mode.Bitness() == 16 ? 1 : 1 << random.Next(4);
            uint index = (uint)random.Next(0, 0x41);
            if (instruction.MemorySize.GetSize() >= 16)
            {
                index &= ~15u; // keeps the alignment chosen above
            }

            Preparation.Add(Instruction.Create(Code.Mov_r32_imm32, indexRegister.GetFullRegister32(), index));
            instruction.MemoryIndex = indexRegister;
            instruction.MemoryIndexScale = scale;
        }

        _memory = new MemoryOperand(baseRegister, instruction.MemoryIndex, instruction.MemoryIndexScale, displacement, 1);
        instruction.MemoryDisplSize = 1;
        instruction.MemoryDisplacement64 = (ulong)(long)displacement;
        instruction.MemoryDisplacement64 &= mode.Bitness() switch { 64 => ulong.MaxValue, 32 => uint.MaxValue, _ => ushort.MaxValue };
    }

    private void SetImmediate(ref Instruction instruction, int i, OpCodeOperandKind kind)
    {
        ulong value = CaseGenerator.RandomValue(random);
        var opKind = kind switch
        {
            OpCodeOperandKind.imm8 => OpKind.Immediate8,
            OpCodeOperandKind.imm8sex16 => OpKind.Immediate8to16,
            OpCodeOperandKind.imm8sex32 => OpKind.Immediate8to32,
            OpCodeOperandKind.imm8sex64 => OpKind.Immediate8to64,
            OpCodeOperandKind.imm16 => OpKind.Immediate16,
            OpCodeOperandKind.imm32 => OpKind.Immediate32,
            OpCodeOperandKind.imm32sex64 => OpKind.Immediate32to64,
            _ => OpKind.Immediate64,
        };
        instruction.SetOpKind(i, opKind);
        switch (opKind)
        {
            case OpKind.Immediate8:
                instruction.Immediate8 = (byte)value;
                break;
            case OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64:
                instruction.SetImmediate(i, (long)(sbyte)value);
                break;
            case OpKind.Immediate16:
                instruction.Immediate16 = (ushort)value;
                break;
            case OpKind.Immediate32:
                instruction.Immediate32 = (uint)value;
                break;
            case OpKind.Immediate32to64:
                instruction.SetImmediate(i, (long)(int)value);
                break;
            default:
                instruction.Immediate64 = value;
                break;
        }
    }

    private sealed class NullWriter : CodeWriter
    {
        public override void WriteByte(byte value)
        {
        }
    }
}
