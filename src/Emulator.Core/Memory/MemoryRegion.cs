namespace Emulator.Core.Memory;

/// <summary>
/// One mapped range of physical address space. RAM, ROM and ROM devices are backed by host
/// memory at <see cref="Host"/>; MMIO regions and ROM devices in command mode route accesses to
/// <see cref="Device"/>.
/// </summary>
public sealed unsafe class MemoryRegion
{
    internal MemoryRegion(string name, RegionKind kind, ulong start, ulong size, byte* host, IMmioDevice? device)
    {
        Name = name;
        Kind = kind;
        Start = start;
        Size = size;
        Host = host;
        Device = device;
        ReadsDirect = kind is RegionKind.Ram or RegionKind.Rom or RegionKind.RomDevice;
        Sizes = device?.Sizes ?? AccessSizes.Unrestricted;
        DirectSizes = Sizes.DirectSizes;
    }

    public string Name { get; }

    public RegionKind Kind { get; }

    public ulong Start { get; }

    public ulong Size { get; }

    public ulong End => Start + Size;

    /// <summary>Host memory backing the region (null for pure MMIO).</summary>
    internal byte* Host { get; }

    public IMmioDevice? Device { get; }

    /// <summary>The access sizes <see cref="Device"/> declared when it was mapped.</summary>
    public AccessSizes Sizes { get; }

    /// <summary><see cref="AccessSizes.DirectSizes"/> of <see cref="Sizes"/>, kept for the device write path's one test.</summary>
    internal int DirectSizes { get; }

    /// <summary>
    /// True while reads may be served from <see cref="Host"/> without asking the device. A ROM
    /// device clears it when it leaves read-array mode.
    /// </summary>
    public bool ReadsDirect { get; internal set; }

    /// <summary>
    /// How many of the region's pages hold decoded code (kept by the bus): a device that changes
    /// its host memory skips <see cref="PhysicalBus.NotifyWritten"/> while this is 0 (the flash
    /// program fast path).
    /// </summary>
    public int CodePages { get; internal set; }

    /// <summary>The views an overlay appears in; <see cref="MemoryView.None"/> for a region of the base map.</summary>
    public MemoryView Views { get; internal init; }

    /// <summary>Whether an overlay is switched on (<see cref="PhysicalBus.SetEnabled"/>); base regions are always mapped.</summary>
    public bool Enabled { get; internal set; } = true;

    /// <summary>The bus's index of the region (what the page maps hold).</summary>
    internal ushort Index { get; set; }
}
