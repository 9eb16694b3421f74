// PCI function (type 0 header) configuration space, as seen through configuration mechanism #1.
// Addresses: reached through PciHost (0xCF8/0xCFC) at a bus/device/function number; no ports of its own.
// Emulated: the 256-byte configuration space, a per-bit write mask (read-only bits keep their
// value), BARs (the write mask of a BAR clears the size bits, so writing all-ones reads back the
// size mask with the type bits, PCI Local Bus Specification 3.0 §6.2.5.1), and a hook that tells
// the subclass which bytes the guest wrote.
// Not emulated: extended (PCIe) configuration space, capabilities lists, write-1-to-clear status
// bits (the status register reads as its reset value), expansion ROM BARs.
// Firmware relies on: vendor/device/class identification, header type bit 7 (multifunction) on
// function 0, BAR sizing during PCI enumeration (OVMF's PciBusDxe), and writable interrupt line.
using System.Buffers.Binary;

namespace Emulator.Core.Devices.Pci;

/// <summary>Base class of an emulated PCI function: configuration space with write masks and BARs.</summary>
public abstract class PciFunction : IDevice
{
    public const int ConfigSpaceSize = 256;
    public const int VendorIdOffset = 0x00;
    public const int DeviceIdOffset = 0x02;
    public const int CommandOffset = 0x04;
    public const int StatusOffset = 0x06;
    public const int RevisionIdOffset = 0x08;
    public const int ClassCodeOffset = 0x09;
    public const int CacheLineSizeOffset = 0x0C;
    public const int LatencyTimerOffset = 0x0D;
    public const int HeaderTypeOffset = 0x0E;
    public const int FirstBarOffset = 0x10;
    public const int SubsystemVendorIdOffset = 0x2C;
    public const int InterruptLineOffset = 0x3C;
    public const int InterruptPinOffset = 0x3D;
    public const int DeviceSpecificOffset = 0x40;

    public const byte HeaderTypeMultiFunction = 0x80;
    public const ushort CommandIoSpace = 0x0001;
    public const ushort CommandMemorySpace = 0x0002;
    public const ushort CommandBusMaster = 0x0004;
    public const ushort CommandSerrEnable = 0x0100;
    public const ushort CommandInterruptDisable = 0x0400;
    public const uint BarIoSpace = 0x1;
    public const uint BarMemory64 = 0x4;
    public const uint BarPrefetchable = 0x8;

    private readonly byte[] _config = new byte[ConfigSpaceSize];
    private readonly byte[] _writeMask = new byte[ConfigSpaceSize];

    /// <summary>The configuration space as the constructor left it, saved before the first guest write.</summary>
    private byte[]? _powerOn;

    protected PciFunction(string name, ushort vendorId, ushort deviceId, byte revision, uint classCode, byte headerType)
    {
        Name = name;
        SetWord(VendorIdOffset, vendorId);
        SetWord(DeviceIdOffset, deviceId);
        _config[RevisionIdOffset] = revision;
        _config[ClassCodeOffset] = (byte)classCode;
        _config[ClassCodeOffset + 1] = (byte)(classCode >> 8);
        _config[ClassCodeOffset + 2] = (byte)(classCode >> 16);
        _config[HeaderTypeOffset] = headerType;

        SetWriteMask(CommandOffset, 2, CommandIoSpace | CommandMemorySpace | CommandBusMaster | CommandSerrEnable | CommandInterruptDisable);
        _writeMask[CacheLineSizeOffset] = 0xFF;
        _writeMask[LatencyTimerOffset] = 0xFF;
        _writeMask[InterruptLineOffset] = 0xFF;
        for (int i = DeviceSpecificOffset; i < ConfigSpaceSize; i++)
        {
            _writeMask[i] = 0xFF;
        }
    }

    public string Name { get; }

    /// <summary>Reads <paramref name="size"/> (1, 2 or 4) bytes at <paramref name="offset"/>, little-endian.</summary>
    public uint ReadConfig(int offset, int size)
    {
        OnConfigRead(offset, size);
        uint value = 0;
        for (int i = 0; i < size && offset + i < ConfigSpaceSize; i++)
        {
            value |= (uint)_config[offset + i] << (8 * i);
        }

        return value;
    }

    /// <summary>Writes through the write mask, then lets the function react to the bytes written.</summary>
    public void WriteConfig(int offset, int size, uint value)
    {
        int count = Math.Min(size, ConfigSpaceSize - offset);
        _powerOn ??= (byte[])_config.Clone();
        for (int i = 0; i < count; i++)
        {
            byte mask = _writeMask[offset + i];
            byte b = (byte)(value >> (8 * i));
            _config[offset + i] = (byte)((_config[offset + i] & ~mask) | (b & mask));
        }

        OnConfigWritten(offset, count);
    }

    /// <summary>
    /// Machine reset: the whole configuration space returns to its power-on values (the
    /// datasheet defaults the constructor set: PAM, PIRQ routing, PM base and enable, BARs,
    /// command register); then <see cref="OnReset"/> lets the function react.
    /// </summary>
    public void Reset()
    {
        if (_powerOn != null)
        {
            _powerOn.CopyTo(_config, 0);
        }

        OnReset();
    }

    /// <summary>The configuration space (QEMU vmstate "PCIDevice": config); a function with more state extends it.</summary>
    public virtual DeviceState SaveState() => new PciConfigState([.. _config]);

    /// <summary>Restores the configuration space, then lets the function re-apply what its registers imply (<see cref="OnRestored"/>).</summary>
    public virtual void RestoreState(DeviceState state) => RestoreConfig(DeviceState.Expect<PciConfigState>(state, this).Config);

    /// <summary>Puts a saved configuration space back and calls <see cref="OnRestored"/>.</summary>
    protected void RestoreConfig(byte[] config)
    {
        if (config.Length != ConfigSpaceSize)
        {
            throw new ArgumentException($"{Name}: a configuration space is {ConfigSpaceSize} bytes, not {config.Length}", nameof(config));
        }

        _powerOn ??= (byte[])_config.Clone();
        config.CopyTo(_config, 0);
        OnRestored();
    }

    /// <summary>Called after a restore: the function re-applies the mappings its registers imply.</summary>
    protected virtual void OnRestored()
    {
    }

    /// <summary>Called after <see cref="Reset"/> restored the configuration space.</summary>
    protected virtual void OnReset()
    {
    }

    /// <summary>Called before bytes [offset, offset + size) are read: a function whose registers there reflect something else refreshes them (QEMU's config_read hook).</summary>
    protected virtual void OnConfigRead(int offset, int size)
    {
    }

    /// <summary>Called after the guest wrote bytes [offset, offset + size).</summary>
    protected virtual void OnConfigWritten(int offset, int size)
    {
    }

    protected static bool Touches(int offset, int size, int register, int registerSize) =>
        offset < register + registerSize && register < offset + size;

    protected byte GetByte(int offset) => _config[offset];

    protected void SetByte(int offset, byte value) => _config[offset] = value;

    protected void SetWord(int offset, ushort value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(offset, 2), value);

    protected uint GetDword(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(offset, 4));

    protected void SetDword(int offset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(offset, 4), value);

    /// <summary>QEMU's subsystem vendor and ID for functions that name none (hw/pci/pci.c pci_set_default_subsystem_id: Red Hat/Qumranet 1AF4:1100).</summary>
    protected void SetDefaultSubsystemId()
    {
        SetWord(SubsystemVendorIdOffset, 0x1AF4);
        SetWord(SubsystemVendorIdOffset + 2, 0x1100);
    }

    /// <summary>Which bits of the byte at <paramref name="offset"/> the guest may change.</summary>
    protected byte GetWriteMask(int offset) => _writeMask[offset];

    /// <summary>Sets which bits of <paramref name="count"/> bytes at <paramref name="offset"/> the guest may change.</summary>
    protected void SetWriteMask(int offset, int count, uint mask)
    {
        for (int i = 0; i < count; i++)
        {
            _writeMask[offset + i] = (byte)(mask >> (8 * i));
        }
    }

    /// <summary>
    /// Declares a 32-bit BAR at <paramref name="offset"/> decoding <paramref name="size"/> bytes (a power
    /// of two); <paramref name="typeBits"/> are the read-only low bits (<see cref="BarIoSpace"/>, ...).
    /// </summary>
    protected void DefineBar(int offset, uint size, uint typeBits)
    {
        if (size == 0 || (size & (size - 1)) != 0)
        {
            throw new ArgumentException("BAR size must be a power of two", nameof(size));
        }

        uint typeMask = (typeBits & BarIoSpace) != 0 ? 0x3u : 0xFu;
        SetDword(offset, typeBits);
        SetWriteMask(offset, 4, ~(size - 1) & ~typeMask);
    }
}

/// <summary>A PCI function's 256-byte configuration space.</summary>
public record PciConfigState(byte[] Config) : DeviceState;
