using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Emulator.Core.Memory;

/// <summary>
/// Physical address space: a 4 KiB page map below 4 GiB (one region index per page) and a short
/// list of regions above it. This is the slow path; the CPU caches host pointers for RAM and ROM
/// pages in its TLB and only comes here for misses, MMIO, page-crossing accesses and writes to
/// pages that hold decoded code.
///
/// Below 4 GiB there are two views, as QEMU gives an x86 CPU two address spaces (target/i386
/// tcg-cpu.c: accesses with attrs.secure, i.e. in SMM, use the "cpu-smm" space built on the
/// MCH's "smram" container): the normal view and the SMM view. Both start as the base map the
/// Map* calls build (regions there never overlap); overlays (<see cref="MapRamOverlay"/>,
/// <see cref="MapMmioOverlay"/>) sit above it in one view or both and are switched on and off
/// by the chipset (PAM, SMRAM, TSEG: QEMU's memory_region_set_enabled on overlapping
/// subregions), a later overlay above an earlier one. <see cref="SmmView"/> picks the view
/// accesses use; the CPU sets it on SMM entry and RSM. Devices' DMA uses whichever view is
/// current (QEMU's is always the normal one; OVMF never DMAs from SMM).
/// </summary>
public sealed unsafe class PhysicalBus : IDisposable
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
    private const ulong LowLimit = 1UL << 32;
    private const int LowPages = (int)(LowLimit >> PageShift);

    private readonly List<MemoryRegion> _regions = [];

    /// <summary><see cref="_regions"/> as an array, for the device write path (one load less than a List).</summary>
    private MemoryRegion[] _regionTable = [];
    private readonly List<MemoryRegion> _highRegions = [];
    private readonly List<IntPtr> _allocations = [];
    private readonly List<MemoryRegion> _overlays = [];

    /// <summary>Overlays wholly above 4 GiB (64-bit BARs): searched, last mapped first, before <see cref="_highRegions"/>.</summary>
    private readonly List<MemoryRegion> _highOverlays = [];

    /// <summary>The base map: region per page as the Map* calls placed them, overlays ignored.</summary>
    private readonly ushort[] _basePageRegion = new ushort[LowPages];

    /// <summary>The effective maps of the two views (base plus the enabled overlays of that view).</summary>
    private readonly ushort[] _normalPageRegion = new ushort[LowPages];
    private readonly ushort[] _smmPageRegion = new ushort[LowPages];

    /// <summary>The view accesses use now: <see cref="_normalPageRegion"/> or <see cref="_smmPageRegion"/>.</summary>
    private ushort[] _lowPageRegion;
    private readonly byte[] _codePages = new byte[LowPages];
    private readonly HashSet<ulong> _highCodePages = [];

    public PhysicalBus()
    {
        // Region index 0 is "unassigned".
        _regions.Add(new MemoryRegion("unassigned", RegionKind.Unassigned, 0, 0, null, null));
        _regionTable = [.. _regions];
        _lowPageRegion = _normalPageRegion;
    }

    /// <summary>
    /// QEMU's tseg_blackhole (hw/pci-host/q35.c): what a closed SMRAM range shows outside SMM —
    /// reads all-ones, writes dropped.
    /// </summary>
    public static IMmioDevice Blackhole { get; } = new BlackholeDevice();

    /// <summary>
    /// True while accesses use the SMM view (the CPU is in System Management Mode). Switching
    /// raises <see cref="MappingChanged"/> so TLBs drop pointers of the other view.
    /// </summary>
    public bool SmmView
    {
        get => _lowPageRegion == _smmPageRegion;
        set
        {
            if (value != SmmView)
            {
                _lowPageRegion = value ? _smmPageRegion : _normalPageRegion;
                MappingChanged?.Invoke();
            }
        }
    }

    /// <summary>What unassigned memory reads as: all-ones like real hardware, or 0 like QEMU.</summary>
    public bool UnassignedReadsZero { get; set; }

    public UnassignedAccessLog Unassigned { get; } = new();

    /// <summary>Supplies the current instruction index for the unassigned-access log.</summary>
    public Func<long>? InstructionCounter { get; set; }

    /// <summary>Raised when what a page maps to, or whether reads go direct, changes: TLBs must flush.</summary>
    public event Action? MappingChanged;

    /// <summary>Raised when a write lands in a page that holds decoded code (argument: physical page number).</summary>
    public event Action<ulong>? CodePageWritten;

    public IReadOnlyList<MemoryRegion> Regions => _regions;

    /// <summary>Allocates zeroed host memory that lives as long as the bus; the OS commits pages on first touch.</summary>
    public byte* Allocate(ulong size)
    {
        var p = (byte*)NativeMemory.AllocZeroed((nuint)size);
        _allocations.Add((IntPtr)p);
        return p;
    }

    public MemoryRegion MapRam(string name, ulong start, ulong size, byte* host) =>
        Add(new MemoryRegion(name, RegionKind.Ram, start, size, host, null));

    /// <summary>Maps a read-only copy of <paramref name="contents"/>.</summary>
    public MemoryRegion MapRom(string name, ulong start, ReadOnlySpan<byte> contents)
    {
        var host = Allocate((ulong)contents.Length);
        contents.CopyTo(new Span<byte>(host, contents.Length));
        return Add(new MemoryRegion(name, RegionKind.Rom, start, (ulong)contents.Length, host, null));
    }

    public MemoryRegion MapRomDevice(string name, ulong start, ulong size, byte* host, IMmioDevice device) =>
        Add(new MemoryRegion(name, RegionKind.RomDevice, start, size, host, device));

    public MemoryRegion MapMmio(string name, ulong start, ulong size, IMmioDevice device) =>
        Add(new MemoryRegion(name, RegionKind.Mmio, start, size, null, device));

    /// <summary>
    /// An overlay of RAM (QEMU's memory_region_init_alias of guest RAM) at <paramref name="start"/>
    /// backed by <paramref name="host"/>, in <paramref name="views"/>; read-only drops writes
    /// (QEMU's PAM "pam-rom" alias). Starts disabled unless <paramref name="enabled"/>.
    /// </summary>
    public MemoryRegion MapRamOverlay(string name, ulong start, ulong size, byte* host, MemoryView views, bool readOnly = false, bool enabled = false) =>
        AddOverlay(new MemoryRegion(name, readOnly ? RegionKind.Rom : RegionKind.Ram, start, size, host, null) { Views = views, Enabled = enabled });

    /// <summary>An overlay routing accesses to <paramref name="device"/> (e.g. <see cref="Blackhole"/>) in <paramref name="views"/>.</summary>
    public MemoryRegion MapMmioOverlay(string name, ulong start, ulong size, IMmioDevice device, MemoryView views, bool enabled = false) =>
        AddOverlay(new MemoryRegion(name, RegionKind.Mmio, start, size, null, device) { Views = views, Enabled = enabled });

    /// <summary>Switches an overlay on or off (QEMU memory_region_set_enabled); the pages it covers are remapped in its views.</summary>
    public void SetEnabled(MemoryRegion overlay, bool enabled)
    {
        if (overlay.Views == MemoryView.None)
        {
            throw new ArgumentException($"region {overlay.Name} is part of the base map, not an overlay");
        }

        if (overlay.Enabled != enabled)
        {
            overlay.Enabled = enabled;
            if (overlay.Start < LowLimit)
            {
                Recompute(overlay.Start, overlay.End);
            }

            MappingChanged?.Invoke();
        }
    }

    /// <summary>
    /// An overlay lies wholly below 4 GiB (it then takes part in the page maps) or wholly above
    /// (a 64-bit BAR: <see cref="Find"/> looks at it before the base regions there).
    /// </summary>
    private MemoryRegion AddOverlay(MemoryRegion overlay)
    {
        CheckShape(overlay);
        if ((overlay.Start < LowLimit && overlay.End > LowLimit) || overlay.End < overlay.Start || overlay.Views == MemoryView.None)
        {
            throw new ArgumentException($"overlay {overlay.Name} must lie wholly below or wholly above 4 GiB and name a view");
        }

        overlay.Index = Register(overlay);
        if (overlay.Start >= LowLimit)
        {
            _highOverlays.Add(overlay);
        }
        else
        {
            _overlays.Add(overlay);
            Recompute(overlay.Start, overlay.End);
        }

        MappingChanged?.Invoke();
        return overlay;
    }

    private MemoryRegion Add(MemoryRegion region)
    {
        CheckShape(region);
        for (ulong a = region.Start; a < region.End; a += PageSize)
        {
            var below = FindBase(a);
            if (below.Kind != RegionKind.Unassigned)
            {
                throw new ArgumentException($"region {region.Name} overlaps {below.Name} at 0x{a:X}");
            }
        }

        var index = Register(region);
        if (region.Start >= LowLimit)
        {
            _highRegions.Add(region);
        }
        else
        {
            ulong end = Math.Min(region.End, LowLimit);
            for (ulong a = region.Start; a < end; a += PageSize)
            {
                _basePageRegion[a >> PageShift] = index;
            }

            Recompute(region.Start, end);
            if (region.End > LowLimit)
            {
                _highRegions.Add(region);
            }
        }

        MappingChanged?.Invoke();
        return region;
    }

    private static void CheckShape(MemoryRegion region)
    {
        if (region.Size == 0 || (region.Start & (PageSize - 1)) != 0 || (region.Size & (PageSize - 1)) != 0)
        {
            throw new ArgumentException($"region {region.Name} must be page aligned and non-empty");
        }
    }

    private ushort Register(MemoryRegion region)
    {
        if (_regions.Count >= ushort.MaxValue)
        {
            throw new InvalidOperationException("too many memory regions");
        }

        _regions.Add(region);
        _regionTable = [.. _regions];
        return (ushort)(_regions.Count - 1);
    }

    /// <summary>Rebuilds both views' pages in [start, end): the base region, then each enabled overlay of the view in mapping order.</summary>
    private void Recompute(ulong start, ulong end)
    {
        for (ulong a = start; a < end; a += PageSize)
        {
            int page = (int)(a >> PageShift);
            ushort normal = _basePageRegion[page];
            ushort smm = normal;
            foreach (var o in _overlays)
            {
                if (o.Enabled && a >= o.Start && a < o.End)
                {
                    if ((o.Views & MemoryView.Normal) != 0)
                    {
                        normal = o.Index;
                    }

                    if ((o.Views & MemoryView.Smm) != 0)
                    {
                        smm = o.Index;
                    }
                }
            }

            _normalPageRegion[page] = normal;
            _smmPageRegion[page] = smm;
        }
    }

    /// <summary>The base-map region at <paramref name="address"/>, overlays ignored (code-page accounting, overlap checks).</summary>
    private MemoryRegion FindBase(ulong address) =>
        address < LowLimit ? _regions[_basePageRegion[address >> PageShift]] : Find(address);

    /// <summary>The region holding <paramref name="address"/> in the current view (the unassigned region if none).</summary>
    public MemoryRegion Find(ulong address)
    {
        if (address < LowLimit)
        {
            return _regions[_lowPageRegion[address >> PageShift]];
        }

        var view = SmmView ? MemoryView.Smm : MemoryView.Normal;
        for (int i = _highOverlays.Count - 1; i >= 0; i--)
        {
            var o = _highOverlays[i];
            if (o.Enabled && (o.Views & view) != 0 && address >= o.Start && address < o.End)
            {
                return o;
            }
        }

        foreach (var r in _highRegions)
        {
            if (address >= r.Start && address < r.End)
            {
                return r;
            }
        }

        return _regions[0];
    }

    /// <summary>Switches a ROM device between direct array reads and device reads.</summary>
    public void SetReadsDirect(MemoryRegion region, bool direct)
    {
        if (region.ReadsDirect != direct)
        {
            region.ReadsDirect = direct;
            MappingChanged?.Invoke();
        }
    }

    /// <summary>Host pointer for reading the page at <paramref name="address"/> directly, or null.</summary>
    public byte* ReadPointer(ulong address)
    {
        var r = Find(address);
        return r.ReadsDirect && r.Host != null ? r.Host + (address - r.Start) : null;
    }

    /// <summary>Host pointer for writing the page directly (RAM without decoded code), or null.</summary>
    public byte* WritePointer(ulong address)
    {
        var r = Find(address);
        return r.Kind == RegionKind.Ram && !IsCodePage(address >> PageShift) ? r.Host + (address - r.Start) : null;
    }

    public bool IsCodePage(ulong page) =>
        page < (ulong)LowPages ? _codePages[page] != 0 : _highCodePages.Contains(page);

    /// <summary>Marks a page as holding decoded code: writes to it go through the slow path and invalidate.</summary>
    public void MarkCodePage(ulong page)
    {
        bool added;
        if (page < (ulong)LowPages)
        {
            added = _codePages[page] == 0;
            _codePages[page] = 1;
        }
        else
        {
            added = _highCodePages.Add(page);
        }

        if (added)
        {
            FindBase(page << PageShift).CodePages++;
        }
    }

    public void ClearCodePage(ulong page)
    {
        bool removed;
        if (page < (ulong)LowPages)
        {
            removed = _codePages[page] != 0;
            _codePages[page] = 0;
        }
        else
        {
            removed = _highCodePages.Remove(page);
        }

        if (removed)
        {
            FindBase(page << PageShift).CodePages--;
        }
    }

    /// <summary>Call after changing host memory behind the CPU's back (device writes, DMA, flash programs).</summary>
    public void NotifyWritten(ulong address, ulong length)
    {
        if (length == 0)
        {
            return;
        }

        for (ulong page = address >> PageShift; page <= (address + length - 1) >> PageShift; page++)
        {
            if (IsCodePage(page))
            {
                CodePageWritten?.Invoke(page);
            }
        }
    }

    public ulong Read(ulong address, int size)
    {
        var r = Find(address);
        if (address + (ulong)size > r.End && r.Kind != RegionKind.Unassigned)
        {
            return ReadSplit(address, size);
        }

        switch (r.Kind)
        {
            case RegionKind.Ram:
            case RegionKind.Rom:
                return ReadHost(r.Host + (address - r.Start), size);
            case RegionKind.RomDevice:
                return r.ReadsDirect ? ReadHost(r.Host + (address - r.Start), size) : ReadDevice(r, address - r.Start, size);
            case RegionKind.Mmio:
                return ReadDevice(r, address - r.Start, size);
            default:
                Unassigned.Record(UnassignedSpace.Memory, address, size, false, InstructionCounter?.Invoke() ?? 0);
                return UnassignedReadsZero ? 0 : SizeMask(size);
        }
    }

    public void Write(ulong address, int size, ulong value)
    {
        // The path every guest store to flash in command mode (and to MMIO) takes, kept small so
        // the device's own fast path (CfiFlash's byte program) is most of the cost; RAM, ROM,
        // unassigned space, addresses above 4 GiB, accesses crossing a region's end and sizes
        // the device does not take as they come (its declared AccessSizes) go on.
        if (address < LowLimit)
        {
            var device = _regionTable[_lowPageRegion[(int)(address >> PageShift)]];
            if (device.Kind >= RegionKind.RomDevice && address + (ulong)size <= device.End && (device.DirectSizes & size) != 0)
            {
                device.Device!.Write(address - device.Start, size, value);
                return;
            }
        }

        WriteOther(address, size, value);
    }

    private void WriteOther(ulong address, int size, ulong value)
    {
        var r = Find(address);
        if (address + (ulong)size > r.End && r.Kind != RegionKind.Unassigned)
        {
            WriteSplit(address, size, value);
            return;
        }

        switch (r.Kind)
        {
            case RegionKind.Ram:
                WriteHost(r.Host + (address - r.Start), size, value);
                if (IsCodePage(address >> PageShift) || IsCodePage((address + (ulong)size - 1) >> PageShift))
                {
                    NotifyWritten(address, (ulong)size);
                }

                break;
            case RegionKind.Rom:
                break;
            case RegionKind.RomDevice:
            case RegionKind.Mmio:
                WriteDevice(r, address - r.Start, size, value);
                break;
            default:
                Unassigned.Record(UnassignedSpace.Memory, address, size, true, InstructionCounter?.Invoke() ?? 0);
                break;
        }
    }

    /// <summary>A device read with the region's declared sizes enforced (QEMU memory_region_dispatch_read).</summary>
    private static ulong ReadDevice(MemoryRegion r, ulong offset, int size) =>
        (r.DirectSizes & size) != 0 ? r.Device!.Read(offset, size) : r.Sizes.Read(new MmioTarget(r.Device!), offset, size);

    /// <summary>A device write with the region's declared sizes enforced (QEMU memory_region_dispatch_write).</summary>
    private static void WriteDevice(MemoryRegion r, ulong offset, int size, ulong value)
    {
        if ((r.DirectSizes & size) != 0)
        {
            r.Device!.Write(offset, size, value);
        }
        else
        {
            r.Sizes.Write(new MmioTarget(r.Device!), offset, size, value);
        }
    }

    /// <summary>Copies physical memory into <paramref name="destination"/> (debuggers, reports, DMA).</summary>
    public void ReadBlock(ulong address, Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (byte)Read(address + (ulong)i, 1);
        }
    }

    public void WriteBlock(ulong address, ReadOnlySpan<byte> source)
    {
        for (int i = 0; i < source.Length; i++)
        {
            Write(address + (ulong)i, 1, source[i]);
        }
    }

    private ulong ReadSplit(ulong address, int size)
    {
        ulong v = 0;
        for (int i = 0; i < size; i++)
        {
            v |= Read(address + (ulong)i, 1) << (8 * i);
        }

        return v;
    }

    private void WriteSplit(ulong address, int size, ulong value)
    {
        for (int i = 0; i < size; i++)
        {
            Write(address + (ulong)i, 1, (value >> (8 * i)) & 0xFF);
        }
    }

    internal static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;

    private static ulong ReadHost(byte* p, int size) => size switch
    {
        1 => *p,
        2 => BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(p, 2)),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(p, 4)),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(p, 8)),
    };

    private static void WriteHost(byte* p, int size, ulong value)
    {
        switch (size)
        {
            case 1: *p = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(p, 2), (ushort)value); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(p, 4), (uint)value); break;
            default: BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(p, 8), value); break;
        }
    }

    /// <summary>Reads all-ones, drops writes (QEMU q35.c tseg_blackhole_ops: any size 1–4).</summary>
    private sealed class BlackholeDevice : IMmioDevice
    {
        public string Name => "blackhole";

        public ulong Read(ulong offset, int size) => SizeMask(size);

        public void Write(ulong offset, int size, ulong value)
        {
        }
    }

    public void Dispose()
    {
        foreach (var p in _allocations)
        {
            NativeMemory.Free((void*)p);
        }

        _allocations.Clear();
    }
}
