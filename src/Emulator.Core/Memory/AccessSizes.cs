namespace Emulator.Core.Memory;

/// <summary>
/// The access sizes a device region declares, as QEMU's MemoryRegionOps do
/// (include/exec/memory.h; enforced in softmmu/memory.c): <see cref="ValidMin"/>–<see cref="ValidMax"/>
/// is what the device accepts at all — memory_region_access_valid refuses anything else, and a
/// refused read returns 0 (unassigned_mem_read) while a refused write is dropped —, and
/// <see cref="ImplMin"/>–<see cref="ImplMax"/> is what its handlers implement:
/// access_with_adjusted_size turns an accepted access into MAX(MIN(size, ImplMax), ImplMin)-byte
/// accesses at rising offsets, little-endian, masking each piece to its width. The buses take the
/// declaration from the device when it is mapped or registered. Unaligned accesses are passed on
/// as they come (QEMU's valid.unaligned and cputlb's splitting of misaligned I/O are not modelled).
/// </summary>
public readonly record struct AccessSizes(int ValidMin, int ValidMax, int ImplMin, int ImplMax)
{
    /// <summary>The device takes every size from 1 to 8 bytes itself: no refusal, no splitting.</summary>
    public static readonly AccessSizes Unrestricted = new(1, 8, 1, 8);

    /// <summary>QEMU's defaults for ops that declare nothing: every size accepted, handlers of 1–4 bytes (wider accesses split).</summary>
    public static readonly AccessSizes QemuDefault = new(1, 8, 1, 4);

    /// <summary>Sizes that reach the device unchanged, as a mask of the sizes themselves (1 | 2 | 4 | 8).</summary>
    public int DirectSizes
    {
        get
        {
            int mask = 0;
            for (int size = 1; size <= sizeof(ulong); size <<= 1)
            {
                if (Accepts(size) && size >= ImplMin && size <= ImplMax)
                {
                    mask |= size;
                }
            }

            return mask;
        }
    }

    /// <summary>QEMU memory_region_access_valid's size test.</summary>
    public bool Accepts(int size) => size >= ValidMin && size <= ValidMax;

    /// <summary>memory_region_dispatch_read: refused → 0, else the adjusted accesses combined.</summary>
    internal ulong Read<T>(T target, ulong offset, int size)
        where T : IAccessTarget
    {
        if (!Accepts(size))
        {
            return 0;
        }

        int piece = Math.Max(Math.Min(size, ImplMax), ImplMin);
        ulong mask = PhysicalBus.SizeMask(piece);
        ulong value = 0;
        for (int i = 0; i < size; i += piece)
        {
            value |= (target.Read(offset + (ulong)i, piece) & mask) << (8 * i);
        }

        return value & PhysicalBus.SizeMask(size);
    }

    /// <summary>memory_region_dispatch_write: refused → dropped, else the value in adjusted pieces.</summary>
    internal void Write<T>(T target, ulong offset, int size, ulong value)
        where T : IAccessTarget
    {
        if (!Accepts(size))
        {
            return;
        }

        int piece = Math.Max(Math.Min(size, ImplMax), ImplMin);
        ulong mask = PhysicalBus.SizeMask(piece);
        for (int i = 0; i < size; i += piece)
        {
            target.Write(offset + (ulong)i, piece, (value >> (8 * i)) & mask);
        }
    }
}

/// <summary>What <see cref="AccessSizes"/> dispatches to: an MMIO device or a port device, behind one shape.</summary>
internal interface IAccessTarget
{
    ulong Read(ulong offset, int size);

    void Write(ulong offset, int size, ulong value);
}

/// <summary>An MMIO device as an <see cref="IAccessTarget"/>.</summary>
internal readonly struct MmioTarget(IMmioDevice device) : IAccessTarget
{
    public ulong Read(ulong offset, int size) => device.Read(offset, size);

    public void Write(ulong offset, int size, ulong value) => device.Write(offset, size, value);
}
