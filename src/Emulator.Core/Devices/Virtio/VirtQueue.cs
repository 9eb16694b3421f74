// One split virtqueue as a legacy (virtio 0.9.5) device sees it: QEMU 7.2 hw/virtio/virtio.c
// (virtio_queue_set_addr, virtio_queue_update_rings, virtqueue_num_heads, virtqueue_get_head,
// virtqueue_split_pop, virtqueue_read_next_desc, virtqueue_map_desc, virtqueue_push,
// virtio_should_notify); Virtio 1.0 spec §2.4 (split virtqueues) and §4.1.5.1 (legacy layout).
// Layout from the page the guest writes to QUEUE_PFN: num 16-byte descriptors {addr u64, len u32,
// flags u16 (NEXT 1, WRITE 2, INDIRECT 4), next u16}; the available ring {flags, idx, ring[num],
// used_event}; padding to the next 4 KiB; the used ring {flags, idx, ring[num] of {id u32, len
// u32}, avail_event}.
// Emulated: popping heads in order, chains walked with QEMU's bounds (at most num descriptors,
// every index below num, indirect tables of len/16 entries, device-readable descriptors before
// device-writable ones, no zero-length buffer), the used ring and QEMU's notification rule with
// and without VIRTIO_RING_F_EVENT_IDX. Every structure and buffer must be guest RAM; anything else
// a guest gets wrong is a VirtioGuestError, which the device turns into QEMU's virtio_error
// ("broken" until reset) instead of a host exception.
// The modern interface sets the size (1–1024) and the three ring addresses separately (SetRings).
// Not emulated: packed virtqueues (virtio 1.1; not offered).
using System.Buffers.Binary;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.Virtio;

/// <summary>A buffer of a descriptor chain: guest address and length.</summary>
public readonly record struct VirtBuffer(ulong Address, uint Length);

/// <summary>A popped chain: its head index, the device-readable buffers, then the device-writable ones.</summary>
public sealed record VirtQueueElement(ushort Head, IReadOnlyList<VirtBuffer> Out, IReadOnlyList<VirtBuffer> In);

/// <summary>A guest mistake in a queue or request (QEMU virtio_error): the device stops using its queues until reset.</summary>
public sealed class VirtioGuestError(string message) : Exception(message);

/// <summary>The split virtqueue at a guest-physical address, with the device's position in it.</summary>
public sealed class VirtQueue
{
    /// <summary>Legacy rings are 4 KiB aligned (VIRTIO_PCI_VRING_ALIGN); QUEUE_PFN counts 4 KiB pages.</summary>
    public const int LegacyAlign = 4096;
    public const ushort DescriptorNext = 1;
    public const ushort DescriptorWrite = 2;
    public const ushort DescriptorIndirect = 4;
    public const ushort AvailNoInterrupt = 1;
    private const int DescriptorSize = 16;

    /// <summary>QEMU's VIRTQUEUE_MAX_SIZE: the most buffers one element may have, and the largest queue.</summary>
    private const int MaxBuffers = 1024;

    private readonly PhysicalBus _memory;

    /// <summary>QEMU's vring.num_default: the size a reset gives back.</summary>
    private readonly ushort _defaultSize;

    public VirtQueue(PhysicalBus memory, ushort defaultSize)
    {
        _memory = memory;
        _defaultSize = defaultSize;
        Size = defaultSize;
    }

    /// <summary>The number of descriptors (QEMU's vring.num): num_default (256 for virtio-blk) unless the modern interface set a smaller one.</summary>
    public ushort Size { get; private set; }

    /// <summary>The descriptor table's address; 0 while the queue is not set up.</summary>
    public ulong Descriptors { get; private set; }

    /// <summary>The available ring's address.</summary>
    public ulong Avail { get; private set; }

    /// <summary>The used ring's address.</summary>
    public ulong Used { get; private set; }

    /// <summary>The next available-ring entry the device takes (QEMU last_avail_idx).</summary>
    public ushort LastAvailIndex { get; set; }

    /// <summary>The used ring's index the device has published (QEMU used_idx).</summary>
    public ushort UsedIndex { get; set; }

    /// <summary>The used index at the last interrupt, for VIRTIO_RING_F_EVENT_IDX (QEMU signalled_used; valid flag).</summary>
    public ushort SignalledUsed { get; set; }

    public bool SignalledUsedValid { get; set; }

    public bool IsSetUp => Descriptors != 0;

    /// <summary>
    /// QUEUE_PFN: the rings live at <paramref name="address"/> (virtio_queue_set_addr). Rings that
    /// are not in RAM are QEMU's "Cannot map desc/avail/used" (virtio_init_region_cache).
    /// </summary>
    public void SetAddress(ulong address)
    {
        ulong avail = address + ((ulong)Size * DescriptorSize);
        SetRings(address, avail, (avail + 4 + (2UL * Size) + 2 + (LegacyAlign - 1)) & ~(ulong)(LegacyAlign - 1));
    }

    /// <summary>The modern interface's QUEUE_ENABLE: the three parts wherever the driver put them (virtio_queue_set_rings).</summary>
    public void SetRings(ulong descriptors, ulong avail, ulong used)
    {
        (Descriptors, Avail, Used) = (descriptors, avail, used);
        if (descriptors == 0)
        {
            return;
        }

        RequireRam(Descriptors, (ulong)Size * DescriptorSize, "Cannot map desc");
        RequireRam(Avail, 6 + (2UL * Size), "Cannot map avail");
        RequireRam(Used, 6 + (8UL * Size), "Cannot map used");
    }

    /// <summary>virtio_queue_set_num: any size from 1 to VIRTQUEUE_MAX_SIZE for a queue that exists.</summary>
    public void SetSize(ushort num)
    {
        if (num != 0 && num <= MaxBuffers)
        {
            Size = num;
        }
    }

    /// <summary>virtio_reset's part for the queue (and __virtio_queue_reset): unset, its default size, positions back to 0.</summary>
    public void Reset()
    {
        Size = _defaultSize;
        Descriptors = 0;
        Avail = 0;
        Used = 0;
        LastAvailIndex = 0;
        UsedIndex = 0;
        SignalledUsed = 0;
        SignalledUsedValid = false;
    }

    /// <summary>virtqueue_pop: the next available chain, or null when the guest has offered none.</summary>
    public VirtQueueElement? Pop()
    {
        if (!IsSetUp)
        {
            return null;
        }

        ushort availIndex = ReadU16(Avail + 2);
        ushort pending = (ushort)(availIndex - LastAvailIndex);
        if (pending == 0)
        {
            return null;
        }

        if (pending > Size)
        {
            throw new VirtioGuestError($"Guest moved used index from {LastAvailIndex} to {availIndex}");
        }

        ushort head = ReadU16(Avail + 4 + (2UL * (ulong)(LastAvailIndex % Size)));
        if (head >= Size)
        {
            throw new VirtioGuestError($"Guest says index {head} is available");
        }

        LastAvailIndex++;
        return Walk(head);
    }

    /// <summary>virtqueue_push: publishes the element with <paramref name="written"/> bytes written into its buffers.</summary>
    public void Push(VirtQueueElement element, uint written)
    {
        ulong entry = Used + 4 + (8UL * (ulong)(UsedIndex % Size));
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, element.Head);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], written);
        _memory.WriteBlock(entry, bytes);
        UsedIndex++;
        WriteU16(Used + 2, UsedIndex);
    }

    /// <summary>
    /// virtio_should_notify: with NOTIFY_ON_EMPTY negotiated, always once the guest has offered
    /// nothing more; otherwise, without EVENT_IDX, unless the guest set avail.flags NO_INTERRUPT;
    /// with it, only when the used index passed the guest's used_event since the last interrupt
    /// (vring_need_event).
    /// </summary>
    public bool ShouldNotify(bool eventIndex, bool notifyOnEmpty)
    {
        if (notifyOnEmpty && !HasPending)
        {
            return true;
        }

        if (!eventIndex)
        {
            return (ReadU16(Avail) & AvailNoInterrupt) == 0;
        }

        bool valid = SignalledUsedValid;
        ushort old = SignalledUsed;
        SignalledUsed = UsedIndex;
        SignalledUsedValid = true;
        ushort usedEvent = ReadU16(Avail + 4 + (2UL * Size));
        return !valid || (ushort)(UsedIndex - usedEvent - 1) < (ushort)(UsedIndex - old);
    }

    /// <summary>virtio_queue_set_notification(vq, 1) with EVENT_IDX: avail_event = the avail index the device has seen.</summary>
    public void PublishAvailEvent() => WriteU16(Used + 4 + (8UL * Size), LastAvailIndex);

    /// <summary>Whether the guest has offered chains the device has not taken (virtio_queue_empty, negated).</summary>
    public bool HasPending => IsSetUp && ReadU16(Avail + 2) != LastAvailIndex;

    /// <summary>
    /// virtqueue_split_pop's walk from the head: direct descriptors within the table, or the
    /// indirect table the head names (only the head's INDIRECT flag counts, as in QEMU); never
    /// more descriptors than the table holds, so a loop ends as QEMU's "Looped descriptor".
    /// </summary>
    private VirtQueueElement Walk(ushort head)
    {
        var outs = new List<VirtBuffer>();
        var ins = new List<VirtBuffer>();
        ulong table = Descriptors;
        uint max = Size;
        uint index = head;
        var d = ReadDescriptor(table, index);
        if ((d.Flags & DescriptorIndirect) != 0)
        {
            if (d.Length == 0 || d.Length % DescriptorSize != 0)
            {
                throw new VirtioGuestError("Invalid size for indirect buffer table");
            }

            table = d.Address;
            max = d.Length / DescriptorSize;
            RequireRam(table, d.Length, "Cannot map indirect buffer");
            index = 0;
            d = ReadDescriptor(table, 0);
        }

        for (int seen = 0; ; seen++)
        {
            if (seen >= max)
            {
                throw new VirtioGuestError("Looped descriptor");
            }

            if (d.Length == 0)
            {
                throw new VirtioGuestError("virtio: zero sized buffers are not allowed");
            }

            RequireRam(d.Address, d.Length, "virtio: bogus descriptor or out of resources");
            if ((d.Flags & DescriptorWrite) != 0)
            {
                ins.Add(new VirtBuffer(d.Address, d.Length));
            }
            else if (ins.Count > 0)
            {
                throw new VirtioGuestError("Incorrect order for descriptors");
            }
            else
            {
                outs.Add(new VirtBuffer(d.Address, d.Length));
            }

            if (outs.Count + ins.Count > MaxBuffers)
            {
                throw new VirtioGuestError("virtio: too many descriptors in a chain");
            }

            if ((d.Flags & DescriptorNext) == 0)
            {
                return new VirtQueueElement(head, outs, ins);
            }

            index = d.Next;
            if (index >= max)
            {
                throw new VirtioGuestError($"Desc next is {index}");
            }

            d = ReadDescriptor(table, index);
        }
    }

    private (ulong Address, uint Length, ushort Flags, ushort Next) ReadDescriptor(ulong table, uint index)
    {
        Span<byte> raw = stackalloc byte[DescriptorSize];
        _memory.ReadBlock(table + (index * (ulong)DescriptorSize), raw);
        return (BinaryPrimitives.ReadUInt64LittleEndian(raw), BinaryPrimitives.ReadUInt32LittleEndian(raw[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(raw[12..]), BinaryPrimitives.ReadUInt16LittleEndian(raw[14..]));
    }

    private ushort ReadU16(ulong address) => (ushort)_memory.Read(address, 2);

    private void WriteU16(ulong address, ushort value) => _memory.Write(address, 2, value);

    /// <summary>Throws <paramref name="error"/> unless every byte of the range is guest RAM (QEMU's dma_memory_map / address_space_cache_init).</summary>
    private void RequireRam(ulong address, ulong length, string error)
    {
        ulong end = address + length;
        if (end < address)
        {
            throw new VirtioGuestError(error);
        }

        for (ulong a = address; a < end; a = (a | (PhysicalBus.PageSize - 1)) + 1)
        {
            if (_memory.Find(a).Kind != RegionKind.Ram)
            {
                throw new VirtioGuestError(error);
            }
        }
    }
}
