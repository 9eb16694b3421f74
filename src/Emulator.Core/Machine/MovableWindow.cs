using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Machine;

/// <summary>
/// A device window a PCI register places (QEMU's memory_region_set_address/set_enabled on a
/// BAR or a chipset window): the ECAM window, RCBA, AHCI's ABAR. The bus's overlays sit at a
/// fixed address, so each place the window has been gets its own overlay, kept for the next time
/// the guest puts the window back there; at most one is enabled. A window wholly above 4 GiB (a
/// 64-bit BAR) is an overlay there; one straddling 4 GiB is not decoded.
/// </summary>
internal sealed class MovableMmioWindow(PhysicalBus bus, string name, IMmioDevice device)
{
    private readonly Dictionary<(ulong Start, ulong Size), MemoryRegion> _overlays = [];
    private MemoryRegion? _current;

    public void Place(bool enabled, ulong start, ulong size)
    {
        if (_current != null)
        {
            bus.SetEnabled(_current, false);
            _current = null;
        }

        if (!enabled || (start < FlashLayout.FourGiB && start + size > FlashLayout.FourGiB) || start + size < start)
        {
            return;
        }

        if (!_overlays.TryGetValue((start, size), out var overlay))
        {
            overlay = bus.MapMmioOverlay(name, start, size, device, MemoryView.Both);
            _overlays[(start, size)] = overlay;
        }

        bus.SetEnabled(overlay, true);
        _current = overlay;
    }
}

/// <summary>
/// An I/O port window a PCI register places (an I/O BAR, PMBASE): unregistered from the old
/// base, registered at the new one. A base where another device already has ports, or whose
/// window would run past 0xFFFF, leaves the window undecoded (QEMU would overlay the two; no
/// firmware does this) instead of stopping the run.
/// </summary>
internal sealed class MovablePortWindow(PortBus ports, ushort offset, int count, IPortDevice device)
{
    private ushort? _base;

    public void Place(bool enabled, ushort windowBase)
    {
        if (_base is { } old)
        {
            ports.Unregister((ushort)(old + offset), count, device);
            _base = null;
        }

        int first = windowBase + offset;
        if (enabled && first + count <= 0x10000 && Enumerable.Range(first, count).All(p => ports.DeviceAt((ushort)p) == null))
        {
            ports.Register((ushort)first, count, device);
            _base = windowBase;
        }
    }
}
