// PCI configuration mechanism #1 (PCI Local Bus Specification 3.0 §3.2.2.3.2), as the i440FX
// implements it and as QEMU's pci_host.c exposes it.
// Addresses: I/O ports 0xCF8–0xCFB (CONFIG_ADDRESS) and 0xCFC–0xCFF (CONFIG_DATA), one 8-port range.
// Emulated: the 32-bit address register (enable bit 31, bus 23–16, device 15–11, function 10–8,
// register 7–2); data accesses of 1, 2 or 4 bytes at byte (address & 3) of the selected dword;
// bus 0 only; functions that are not attached, other buses, or a cleared enable bit read
// all-ones and ignore writes.
// Byte accesses to 0xCF9 go to the PIIX3 reset control register when the machine attached one
// (QEMU overlays it there); other byte accesses to 0xCF8–0xCFB are not address-register
// accesses: reads return the matching byte of the address register, writes are ignored.
// Not emulated: configuration mechanism #2, bridges to other buses.
// Firmware relies on: absent functions reading 0xFFFFFFFF (enumeration), 8/16/32-bit data access.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Pci;

/// <summary>The host side of configuration mechanism #1: routes 0xCFC accesses to attached functions on bus 0.</summary>
public sealed class PciHost : IPortDevice, IDevice
{
    public const ushort BasePort = 0xCF8;
    public const int PortCount = 8;
    public const ushort AddressOffset = 0;
    public const ushort DataOffset = 4;
    public const ushort ResetControlOffset = 1;
    public const uint AddressEnable = 0x8000_0000;
    public const int MaxDevices = 32;
    public const int MaxFunctions = 8;

    private const int BusShift = 16;
    private const int DeviceShift = 11;
    private const int FunctionShift = 8;
    private const uint RegisterMask = 0xFC;

    private readonly PciFunction?[] _functions = new PciFunction?[MaxDevices * MaxFunctions];
    private uint _address;

    public string Name => "pci-host";

    /// <summary>The register that answers byte accesses to 0xCF9 (the PIIX3 RCR), if any.</summary>
    public IPortDevice? ResetControl { get; set; }

    /// <summary>The current CONFIG_ADDRESS value.</summary>
    public uint Address => _address;

    public void Attach(int device, int function, PciFunction pciFunction)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(device, MaxDevices);
        ArgumentOutOfRangeException.ThrowIfNegative(function);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(function, MaxFunctions);
        int slot = (device * MaxFunctions) + function;
        if (_functions[slot] is { } existing)
        {
            throw new ArgumentException($"PCI 00:{device:X2}.{function} is already {existing.Name}");
        }

        _functions[slot] = pciFunction;
    }

    public PciFunction? FunctionAt(int device, int function) => _functions[(device * MaxFunctions) + function];

    /// <summary>
    /// Machine reset: CONFIG_ADDRESS keeps its value, as it always has here (the firmware writes
    /// it before each configuration access); the functions are devices of their own.
    /// </summary>
    public void Reset()
    {
    }

    public DeviceState SaveState() => new PciHostState(_address);

    public void RestoreState(DeviceState state) => _address = DeviceState.Expect<PciHostState>(state, this).Address;

    public uint Read(ushort offset, int size)
    {
        if (offset == ResetControlOffset && size == 1 && ResetControl != null)
        {
            return ResetControl.Read(0, 1);
        }

        if (offset < DataOffset)
        {
            return (_address >> (8 * offset)) & SizeMask(size);
        }

        var target = Selected();
        if (target == null)
        {
            return SizeMask(size);
        }

        int register = (int)(_address & RegisterMask) + (offset - DataOffset);
        return target.ReadConfig(register, size);
    }

    public void Write(ushort offset, int size, uint value)
    {
        if (offset == ResetControlOffset && size == 1 && ResetControl != null)
        {
            ResetControl.Write(0, 1, value);
            return;
        }

        if (offset < DataOffset)
        {
            if (offset == AddressOffset && size == 4)
            {
                _address = value;
            }

            return;
        }

        int register = (int)(_address & RegisterMask) + (offset - DataOffset);
        Selected()?.WriteConfig(register, size, value);
    }

    private PciFunction? Selected()
    {
        if ((_address & AddressEnable) == 0 || ((_address >> BusShift) & 0xFF) != 0)
        {
            return null;
        }

        int device = (int)((_address >> DeviceShift) & (MaxDevices - 1));
        int function = (int)((_address >> FunctionShift) & (MaxFunctions - 1));
        return FunctionAt(device, function);
    }

    private static uint SizeMask(int size) => size >= 4 ? uint.MaxValue : (1u << (8 * size)) - 1;
}

/// <summary>CONFIG_ADDRESS (QEMU vmstate "PCIHost": config_reg).</summary>
public sealed record PciHostState(uint Address) : DeviceState;
