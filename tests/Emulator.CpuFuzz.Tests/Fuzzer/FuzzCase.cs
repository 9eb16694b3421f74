using Iced.Intel;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// One instruction under test with the instructions that prepare it (a base register loaded with
/// a scratch address before a memory operand; RSI, RDI and RCX before a string instruction). The
/// shrinker drops whole items, so an operand never loses its preparation. A forward branch
/// (<see cref="SkipsNextItem"/>) jumps over the next item, to the one after it; a branch inside
/// an item (calls, loops: <see cref="SystemForms"/>) has its target in <see cref="LocalTargets"/>:
/// for each instruction, the index of the item's instruction it branches to, or -1.
/// </summary>
public sealed record FuzzItem(Instruction[] Instructions, bool SkipsNextItem = false, int[]? LocalTargets = null);

/// <summary>
/// A generated case: the mode, the registers, flags, XMM registers and MXCSR the prologue
/// loads, the seed of the scratch and stack pages' initial bytes, and the items. The same seed
/// always gives the same case (<see cref="CaseGenerator"/>).
/// </summary>
public sealed record FuzzCase(FuzzMode Mode, ulong[] Gprs, ulong Flags, UInt128[] Xmm, uint Mxcsr, int MemorySeed, IReadOnlyList<FuzzItem> Items)
{
    /// <summary>The initial x87 state the prologue loads (null: FPU left at reset, as before x87 cases existed).</summary>
    public X87Setup? X87 { get; init; }

    /// <summary>The scratch page's and the stack page's initial bytes, in that order.</summary>
    public byte[] InitialMemory()
    {
        var bytes = new byte[2 * FuzzLayout.PageSize];
        new Random(MemorySeed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A copy with other items (the shrinker's step).</summary>
    public FuzzCase WithItems(IReadOnlyList<FuzzItem> items) => this with { Items = items };

    /// <summary>
    /// The sequence's bytes at <see cref="FuzzModes.SequenceIp"/>, ending with HLT. Branch
    /// targets are resolved by Iced's BlockEncoder, which reads every instruction's IP as its
    /// label: each instruction gets a distinct label, each forward branch the label of the first
    /// instruction two items on (or of the final HLT).
    /// </summary>
    public EncodedSequence Encode()
    {
        var instructions = new List<Instruction>();
        var itemLabels = new ulong[Items.Count + 1];
        ulong label = 1;
        for (int i = 0; i < Items.Count; i++)
        {
            itemLabels[i] = label;
            label += (ulong)Items[i].Instructions.Length;
        }

        itemLabels[Items.Count] = label;
        label = 1;
        for (int i = 0; i < Items.Count; i++)
        {
            for (int j = 0; j < Items[i].Instructions.Length; j++)
            {
                var instruction = Items[i].Instructions[j];
                instruction.IP = label++;
                if (Items[i].SkipsNextItem && IsForwardBranch(instruction))
                {
                    instruction.NearBranch64 = itemLabels[Math.Min(i + 2, Items.Count)];
                }
                else if (Items[i].LocalTargets is { } targets && targets[j] >= 0)
                {
                    instruction.NearBranch64 = itemLabels[i] + (ulong)targets[j];
                }

                instructions.Add(instruction);
            }
        }

        var hlt = Instruction.Create(Code.Hlt);
        hlt.IP = label;
        instructions.Add(hlt);
        var writer = new CodeWriterImpl();
        var block = new InstructionBlock(writer, instructions, Mode.SequenceIp());
        if (!BlockEncoder.TryEncode(Mode.Bitness(), block, out string? error, out _))
        {
            throw new InvalidOperationException($"cannot encode the sequence: {error}");
        }

        byte[] bytes = writer.ToArray();
        if (bytes.Length > FuzzLayout.SequenceCapacity)
        {
            throw new InvalidOperationException($"the sequence is {bytes.Length} bytes, more than the {FuzzLayout.SequenceCapacity} the image holds");
        }

        return EncodedSequence.Decode(bytes, Mode);
    }

    private static bool IsForwardBranch(in Instruction instruction) =>
        instruction.IsJccShortOrNear || instruction.IsJmpShortOrNear || instruction.IsLoopcc || instruction.IsLoop || instruction.IsJcxShort;

    private sealed class CodeWriterImpl : CodeWriter
    {
        private readonly List<byte> _bytes = [];

        public override void WriteByte(byte value) => _bytes.Add(value);

        public byte[] ToArray() => [.. _bytes];
    }
}

/// <summary>
/// The encoded sequence, the address of each instruction (the last is the final HLT) and the
/// addresses of the instructions that write memory (after them the pages are compared).
/// </summary>
public sealed record EncodedSequence(FuzzMode Mode, byte[] Bytes, ulong[] Addresses, IReadOnlySet<ulong> MemoryWriters)
{
    public ulong HltAddress => Addresses[^1];

    /// <summary>The exception vector whose handler <paramref name="rip"/> is at, or -1.</summary>
    public int VectorAt(ulong rip) => rip - Mode.HandlerIp() < FuzzLayout.Vectors ? (int)(rip - Mode.HandlerIp()) : -1;

    /// <summary>Decodes a sequence at <see cref="FuzzModes.SequenceIp"/> (generated or read from a regression file); addresses are RIP values.</summary>
    public static EncodedSequence Decode(byte[] bytes, FuzzMode mode)
    {
        var decoder = Decoder.Create(mode.Bitness(), new ByteArrayCodeReader(bytes));
        decoder.IP = mode.SequenceIp();
        var addresses = new List<ulong>();
        var writers = new HashSet<ulong>();
        var infos = new InstructionInfoFactory();
        while (decoder.IP < mode.SequenceIp() + (ulong)bytes.Length)
        {
            var instruction = decoder.Decode();
            addresses.Add(instruction.IP);
            if (infos.GetInfo(instruction).GetUsedMemory().Any(m => m.Access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite))
            {
                writers.Add(instruction.IP);
            }
        }

        return new EncodedSequence(mode, bytes, [.. addresses], writers);
    }

    /// <summary>The mnemonic of the instruction at <paramref name="address"/> (an address of <see cref="Addresses"/>).</summary>
    public Mnemonic MnemonicAt(ulong address)
    {
        int offset = (int)(address - Mode.SequenceIp());
        var decoder = Decoder.Create(Mode.Bitness(), new ByteArrayCodeReader(Bytes, offset, Bytes.Length - offset));
        return decoder.Decode().Mnemonic;
    }

    /// <summary>Iced's disassembly of the instruction at <paramref name="address"/> (for reports).</summary>
    public string Disassemble(ulong address, FuzzMode mode)
    {
        ulong offset = address - mode.SequenceIp();
        if (offset >= (ulong)Bytes.Length)
        {
            return $"(outside the sequence: {address:x})";
        }

        var decoder = Decoder.Create(mode.Bitness(), new ByteArrayCodeReader(Bytes, (int)offset, Bytes.Length - (int)offset));
        decoder.IP = address;
        var instruction = decoder.Decode();
        var output = new StringOutput();
        new NasmFormatter().Format(instruction, output);
        string hex = Convert.ToHexString(Bytes, (int)offset, instruction.Length).ToLowerInvariant();
        return $"{address:x}: {hex,-30} {output.ToStringAndReset()}";
    }
}
