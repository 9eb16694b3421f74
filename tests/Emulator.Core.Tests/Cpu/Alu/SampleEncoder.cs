using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using CpuCore = Emulator.Core.Cpu.Cpu;

namespace Emulator.Core.Tests.Cpu.Alu;

/// <summary>
/// Builds a random instance of an Iced <see cref="Code"/>: registers from a pool that spares
/// RSP and RBP, memory as [RBP+disp8] into the sandbox's data page, random immediates; encodes it
/// with Iced's encoder and decodes it back to make sure it is that code.
/// </summary>
internal static class SampleEncoder
{
    /// <summary>RBP during a sample: the middle of a 512-byte random buffer at <see cref="AluSandbox.DataAt"/>.</summary>
    public const ulong MemoryBase = AluSandbox.DataAt + 0x100;

    private static readonly Register[] Gpr8In64 =
    [
        Register.AL, Register.CL, Register.DL, Register.BL, Register.AH, Register.CH, Register.DH, Register.BH,
        Register.SIL, Register.DIL, Register.R8L, Register.R9L, Register.R10L, Register.R11L, Register.R14L, Register.R15L,
    ];

    private static readonly Register[] Gpr8In32 =
    [
        Register.AL, Register.CL, Register.DL, Register.BL, Register.AH, Register.CH, Register.DH, Register.BH,
    ];

    private static readonly int[] GprIn64 = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 14, 15];
    private static readonly int[] GprIn32 = [0, 1, 2, 3, 6, 7];

    public static bool TryEncode(Code code, int bitness, Random rng, out Instruction decoded, out byte[] bytes, out string? why)
    {
        decoded = default;
        bytes = [];
        why = null;
        var info = code.ToOpCode();
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var insn = default(Instruction);
            insn.Code = code;
            bool ok = true;
            for (int i = 0; i < info.OpCount && ok; i++)
            {
                ok = SetOperand(ref insn, i, info.GetOpKind(i), bitness, rng, ref why);
            }

            if (!ok)
            {
                return false;
            }

            var writer = new CodeWriterImpl();
            var encoder = Encoder.Create(bitness, writer);
            if (!encoder.TryEncode(insn, AluSandbox.CodeAt, out _, out string? error))
            {
                why = error;
                continue;
            }

            bytes = writer.ToArray();
            var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(bytes));
            decoder.IP = AluSandbox.CodeAt;
            decoder.Decode(out decoded);
            if (decoded.Code == code && decoded.Length == bytes.Length)
            {
                why = null;
                return true;
            }

            why = $"decodes as {decoded.Code}";
        }

        return false;
    }

    private static bool SetOperand(ref Instruction insn, int i, OpCodeOperandKind kind, int bitness, Random rng, ref string? why)
    {
        string name = kind.ToString();
        if (name.EndsWith("_or_mem", StringComparison.Ordinal) && rng.Next(2) == 0 || kind == OpCodeOperandKind.mem)
        {
            insn.SetOpKind(i, OpKind.Memory);
            insn.MemoryBase = bitness == 64 ? Register.RBP : Register.EBP;
            insn.MemoryDisplacement64 = (ulong)(long)(16 * rng.Next(-2, 3));
            insn.MemoryDisplSize = 1;
            return true;
        }

        Register reg = kind switch
        {
            OpCodeOperandKind.al => Register.AL,
            OpCodeOperandKind.ax => Register.AX,
            OpCodeOperandKind.eax => Register.EAX,
            OpCodeOperandKind.rax => Register.RAX,
            OpCodeOperandKind.cl => Register.CL,
            OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode => Pick(bitness == 64 ? Gpr8In64 : Gpr8In32, rng),
            OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_opcode => Register.AX + PickNumber(bitness, rng),
            OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_opcode => Register.EAX + PickNumber(bitness, rng),
            OpCodeOperandKind.r64_or_mem or OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_opcode => Register.RAX + PickNumber(bitness, rng),
            _ => Register.None,
        };
        if (reg != Register.None)
        {
            insn.SetOpKind(i, OpKind.Register);
            insn.SetOpRegister(i, reg);
            return true;
        }

        (OpKind opKind, long value) = kind switch
        {
            OpCodeOperandKind.imm8_const_1 => (OpKind.Immediate8, 1L),
            OpCodeOperandKind.imm8 => (OpKind.Immediate8, InterestingImm8(rng)),
            OpCodeOperandKind.imm8sex16 => (OpKind.Immediate8to16, (long)(sbyte)rng.Next(256)),
            OpCodeOperandKind.imm8sex32 => (OpKind.Immediate8to32, (long)(sbyte)rng.Next(256)),
            OpCodeOperandKind.imm8sex64 => (OpKind.Immediate8to64, (long)(sbyte)rng.Next(256)),
            OpCodeOperandKind.imm16 => (OpKind.Immediate16, (long)(ushort)rng.Next(65536)),
            OpCodeOperandKind.imm32 => (OpKind.Immediate32, (long)(uint)rng.NextInt64()),
            OpCodeOperandKind.imm32sex64 => (OpKind.Immediate32to64, (long)(int)rng.NextInt64()),
            OpCodeOperandKind.imm64 => (OpKind.Immediate64, rng.NextInt64()),
            _ => (OpKind.Register, 0L),
        };
        if (opKind == OpKind.Register)
        {
            why = $"operand kind {kind} not handled";
            return false;
        }

        insn.SetOpKind(i, opKind);
        insn.SetImmediate(i, value);
        return true;
    }

    /// <summary>Shift counts and bit numbers: small values and the width edges are where the rules are.</summary>
    private static long InterestingImm8(Random rng) => rng.Next(4) switch
    {
        0 => rng.Next(256),
        1 => rng.Next(3),
        _ => new[] { 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 0x80, 0xFF }[rng.Next(14)],
    };

    private static T Pick<T>(T[] values, Random rng) => values[rng.Next(values.Length)];

    private static int PickNumber(int bitness, Random rng) => Pick(bitness == 64 ? GprIn64 : GprIn32, rng);

    /// <summary>A random register value, biased to the edges (0, all-ones, sign bits, small counts).</summary>
    public static ulong InterestingValue(Random rng) => rng.Next(8) switch
    {
        0 => 0,
        1 => ulong.MaxValue,
        2 => (ulong)rng.Next(70),
        3 => 1UL << rng.Next(64),
        4 => (1UL << rng.Next(64)) - 1,
        _ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 33),
    };

    /// <summary>Random register, memory and flag inputs that keep the sample inside the data page and off #DE where cheap.</summary>
    public static SampleInputs RandomInputs(Random rng, in Instruction insn)
    {
        var regs = new ulong[16];
        for (int r = 0; r < 16; r++)
        {
            regs[r] = InterestingValue(rng);
        }

        var mnemonic = insn.Mnemonic;
        if (mnemonic is Mnemonic.Div or Mnemonic.Idiv && rng.Next(4) != 0)
        {
            // A dividend that fits: no high half (sign-extension of the low half for IDIV).
            bool signed = mnemonic == Mnemonic.Idiv;
            if (insn.MemorySize.GetSize() == 1 || insn.Op0Register.GetSize() == 1)
            {
                regs[Gpr.Rax] = (regs[Gpr.Rax] & ~0xFF00UL) | (signed && (sbyte)regs[Gpr.Rax] < 0 ? 0xFF00UL : 0);
            }
            else
            {
                regs[Gpr.Rdx] = signed && (long)regs[Gpr.Rax] < 0 ? ulong.MaxValue : 0;
            }
        }

        if (mnemonic is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc
            && insn.Op0Kind == OpKind.Memory && insn.Op1Kind == OpKind.Register)
        {
            // Bit offsets within ±256 bits keep the accessed word inside the buffer.
            regs[insn.Op1Register.GetNumber()] = (ulong)(long)rng.Next(-256, 256);
        }

        regs[Gpr.Rbp] = MemoryBase;
        regs[Gpr.Rsp] = TestMachine.StackTop;
        var memory = new byte[0x200];
        rng.NextBytes(memory);
        if (mnemonic == Mnemonic.Cmpxchg && rng.Next(2) == 0)
        {
            // Half the samples compare equal, or the success path would hardly ever run.
            ulong dest = insn.Op0Kind == OpKind.Memory
                ? BitConverter.ToUInt64(memory, 0x100 + (int)(long)insn.MemoryDisplacement64)
                : RegisterValue(regs, insn.Op0Register);
            int size = insn.Op1Register.GetSize();
            ulong mask = size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
            regs[Gpr.Rax] = (regs[Gpr.Rax] & ~mask) | (dest & mask);
        }

        return new SampleInputs(regs, memory);
    }

    /// <summary>The value of a general register of any width (AH..BH included) in a 16-entry file.</summary>
    private static ulong RegisterValue(ulong[] regs, Register register)
    {
        ulong full = regs[register.GetFullRegister().GetNumber()];
        return register is >= Register.AH and <= Register.BH ? full >> 8 : full;
    }

    private sealed class CodeWriterImpl : CodeWriter
    {
        private readonly List<byte> _bytes = [];

        public override void WriteByte(byte value) => _bytes.Add(value);

        public byte[] ToArray() => [.. _bytes];
    }
}

/// <summary>Register values and the 512-byte data buffer (at RBP - 0x100) for one sample run.</summary>
internal sealed record SampleInputs(ulong[] Registers, byte[] Memory)
{
    public void Apply(CpuCore cpu)
    {
        for (int r = 0; r < 16; r++)
        {
            cpu._gpr[r] = cpu.Bitness == 64 ? Registers[r] : (uint)Registers[r];
        }

        cpu.Bus.WriteBlock(SampleEncoder.MemoryBase - 0x100, Memory);
    }
}
