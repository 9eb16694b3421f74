using Emulator.Core.Memory;

namespace Emulator.Core.Io;

/// <summary>
/// The 64 K I/O port space: one table entry per port naming the device and the first port of
/// its range. Unassigned ports read all-ones (as on real ISA buses and on QEMU) and are logged.
/// An access wider than one port whose ports belong to different devices is split into bytes.
/// </summary>
public sealed class PortBus
{
    private readonly IPortDevice?[] _devices = new IPortDevice?[65536];
    private readonly ushort[] _bases = new ushort[65536];

    public PortBus(UnassignedAccessLog log)
    {
        Unassigned = log;
    }

    public UnassignedAccessLog Unassigned { get; }

    public Func<long>? InstructionCounter { get; set; }

    /// <summary>Reads and writes issued so far (an access split into bytes counts once per byte).</summary>
    public long AccessCount { get; internal set; }

    public void Register(ushort first, int count, IPortDevice device)
    {
        for (int p = first; p < first + count; p++)
        {
            if (_devices[p] is { } existing)
            {
                throw new ArgumentException($"port 0x{p:X} of {device.Name} is already used by {existing.Name}");
            }

            _devices[p] = device;
            _bases[p] = first;
        }
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
            return d.Read((ushort)(port - _bases[port]), size);
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
            d.Write((ushort)(port - _bases[port]), size, value);
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

    private bool SameDevice(ushort port, int size, IPortDevice d)
    {
        int last = port + size - 1;
        return last <= 0xFFFF && ReferenceEquals(_devices[last], d);
    }
}
