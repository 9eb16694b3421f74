// The ICH9 SMBus controller's PCI function as QEMU 7.2 builds it on the q35 board
// (hw/i2c/smbus_ich9.c ich9_smbus_realize, ich9_smbus_write_config): PCI 00:1f.3, vendor 8086
// device 2930, revision 2, class 0C/05/00, interrupt pin INTA.
// Emulated: identification (header type with the multifunction bit, subsystem 1AF4:1100, as
// QEMU builds it); BAR4 (0x20), 64 bytes of I/O for the SMBus host registers (QEMU's
// "pm-smbus" region, hw/i2c/pm_smbus.c); HOSTC
// (0x40) bit 0 (HST_EN) with bit 2 (I2C_EN) clear switches the host registers on, as QEMU
// enables its "pm-smbus" region only then; the machine maps them where BAR4 points while the
// command register's I/O enable is set too. The host registers read as an idle controller
// with no devices behind it (every register 0: no transaction in progress, none finished) and
// ignore writes.
// Not emulated: SMBus transactions (QEMU's pm_smbus state machine; with -nodefaults no device
// sits on the bus), the SMI/interrupt on completion.
// Firmware relies on: nothing (OVMF enumerates the function and sizes BAR4; no driver uses it).
using Emulator.Core.Devices.Pci;
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Q35;

/// <summary>PCI 00:1f.3, the ICH9 SMBus controller.</summary>
public sealed class Ich9Smbus : PciFunction
{
    public const int FunctionNumber = 3;
    public const ushort DeviceId = 0x2930;
    public const byte Revision = 2;
    public const uint ClassSmbus = 0x0C0500;
    public const int BaseBarOffset = 0x20;
    public const uint IoSize = 64;
    public const int HostConfigOffset = 0x40;
    public const byte HostEnable = 0x01;
    public const byte I2cEnable = 0x04;

    private const uint LastPort = 0xFFFF;

    private (bool Enabled, ushort Base) _io;

    public Ich9Smbus()
        : base("ich9-smbus", I440fxHostBridge.VendorIntel, DeviceId, Revision, ClassSmbus, HeaderTypeMultiFunction)
    {
        SetByte(InterruptPinOffset, 1);
        SetDefaultSubsystemId();
        DefineBar(BaseBarOffset, IoSize, BarIoSpace);
    }

    /// <summary>Raised when the decoded host-register window changes: (enabled, base), 64 ports.</summary>
    public event Action<bool, ushort>? IoChanged;

    /// <summary>The host registers: an idle controller.</summary>
    public IPortDevice HostRegisters { get; } = new IdleSmbusHost();

    protected override void OnReset() => UpdateIo();

    protected override void OnRestored() => UpdateIo(announce: true);

    protected override void OnConfigWritten(int offset, int size)
    {
        if (Touches(offset, size, CommandOffset, 2) || Touches(offset, size, BaseBarOffset, 4) || Touches(offset, size, HostConfigOffset, 1))
        {
            UpdateIo();
        }
    }

    private void UpdateIo(bool announce = false)
    {
        byte hostc = GetByte(HostConfigOffset);
        uint bar = GetDword(BaseBarOffset) & ~(IoSize - 1);
        bool on = (hostc & HostEnable) != 0 && (hostc & I2cEnable) == 0 && (GetByte(CommandOffset) & CommandIoSpace) != 0
            && bar != 0 && bar + IoSize - 1 <= LastPort;
        var io = (on, (ushort)bar);
        if (announce || io != _io)
        {
            _io = io;
            IoChanged?.Invoke(io.Item1, io.Item2);
        }
    }

    /// <summary>SMBus host registers with nothing in progress and nothing on the bus.</summary>
    private sealed class IdleSmbusHost : IPortDevice
    {
        public string Name => "ich9-smbus-host";

        public uint Read(ushort offset, int size) => 0;

        public void Write(ushort offset, int size, uint value)
        {
        }
    }
}
