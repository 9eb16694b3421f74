using Emulator.Core.Devices.Virtio;
using Emulator.Core.Machine;
using Emulator.Core.Storage;

namespace Emulator.Core.Tests.Devices;

/// <summary>
/// A guest driving a virtio-blk-pci disk through the buses as OVMF's VirtioBlkDxe does
/// (VirtioPciDeviceDxe on BAR0, VirtioLib's ring layout): the machine, BAR0 at 0xC000, the ring
/// at <see cref="Ring"/> and requests built from descriptors the test chooses.
/// </summary>
internal sealed class VirtioGuest : IDisposable
{
    public const ushort Bar0 = 0xC000;
    public const ulong Ring = 0x10000;
    public const ulong Header = 0x20000;
    public const ulong Data = 0x30000;
    public const ulong StatusByte = 0x28000;
    public const int DiskSectors = 64;

    private ushort _availIndex;

    public VirtioGuest(bool readOnly = false, PcChipset chipset = PcChipset.I440fx, int drives = 1)
    {
        Disk = Enumerable.Range(0, DiskSectors * 512).Select(i => (byte)((i * 7) + (i >> 9))).ToArray();
        Backend = new MemoryBlockBackend(Disk, readOnly);
        Machine = new PcMachine(new MachineOptions
        {
            Chipset = chipset,
            RamSize = 16UL << 20,
            Flash = [new("code", new byte[0x10000], true), new("vars", Enumerable.Repeat((byte)0xFF, 0x20000).ToArray(), false)],
            VirtioDrives = [.. Enumerable.Range(0, drives).Select(_ => new VirtioDrive(Backend))],
        });
        Slot = chipset == PcChipset.Q35 ? 1 : 2;
        Config(0x10, Bar0);
        Config(0x04, 0x5, 2);
    }

    public PcMachine Machine { get; }

    public byte[] Disk { get; }

    public MemoryBlockBackend Backend { get; }

    public int Slot { get; }

    public VirtioBlkPci Function => Machine.VirtioDisks[0];

    public uint Config(int register) => ConfigAt(Slot, register);

    public uint ConfigAt(int slot, int register)
    {
        Machine.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)(slot << 11) | (uint)(register & 0xFC));
        return Machine.Ports.Read((ushort)(0xCFC + (register & 3)), 4);
    }

    public void Config(int register, uint value, int size = 4)
    {
        Machine.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)(Slot << 11) | (uint)(register & 0xFC));
        Machine.Ports.Write((ushort)(0xCFC + (register & 3)), size, value);
    }

    public uint In(ushort offset, int size) => Machine.Ports.Read((ushort)(Bar0 + offset), size);

    public void Out(ushort offset, int size, uint value) => Machine.Ports.Write((ushort)(Bar0 + offset), size, value);

    /// <summary>VirtioBlkInit: reset, ACKNOWLEDGE|DRIVER, features, queue 0 at <see cref="Ring"/>, DRIVER_OK.</summary>
    public void Start(uint features = 0x640, ulong ring = Ring)
    {
        Out(0x12, 1, 0);
        Out(0x12, 1, 1);
        Out(0x12, 1, 3);
        Out(0x04, 4, features);
        Out(0x0E, 2, 0);
        Out(0x08, 4, (uint)(ring >> 12));
        Out(0x12, 1, 7);
    }

    public ulong Avail => Ring + (256 * 16);

    public ulong Used => (Avail + 4 + 512 + 2 + 4095) & ~4095UL;

    public void Descriptor(int index, ulong address, uint length, ushort flags, ushort next = 0, ulong table = Ring)
    {
        var raw = new byte[16];
        BitConverter.TryWriteBytes(raw.AsSpan(0), address);
        BitConverter.TryWriteBytes(raw.AsSpan(8), length);
        BitConverter.TryWriteBytes(raw.AsSpan(12), flags);
        BitConverter.TryWriteBytes(raw.AsSpan(14), next);
        Machine.Bus.WriteBlock(table + (ulong)(index * 16), raw);
    }

    public void RequestHeader(uint type, ulong sector, ulong at = Header)
    {
        var raw = new byte[16];
        BitConverter.TryWriteBytes(raw.AsSpan(0), type);
        BitConverter.TryWriteBytes(raw.AsSpan(8), sector);
        Machine.Bus.WriteBlock(at, raw);
    }

    /// <summary>Offers the chain at <paramref name="head"/> and notifies queue 0; avail.flags as given (1 = NO_INTERRUPT, OVMF's).</summary>
    public void Submit(ushort head, ushort availFlags = 1)
    {
        Machine.Bus.Write(Avail, 2, availFlags);
        Machine.Bus.Write(Avail + 4 + (2UL * (ulong)(_availIndex % 256)), 2, head);
        _availIndex++;
        Machine.Bus.Write(Avail + 2, 2, _availIndex);
        Out(0x10, 2, 0);
    }

    /// <summary>SynchronousRequest's three descriptors: header, data (device-writable for a read), status.</summary>
    public byte Request(uint type, ulong sector, uint length, bool deviceWrites)
    {
        RequestHeader(type, sector);
        Machine.Bus.Write(StatusByte, 1, 0xFF);
        Descriptor(0, Header, 16, 1, 1);
        if (length > 0)
        {
            Descriptor(1, Data, length, (ushort)(1 | (deviceWrites ? 2 : 0)), 2);
            Descriptor(2, StatusByte, 1, 2);
        }
        else
        {
            Descriptor(0, Header, 16, 1, 2);
            Descriptor(2, StatusByte, 1, 2);
        }

        Submit(0);
        return (byte)Machine.Bus.Read(StatusByte, 1);
    }

    public ushort UsedIndex => (ushort)Machine.Bus.Read(Used + 2, 2);

    public (uint Id, uint Length) UsedEntry(int i)
    {
        var raw = Read(Used + 4 + (ulong)(8 * i), 8);
        return (BitConverter.ToUInt32(raw), BitConverter.ToUInt32(raw, 4));
    }

    public byte[] Read(ulong address, int length)
    {
        var bytes = new byte[length];
        Machine.Bus.ReadBlock(address, bytes);
        return bytes;
    }

    public void Dispose() => Machine.Dispose();
}
