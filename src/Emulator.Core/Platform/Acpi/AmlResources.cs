using System.Buffers.Binary;

namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// Resource descriptors for _CRS buffers (ACPI 6.4 §6.4 "Resource Data Types for ACPI"): the
/// small IO, IRQ and End Tag items and the large address-space items (Word/DWord/QWord) and
/// Memory32Fixed. <see cref="Template"/> wraps descriptors and the End Tag into a Buffer, as
/// ASL's ResourceTemplate() does.
/// </summary>
public static class AmlResources
{
    // Small items: tag byte = (item name << 3) | length (§6.4.2).
    private const byte IrqNoFlagsTag = 0x22;
    private const byte IoTag = 0x47;
    private const byte EndTag = 0x79;

    // Large items: tag byte 0x80 | item name, then a 16-bit length (§6.4.3).
    private const byte Memory32FixedTag = 0x86;
    private const byte DWordAddressTag = 0x87;
    private const byte WordAddressTag = 0x88;
    private const byte QWordAddressTag = 0x8A;
    private const byte ExtendedInterruptTag = 0x89;

    /// <summary>Extended interrupt flags (§6.4.3.6): consumer (bit 0), level-triggered (bit 1 clear), active high (bit 2 clear), shared (bit 3).</summary>
    private const byte InterruptConsumerLevelHighShared = 0x09;

    // Address space descriptors (§6.4.3.5): resource type, general flags, type-specific flags.
    private const byte MemoryRange = 0;
    private const byte IoRange = 1;
    private const byte BusNumberRange = 2;

    /// <summary>General flags of a bridge window: producer (bit 0 clear), positive decode, MinFixed (bit 2) and MaxFixed (bit 3).</summary>
    private const byte ProducerFixedWindow = 0x0C;

    /// <summary>IO type-specific flags: EntireRange (ISA and non-ISA ranges, bits 0–1 = 3).</summary>
    private const byte IoEntireRange = 0x03;

    /// <summary>Memory type-specific flags: read-write (bit 0), cacheability in bits 1–2 (1 = cacheable).</summary>
    public const byte MemoryReadWrite = 0x01;
    public const byte MemoryCacheable = 0x02;

    /// <summary>ResourceTemplate() { descriptors }: a Buffer ending in an End Tag with checksum 0 ("treat as summed to zero").</summary>
    public static byte[] Template(params byte[][] descriptors) => Aml.Buffer([.. Aml.Concat(descriptors), EndTag, 0]);

    /// <summary>IO(Decode16, min, max, alignment, length): the 16-bit decode flag set (§6.4.2.5).</summary>
    public static byte[] Io(ushort minimum, ushort maximum, byte alignment, byte length)
    {
        var d = new byte[8];
        d[0] = IoTag;
        d[1] = 0x01;
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(2), minimum);
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(4), maximum);
        d[6] = alignment;
        d[7] = length;
        return d;
    }

    /// <summary>Interrupt(ResourceConsumer, Level, ActiveHigh, Shared) { interrupts }: the extended interrupt descriptor (§6.4.3.6), as PCI interrupt links use.</summary>
    public static byte[] Interrupt(params uint[] interrupts)
    {
        var d = new byte[5 + (4 * interrupts.Length)];
        d[0] = ExtendedInterruptTag;
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(1), (ushort)(d.Length - 3));
        d[3] = InterruptConsumerLevelHighShared;
        d[4] = checked((byte)interrupts.Length);
        for (int i = 0; i < interrupts.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(5 + (4 * i)), interrupts[i]);
        }

        return d;
    }

    /// <summary>IRQNoFlags() { irqs }: a 16-bit mask, edge-triggered active-high implied (§6.4.2.1).</summary>
    public static byte[] IrqNoFlags(params int[] irqs)
    {
        ushort mask = 0;
        foreach (int irq in irqs)
        {
            mask |= (ushort)(1 << irq);
        }

        return [IrqNoFlagsTag, (byte)mask, (byte)(mask >> 8)];
    }

    /// <summary>Memory32Fixed(ReadWrite or ReadOnly, base, length) (§6.4.3.4).</summary>
    public static byte[] Memory32Fixed(bool readWrite, uint baseAddress, uint length)
    {
        var d = new byte[12];
        d[0] = Memory32FixedTag;
        d[1] = 9;
        d[3] = readWrite ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4), baseAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(8), length);
        return d;
    }

    /// <summary>WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, length).</summary>
    public static byte[] WordBusNumber(ushort minimum, ushort maximum) =>
        WordAddress(BusNumberRange, 0, minimum, maximum);

    /// <summary>WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, length).</summary>
    public static byte[] WordIo(ushort minimum, ushort maximum) =>
        WordAddress(IoRange, IoEntireRange, minimum, maximum);

    /// <summary>DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, cacheability, ReadWrite, 0, min, max, 0, length).</summary>
    public static byte[] DWordMemory(byte typeFlags, uint minimum, uint maximum)
    {
        var d = AddressHeader(DWordAddressTag, 23, MemoryRange, typeFlags);
        var fields = d.AsSpan(6);
        BinaryPrimitives.WriteUInt32LittleEndian(fields[4..], minimum);
        BinaryPrimitives.WriteUInt32LittleEndian(fields[8..], maximum);
        BinaryPrimitives.WriteUInt32LittleEndian(fields[16..], maximum - minimum + 1);
        return d;
    }

    /// <summary>QWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, cacheability, ReadWrite, 0, min, max, 0, length).</summary>
    public static byte[] QWordMemory(byte typeFlags, ulong minimum, ulong maximum)
    {
        var d = AddressHeader(QWordAddressTag, 43, MemoryRange, typeFlags);
        var fields = d.AsSpan(6);
        BinaryPrimitives.WriteUInt64LittleEndian(fields[8..], minimum);
        BinaryPrimitives.WriteUInt64LittleEndian(fields[16..], maximum);
        BinaryPrimitives.WriteUInt64LittleEndian(fields[32..], maximum - minimum + 1);
        return d;
    }

    private static byte[] WordAddress(byte resourceType, byte typeFlags, ushort minimum, ushort maximum)
    {
        var d = AddressHeader(WordAddressTag, 13, resourceType, typeFlags);
        var fields = d.AsSpan(6);
        BinaryPrimitives.WriteUInt16LittleEndian(fields[2..], minimum);
        BinaryPrimitives.WriteUInt16LittleEndian(fields[4..], maximum);
        BinaryPrimitives.WriteUInt16LittleEndian(fields[8..], (ushort)(maximum - minimum + 1));
        return d;
    }

    /// <summary>
    /// Tag, 16-bit length, resource type, general flags, type-specific flags; the granularity,
    /// minimum, maximum, translation and length fields follow (all left 0 here).
    /// </summary>
    private static byte[] AddressHeader(byte tag, int length, byte resourceType, byte typeFlags)
    {
        var d = new byte[3 + length];
        d[0] = tag;
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(1), (ushort)length);
        d[3] = resourceType;
        d[4] = ProducerFixedWindow;
        d[5] = typeFlags;
        return d;
    }
}
