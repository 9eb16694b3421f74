using System.Text;

namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// An encoder for the part of ACPI Machine Language a platform DSDT needs (ACPI 6.4 §20.2, "AML
/// Grammar Definition"). Every method returns the encoded bytes of one term, so a table reads as
/// nested calls in the shape of its ASL: <c>Scope("\\_SB", Device("PCI0", Name("_HID", EisaId("PNP0A03"))))</c>.
/// Only what the generator uses is here: name strings, data objects (integers, strings,
/// buffers, packages), the named objects Scope, Device, Processor, Name, Method,
/// OperationRegion, Field and CreateDWordField, and the few statements and operators a method
/// body needs.
/// </summary>
public static class Aml
{
    // Opcodes (ACPI 6.4 §20.3 "AML Byte Stream Byte Values").
    private const byte ZeroOp = 0x00;
    private const byte OneOp = 0x01;
    private const byte NameOp = 0x08;
    private const byte BytePrefix = 0x0A;
    private const byte WordPrefix = 0x0B;
    private const byte DWordPrefix = 0x0C;
    private const byte StringPrefix = 0x0D;
    private const byte QWordPrefix = 0x0E;
    private const byte ScopeOp = 0x10;
    private const byte BufferOp = 0x11;
    private const byte PackageOp = 0x12;
    private const byte MethodOp = 0x14;
    private const byte DualNamePrefix = 0x2E;
    private const byte MultiNamePrefix = 0x2F;
    private const byte ExtOpPrefix = 0x5B;
    private const byte RootChar = 0x5C;
    private const byte ParentPrefixChar = 0x5E;
    private const byte Local0Op = 0x60;
    private const byte Arg0Op = 0x68;
    private const byte StoreOp = 0x70;
    private const byte SubtractOp = 0x74;
    private const byte IncrementOp = 0x75;
    private const byte AndOp = 0x7B;
    private const byte OrOp = 0x7D;
    private const byte CreateDWordFieldOp = 0x8A;
    private const byte LEqualOp = 0x93;
    private const byte IfOp = 0xA0;
    private const byte ElseOp = 0xA1;
    private const byte DerefOfOp = 0x83;
    private const byte SizeOfOp = 0x87;
    private const byte IndexOp = 0x88;
    private const byte LLessOp = 0x95;
    private const byte ToBufferOp = 0x96;
    private const byte ToHexStringOp = 0x98;
    private const byte WhileOp = 0xA2;
    private const byte ReturnOp = 0xA4;
    private const byte OnesOp = 0xFF;
    private const byte OpRegionOp = 0x80;
    private const byte FieldOp = 0x81;
    private const byte DeviceOp = 0x82;
    private const byte ProcessorOp = 0x83;

    /// <summary>NameSeg length: four characters, short names padded with '_' (§20.2.2).</summary>
    public const int NameSegLength = 4;

    /// <summary>Region spaces of OperationRegion (§19.6.100).</summary>
    public const byte SystemMemory = 0x00;
    public const byte SystemIo = 0x01;
    public const byte PciConfig = 0x02;

    /// <summary>Field flags: AccessType in bits 0–3, LockRule bit 4, UpdateRule bits 5–6 (§19.6.48).</summary>
    public const byte ByteAcc = 0x01;
    public const byte DWordAcc = 0x03;
    public const byte Preserve = 0x00;

    /// <summary>
    /// A NameString (§20.2.2): an optional root '\' or parent '^' prefixes, then one segment, two
    /// behind DualNamePrefix, more behind MultiNamePrefix and a count; "" is the NullName.
    /// </summary>
    public static byte[] NameString(string path)
    {
        var bytes = new List<byte>();
        int i = 0;
        while (i < path.Length && (path[i] == '\\' || path[i] == '^'))
        {
            bytes.Add(path[i] == '\\' ? RootChar : ParentPrefixChar);
            i++;
        }

        var segments = path[i..].Length == 0 ? [] : path[i..].Split('.');
        if (segments.Length == 0)
        {
            bytes.Add(ZeroOp);
        }
        else if (segments.Length == 2)
        {
            bytes.Add(DualNamePrefix);
        }
        else if (segments.Length > 2)
        {
            bytes.Add(MultiNamePrefix);
            bytes.Add(checked((byte)segments.Length));
        }

        foreach (var segment in segments)
        {
            bytes.AddRange(NameSeg(segment));
        }

        return [.. bytes];
    }

    /// <summary>One NameSeg: a lead character A–Z or '_', then A–Z, 0–9 or '_', padded to four with '_'.</summary>
    public static byte[] NameSeg(string segment)
    {
        bool valid = segment.Length is > 0 and <= NameSegLength
            && (char.IsAsciiLetterUpper(segment[0]) || segment[0] == '_')
            && segment.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_');
        if (!valid)
        {
            throw new ArgumentException($"'{segment}' is not an AML name segment", nameof(segment));
        }

        return Encoding.ASCII.GetBytes(segment.PadRight(NameSegLength, '_'));
    }

    /// <summary>
    /// PkgLength (§20.2.4) for a body of <paramref name="bodyLength"/> bytes. The encoded length
    /// counts the PkgLength bytes themselves: one byte holds up to 63, else the lead byte's bits
    /// 6–7 give the number of following bytes (1–3) and its bits 0–3 the low nibble.
    /// </summary>
    public static byte[] PkgLength(int bodyLength)
    {
        for (int count = 1; count <= 4; count++)
        {
            if (FitsLength(bodyLength + count, count))
            {
                return EncodeLength(bodyLength + count, count);
            }
        }

        throw new ArgumentOutOfRangeException(nameof(bodyLength), bodyLength, "too long for a PkgLength");
    }

    /// <summary>An integer in the shortest form: Zero, One, Ones, or a Byte/Word/DWord/QWord constant.</summary>
    public static byte[] Integer(ulong value) => value switch
    {
        0 => [ZeroOp],
        1 => [OneOp],
        ulong.MaxValue => [OnesOp],
        <= byte.MaxValue => [BytePrefix, (byte)value],
        <= ushort.MaxValue => [WordPrefix, .. BitConverter.GetBytes((ushort)value)],
        <= uint.MaxValue => [DWordPrefix, .. BitConverter.GetBytes((uint)value)],
        _ => [QWordPrefix, .. BitConverter.GetBytes(value)],
    };

    /// <summary>A NUL-terminated ASCII string constant.</summary>
    public static byte[] String(string value) => [StringPrefix, .. Encoding.ASCII.GetBytes(value), 0];

    /// <summary>
    /// A compressed EISA ID (ACPI 6.4 §19.3.4 EISAID): three letters in five bits each, then four
    /// hex digits, stored as the big-endian bytes of that 32-bit value.
    /// </summary>
    public static byte[] EisaId(string id)
    {
        if (id.Length != 7 || !id[..3].All(char.IsAsciiLetterUpper) || !id[3..].All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"'{id}' is not an EISA ID (three capital letters, four hex digits)", nameof(id));
        }

        int vendor = ((id[0] - '@') << 10) | ((id[1] - '@') << 5) | (id[2] - '@');
        int product = Convert.ToInt32(id[3..], 16);
        uint value = (uint)(vendor >> 8) | (uint)((vendor & 0xFF) << 8) | (uint)((product >> 8) << 16) | (uint)((product & 0xFF) << 24);
        return Integer(value);
    }

    /// <summary>A Buffer object holding <paramref name="contents"/> (the size is their length).</summary>
    public static byte[] Buffer(byte[] contents) => WithPkgLength([BufferOp], [.. Integer((ulong)contents.Length), .. contents]);

    /// <summary>A Package of the given data objects.</summary>
    public static byte[] Package(params byte[][] elements) =>
        WithPkgLength([PackageOp], [checked((byte)elements.Length), .. Concat(elements)]);

    /// <summary>Name(name, object).</summary>
    public static byte[] Name(string name, byte[] value) => [NameOp, .. NameString(name), .. value];

    /// <summary>Scope(name) { terms }.</summary>
    public static byte[] Scope(string name, params byte[][] terms) => WithPkgLength([ScopeOp], [.. NameString(name), .. Concat(terms)]);

    /// <summary>Device(name) { terms }.</summary>
    public static byte[] Device(string name, params byte[][] terms) =>
        WithPkgLength([ExtOpPrefix, DeviceOp], [.. NameString(name), .. Concat(terms)]);

    /// <summary>Processor(name, id, P_BLK address, P_BLK length) { terms } — the ACPI 1.0 processor object QEMU's pc DSDT uses.</summary>
    public static byte[] Processor(string name, byte id, uint pblkAddress, byte pblkLength, params byte[][] terms) =>
        WithPkgLength([ExtOpPrefix, ProcessorOp], [.. NameString(name), id, .. BitConverter.GetBytes(pblkAddress), pblkLength, .. Concat(terms)]);

    /// <summary>Method(name, argument count, Serialized or NotSerialized) { body }; sync level 0.</summary>
    public static byte[] Method(string name, int argCount, bool serialized, params byte[][] body)
    {
        if (argCount is < 0 or > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(argCount), argCount, "a method takes 0–7 arguments");
        }

        byte flags = (byte)(argCount | (serialized ? 0x08 : 0));
        return WithPkgLength([MethodOp], [.. NameString(name), flags, .. Concat(body)]);
    }

    /// <summary>OperationRegion(name, space, offset, length).</summary>
    public static byte[] OperationRegion(string name, byte space, ulong offset, ulong length) =>
        [ExtOpPrefix, OpRegionOp, .. NameString(name), space, .. Integer(offset), .. Integer(length)];

    /// <summary>
    /// Field(region, flags) { name, bits; ... }: named fields packed from bit 0 in order; an empty
    /// name is a ReservedField that skips the bits (ASL's Offset()).
    /// </summary>
    public static byte[] Field(string region, byte flags, params (string Name, int Bits)[] fields)
    {
        var list = new List<byte>();
        foreach (var (name, bits) in fields)
        {
            // A FieldElement's PkgLength encodes the bit width itself (§20.2.5.2 NamedField,
            // ReservedField 0x00), not a byte count that includes its own encoding.
            list.AddRange(name.Length == 0 ? [ZeroOp] : NameSeg(name));
            int count = Enumerable.Range(1, 4).First(c => FitsLength(bits, c));
            list.AddRange(EncodeLength(bits, count));
        }

        return WithPkgLength([ExtOpPrefix, FieldOp], [.. NameString(region), flags, .. list]);
    }

    /// <summary>CreateDWordField(source, byteIndex, name).</summary>
    public static byte[] CreateDWordField(byte[] source, byte[] byteIndex, string name) =>
        [CreateDWordFieldOp, .. source, .. byteIndex, .. NameString(name)];

    /// <summary>A method invocation: the method's name, then its arguments.</summary>
    public static byte[] Call(string method, params byte[][] args) => [.. NameString(method), .. Concat(args)];

    /// <summary>If(predicate) { body }.</summary>
    public static byte[] If(byte[] predicate, params byte[][] body) => WithPkgLength([IfOp], [.. predicate, .. Concat(body)]);

    /// <summary>Else { body }, directly after an If.</summary>
    public static byte[] Else(params byte[][] body) => WithPkgLength([ElseOp], Concat(body));

    /// <summary>LEqual(a, b).</summary>
    public static byte[] LEqual(byte[] a, byte[] b) => [LEqualOp, .. a, .. b];

    /// <summary>And(a, b, target); the NullName target (<c>NameString("")</c>) keeps only the result.</summary>
    public static byte[] And(byte[] a, byte[] b, byte[] target) => [AndOp, .. a, .. b, .. target];

    /// <summary>Or(a, b, target).</summary>
    public static byte[] Or(byte[] a, byte[] b, byte[] target) => [OrOp, .. a, .. b, .. target];

    /// <summary>Return(value).</summary>
    public static byte[] Return(byte[] value) => [ReturnOp, .. value];

    /// <summary>LocalN (0–7).</summary>
    public static byte[] Local(int n) => n is >= 0 and <= 7 ? [(byte)(Local0Op + n)] : throw new ArgumentOutOfRangeException(nameof(n));

    /// <summary>ArgN (0–6).</summary>
    public static byte[] Arg(int n) => n is >= 0 and <= 6 ? [(byte)(Arg0Op + n)] : throw new ArgumentOutOfRangeException(nameof(n));

    /// <summary>Store(source, target).</summary>
    public static byte[] Store(byte[] source, byte[] target) => [StoreOp, .. source, .. target];

    /// <summary>Subtract(a, b) into <paramref name="target"/> (NullName: none).</summary>
    public static byte[] Subtract(byte[] a, byte[] b, byte[] target) => [SubtractOp, .. a, .. b, .. target];

    /// <summary>Increment(target).</summary>
    public static byte[] Increment(byte[] target) => [IncrementOp, .. target];

    /// <summary>SizeOf(object).</summary>
    public static byte[] SizeOf(byte[] value) => [SizeOfOp, .. value];

    /// <summary>DerefOf(reference).</summary>
    public static byte[] DerefOf(byte[] reference) => [DerefOfOp, .. reference];

    /// <summary>Index(source, index) without a target.</summary>
    public static byte[] Index(byte[] source, byte[] index) => [IndexOp, .. source, .. index, ZeroOp];

    /// <summary>LLess(a, b).</summary>
    public static byte[] LLess(byte[] a, byte[] b) => [LLessOp, .. a, .. b];

    /// <summary>ToHexString(value, target).</summary>
    public static byte[] ToHexString(byte[] value, byte[] target) => [ToHexStringOp, .. value, .. target];

    /// <summary>ToBuffer(value, target).</summary>
    public static byte[] ToBuffer(byte[] value, byte[] target) => [ToBufferOp, .. value, .. target];

    /// <summary>While(predicate) { body }.</summary>
    public static byte[] While(byte[] predicate, params byte[][] body) => WithPkgLength([WhileOp], [.. predicate, .. Concat(body)]);

    /// <summary>Concatenates encoded terms.</summary>
    public static byte[] Concat(params byte[][] terms)
    {
        var result = new byte[terms.Sum(t => t.Length)];
        int offset = 0;
        foreach (var term in terms)
        {
            term.CopyTo(result, offset);
            offset += term.Length;
        }

        return result;
    }

    /// <summary>Whether <paramref name="value"/> fits a PkgLength encoding of <paramref name="count"/> bytes (6, 12, 20 or 28 bits).</summary>
    private static bool FitsLength(int value, int count) => count == 1 ? value <= 0x3F : value < (1 << (4 + (8 * (count - 1))));

    private static byte[] EncodeLength(int value, int count)
    {
        if (count == 1)
        {
            return [(byte)value];
        }

        var encoded = new byte[count];
        encoded[0] = (byte)(((count - 1) << 6) | (value & 0x0F));
        for (int b = 1; b < count; b++)
        {
            encoded[b] = (byte)(value >> (4 + (8 * (b - 1))));
        }

        return encoded;
    }

    private static byte[] WithPkgLength(byte[] opcode, byte[] body) => [.. opcode, .. PkgLength(body.Length), .. body];
}
