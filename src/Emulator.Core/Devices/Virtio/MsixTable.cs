// The MSI-X table and pending-bit array of a function that has an exclusive MSI-X BAR, as QEMU
// 7.2 builds it (hw/pci/msix.c msix_init_exclusive_bar, msix_table_mmio_write, msix_notify,
// msix_handle_mask_update; PCI Local Bus Specification 3.0 §6.8.2): a 4 KiB BAR with the table
// at 0 (16 bytes an entry: address low, address high, data, vector control with bit 0 masked)
// and the pending bits at 0x800. Every entry starts masked (msix_mask_all). A vector fires as a
// memory write of its data to its address unless the entry or the whole function is masked;
// then its pending bit is set, and unmasking delivers it.
// Firmware relies on: nothing (OVMF never enables MSI-X); Linux's virtio_pci does.
using System.Buffers.Binary;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.Virtio;

/// <summary>BAR1 of virtio-pci: the MSI-X table and PBA.</summary>
public sealed class MsixTable(string name, int entries, Action<ulong, uint> deliver) : IMmioDevice
{
    public const ulong BarSize = 4096;
    public const ulong PbaOffset = BarSize / 2;
    public const int EntrySize = 16;
    private const uint VectorMasked = 1;

    private readonly byte[] _table = NewTable(entries);
    private readonly byte[] _pending = new byte[8];

    public string Name { get; } = name;

    /// <summary>msix_table_mmio_ops: 4- and 8-byte accesses, handled as dwords.</summary>
    public AccessSizes Sizes => new(4, 8, 1, 4);

    public int Entries { get; } = entries;

    /// <summary>MSI-X enable and function mask as the capability's control word holds them (the function sets these).</summary>
    public bool Enabled { get; set; }

    public bool FunctionMasked { get; set; }

    public ulong Read(ulong offset, int size)
    {
        var source = offset < PbaOffset ? _table : _pending;
        ulong at = offset < PbaOffset ? offset : offset - PbaOffset;
        ulong value = 0;
        for (int i = 0; i < size && at + (ulong)i < (ulong)source.Length; i++)
        {
            value |= (ulong)source[at + (ulong)i] << (8 * i);
        }

        return value;
    }

    /// <summary>msix_table_mmio_write: the table takes writes; the PBA is read-only. Unmasking an entry with its bit pending delivers it.</summary>
    public void Write(ulong offset, int size, ulong value)
    {
        if (offset >= PbaOffset)
        {
            return;
        }

        for (int i = 0; i < size && offset + (ulong)i < (ulong)_table.Length; i++)
        {
            _table[offset + (ulong)i] = (byte)(value >> (8 * i));
        }

        DeliverUnmasked();
    }

    /// <summary>msix_notify: the vector's message, or its pending bit while masked; vectors beyond the table (VIRTIO_NO_VECTOR) do nothing.</summary>
    public void Notify(int vector)
    {
        if (!Enabled || vector < 0 || vector >= Entries)
        {
            return;
        }

        if (IsMasked(vector))
        {
            _pending[vector / 8] |= (byte)(1 << (vector % 8));
            return;
        }

        Send(vector);
    }

    /// <summary>msix_handle_mask_update for every vector: the control word changed.</summary>
    public void DeliverUnmasked()
    {
        for (int v = 0; v < Entries; v++)
        {
            if ((_pending[v / 8] & (1 << (v % 8))) != 0 && !IsMasked(v))
            {
                _pending[v / 8] &= (byte)~(1 << (v % 8));
                Send(v);
            }
        }
    }

    /// <summary>msix_reset: every entry masked, nothing pending.</summary>
    public void Reset()
    {
        NewTable(Entries).CopyTo(_table, 0);
        Array.Clear(_pending);
        Enabled = false;
        FunctionMasked = false;
    }

    public (byte[] Table, byte[] Pending) Save() => ([.. _table], [.. _pending]);

    public void Restore(byte[] table, byte[] pending)
    {
        if (table.Length != _table.Length || pending.Length != _pending.Length)
        {
            throw new ArgumentException($"{Name}: an MSI-X table of {Entries} entries is {_table.Length} bytes", nameof(table));
        }

        table.CopyTo(_table, 0);
        pending.CopyTo(_pending, 0);
    }

    private bool IsMasked(int vector) =>
        FunctionMasked || (BinaryPrimitives.ReadUInt32LittleEndian(_table.AsSpan((vector * EntrySize) + 12)) & VectorMasked) != 0;

    private void Send(int vector)
    {
        var entry = _table.AsSpan(vector * EntrySize);
        deliver(BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]));
    }

    private static byte[] NewTable(int entries)
    {
        var table = new byte[entries * EntrySize];
        for (int v = 0; v < entries; v++)
        {
            table[(v * EntrySize) + 12] = (byte)VectorMasked;
        }

        return table;
    }
}
