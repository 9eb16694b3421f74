using Emulator.Core.Memory;

namespace Emulator.Core.Io;

/// <summary>
/// The 64 K I/O port space: one table entry per port naming the device and the first port of
/// its range. Unassigned ports read all-ones (as on real ISA buses and on QEMU) and are logged.
/// An access wider than one port whose ports belong to different devices is split into bytes.
/// A device that declares its access sizes (<see cref="IPortDevice.Sizes"/>) gets them the way
/// QEMU's port I/O delivers them (softmmu/physmem.c flatview_read_continue/flatview_write_continue
/// with memory_access_size, then softmmu/memory.c memory_region_dispatch_read/write): the access
/// is cut into pieces no wider than valid.max and than the offset's alignment, and each piece is
/// refused, split or widened as its <see cref="AccessSizes"/> say.
/// </summary>
public sealed class PortBus
{
    private readonly IPortDevice?[] _devices = new IPortDevice?[65536];
    private readonly ushort[] _bases = new ushort[65536];

    /// <summary>True for ports whose device declared access sizes (the slow, QEMU-shaped path).</summary>
    private readonly bool[] _sized = new bool[65536];

    public PortBus(UnassignedAccessLog log)
    {
        Unassigned = log;
    }

    public UnassignedAccessLog Unassigned { get; }

    public Func<long>? InstructionCounter { get; set; }

    /// <summary>
    /// Reads and writes issued so far: each access counts once, and an access the bus splits into
    /// bytes counts once more per byte (1 + size). The busy-wait skipper compares these counts, so
    /// the rule is part of what makes runs reproduce; it is not a count of device calls.
    /// </summary>
    public long AccessCount { get; internal set; }

    public void Register(ushort first, int count, IPortDevice device)
    {
        // Checked whole before any port is taken: a refused registration leaves the bus as it was.
        if (count < 1 || first + count > 0x10000)
        {
            throw new ArgumentException($"ports 0x{first:X}+{count} of {device.Name} are not within 0x0-0xFFFF");
        }

        if (FirstTaken(first, count) is { } taken)
        {
            throw new ArgumentException($"port 0x{taken.Port:X} of {device.Name} is already used by {taken.Device.Name}");
        }

        for (int p = first; p < first + count; p++)
        {
            _devices[p] = device;
            _bases[p] = first;
            _sized[p] = device.Sizes != AccessSizes.Unrestricted;
        }
    }

    /// <summary>The lowest port of <paramref name="first"/>..+<paramref name="count"/> that a device already holds, with that device; null when all are free.</summary>
    public (int Port, IPortDevice Device)? FirstTaken(ushort first, int count)
    {
        for (int p = first; p < first + count && p < _devices.Length; p++)
        {
            if (_devices[p] is { } existing)
            {
                return (p, existing);
            }
        }

        return null;
    }

    /// <summary>Removes a device's ports (a PCI function's I/O window moved or was disabled).</summary>
    public void Unregister(ushort first, int count, IPortDevice device)
    {
        for (int p = first; p < first + count && p <= 0xFFFF; p++)
        {
            if (ReferenceEquals(_devices[p], device))
            {
                _devices[p] = null;
                _bases[p] = 0;
                _sized[p] = false;
            }
        }
    }

    public IPortDevice? DeviceAt(ushort port) => _devices[port];

    public uint Read(ushort port, int size)
    {
        AccessCount++;
        var d = _devices[port];
        if (d != null && (size == 1 || SameDevice(port, size, d)))
        {
            ushort offset = (ushort)(port - _bases[port]);
            return _sized[port] ? ReadSized(d, offset, size) : d.Read(offset, size);
        }

        if (d == null && size == 1)
        {
            Unassigned.Record(UnassignedSpace.Port, port, size, false, InstructionCounter?.Invoke() ?? 0);
            return 0xFF;
        }

        uint v = 0;
        for (int i = 0; i < size; i++)
        {
            v |= Read((ushort)(port + i), 1) << (8 * i);
        }

        return v;
    }

    public void Write(ushort port, int size, uint value)
    {
        AccessCount++;
        var d = _devices[port];
        if (d != null && (size == 1 || SameDevice(port, size, d)))
        {
            ushort offset = (ushort)(port - _bases[port]);
            if (_sized[port])
            {
                WriteSized(d, offset, size, value);
            }
            else
            {
                d.Write(offset, size, value);
            }

            return;
        }

        if (d == null && size == 1)
        {
            Unassigned.Record(UnassignedSpace.Port, port, size, true, InstructionCounter?.Invoke() ?? 0);
            return;
        }

        for (int i = 0; i < size; i++)
        {
            Write((ushort)(port + i), 1, (value >> (8 * i)) & 0xFF);
        }
    }

    private static uint ReadSized(IPortDevice d, ushort offset, int size)
    {
        var sizes = d.Sizes;
        uint value = 0;
        for (int done = 0; done < size;)
        {
            int piece = Piece(sizes, offset + done, size - done);
            value |= (uint)sizes.Read(new PortTarget(d), (ulong)(offset + done), piece) << (8 * done);
            done += piece;
        }

        return value;
    }

    private static void WriteSized(IPortDevice d, ushort offset, int size, uint value)
    {
        var sizes = d.Sizes;
        for (int done = 0; done < size;)
        {
            int piece = Piece(sizes, offset + done, size - done);
            sizes.Write(new PortTarget(d), (ulong)(offset + done), piece, (value >> (8 * done)) & (uint)PhysicalBus.SizeMask(piece));
            done += piece;
        }
    }

    /// <summary>QEMU memory_access_size: at most valid.max, no wider than the offset's alignment, a power of two.</summary>
    private static int Piece(AccessSizes sizes, int offset, int remaining)
    {
        int max = sizes.ValidMax;
        int alignment = offset & -offset;
        if (alignment != 0 && alignment < max)
        {
            max = alignment;
        }

        return 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)Math.Min(remaining, max)));
    }

    private bool SameDevice(ushort port, int size, IPortDevice d)
    {
        int last = port + size - 1;
        return last <= 0xFFFF && ReferenceEquals(_devices[last], d);
    }
}

/// <summary>A port device as an <see cref="IAccessTarget"/>.</summary>
internal readonly struct PortTarget(IPortDevice device) : IAccessTarget
{
    public ulong Read(ulong offset, int size) => device.Read((ushort)offset, size);

    public void Write(ulong offset, int size, ulong value) => device.Write((ushort)offset, size, (uint)value);
}
