// QEMU's GPE0 register block of the PIIX4 PM function (hw/acpi/piix4.c GPE_BASE 0xafe0,
// GPE_LEN 4, region "acpi-gpe0"; registers in hw/acpi/core.c acpi_gpe_ioport_readb/writeb): a
// fixed I/O port range, mapped at machine creation and independent of the PM function's PMBA
// window and its I/O-space enable (PCI 00:01.3 register 0x80). It is not where the PIIX4
// datasheet puts GPSTS/GPEN (inside the PM block); the FADT's GPE0_BLK points here.
// Emulated: +0..+1 GPE0 status (write-1-to-clear per byte), +2..+3 GPE0 enable (stored per
// byte); wider accesses arrive byte by byte: the block declares QEMU piix4_gpe_ops' sizes
// (valid 1–4, impl 1), and the port bus splits them as QEMU's memory core does. The SCI
// contribution is status & enable of the first byte only, as QEMU's acpi_update_sci evaluates
// gpe.sts[0] & gpe.en[0].
// The ICH9 PM block of the q35 board holds a 16-byte GPE0 of the same kind at PMBASE + 0x20
// (QEMU hw/acpi/ich9.c: acpi_gpe_init(ICH9_PMIO_GPE0_LEN), ich9_gpe_ops valid 1–4, impl 1):
// status bytes +0..+7, enable bytes +8..+15; the length is a constructor argument.
// Not emulated: any event source setting a status bit (QEMU's PCI/CPU/memory hotplug GPEs).
// Firmware relies on: nothing (OVMF never touches GPE0); OS ACPI drivers clear and enable it.
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.AcpiPm;

/// <summary>A GPE0 status/enable block: PIIX4's 4 ports at 0xAFE0, or ICH9's 16 inside the PM block.</summary>
public sealed class Gpe0Block : IPortDevice, IDevice
{
    /// <summary>Where the pc board maps PIIX4's block (QEMU GPE_BASE).</summary>
    public const ushort BasePort = 0xAFE0;

    /// <summary>PIIX4's block length (QEMU GPE_LEN).</summary>
    public const int PortCount = 4;
    public const ushort StatusOffset = 0;

    /// <summary>The enable bytes' offset in PIIX4's block.</summary>
    public const ushort EnableOffset = PortCount / 2;

    private readonly byte[] _status;
    private readonly byte[] _enable;

    /// <param name="length">Ports in the block: half status bytes, half enable bytes (QEMU acpi_gpe_init's len).</param>
    public Gpe0Block(int length = PortCount)
    {
        Length = length;
        _status = new byte[length / 2];
        _enable = new byte[length / 2];
    }

    /// <summary>Ports in the block.</summary>
    public int Length { get; }

    public string Name => "acpi-gpe0";

    /// <summary>QEMU piix4_gpe_ops: valid 1–4 bytes, handlers of 1 byte (gpe_readb/gpe_writeb).</summary>
    public AccessSizes Sizes => new(1, 4, 1, 1);

    /// <summary>Raised after every write: the SCI level may have changed.</summary>
    public event Action? Changed;

    /// <summary>Whether GPE0 asserts the SCI (QEMU acpi_update_sci: the first status byte masked by the first enable byte).</summary>
    public bool SciPending => (_status[0] & _enable[0]) != 0;

    /// <summary>Machine reset (QEMU acpi_gpe_reset): status and enable cleared.</summary>
    public void Reset()
    {
        Array.Clear(_status);
        Array.Clear(_enable);
    }

    public DeviceState SaveState() => new Gpe0State([.. _status], [.. _enable]);

    /// <summary>Restores both registers; the PM block that owns them restores the SCI level it recorded.</summary>
    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<Gpe0State>(state, this);
        s.Status.CopyTo(_status, 0);
        s.Enable.CopyTo(_enable, 0);
    }

    /// <summary>One byte (the bus splits wider accesses).</summary>
    public uint Read(ushort offset, int size) => offset < _status.Length ? _status[offset] : _enable[offset - _status.Length];

    /// <summary>One byte: status bits written as 1 clear, enable bytes are stored.</summary>
    public void Write(ushort offset, int size, uint value)
    {
        if (offset < _status.Length)
        {
            _status[offset] &= (byte)~value;
        }
        else
        {
            _enable[offset - _status.Length] = (byte)value;
        }

        Changed?.Invoke();
    }
}

/// <summary>The GPE0 status and enable bytes (QEMU vmstate "gpe": sts, en).</summary>
public sealed record Gpe0State(byte[] Status, byte[] Enable) : DeviceState;
