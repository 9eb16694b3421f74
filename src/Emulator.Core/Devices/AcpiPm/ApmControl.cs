// Advanced Power Management control and status ports (APMC 0xB2, APMS 0xB3) as QEMU's pc
// machine has them (hw/isa/apm.c, hw/acpi/piix4.c apm_ctrl_changed; Intel 82371AB PIIX4
// datasheet §7.2.2 "APM Control").
// Emulated: both ports store what is written and read it back; a write to the control port
// switches ACPI mode the way the FADT's SMI_CMD / ACPI_ENABLE / ACPI_DISABLE promise an OS
// (ACPI 6.4 §4.8.2.1): 0xF1 sets SCI_EN in PM1 control, 0xF0 clears it (QEMU
// acpi_pm1_cnt_update).
// Not emulated: the SMI other values raise on QEMU when SMM is enabled (this machine has no SMM).
// Firmware relies on: nothing during boot (OVMF without SMM never writes 0xB2); an ACPI OS
// writes ACPI_ENABLE here and waits for SCI_EN before using the SCI.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.AcpiPm;

/// <summary>The APM control (0xB2) and status (0xB3) ports.</summary>
public sealed class ApmControl : IPortDevice, IDevice
{
    public const ushort BasePort = 0xB2;
    public const int PortCount = 2;

    /// <summary>The values QEMU's PIIX4 answers as ACPI_ENABLE and ACPI_DISABLE (and publishes in the FADT).</summary>
    public const byte AcpiEnable = 0xF1;
    public const byte AcpiDisable = 0xF0;

    private readonly PmIoBlock _pm;
    private byte _control;
    private byte _status;

    public ApmControl(PmIoBlock pm)
    {
        _pm = pm;
    }

    public string Name => "apm";

    /// <summary>Machine reset: nothing changes — QEMU's APM ports (hw/isa/apm.c) have no reset handler, so both keep their values.</summary>
    public void Reset()
    {
    }

    public DeviceState SaveState() => new ApmState(_control, _status);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<ApmState>(state, this);
        _control = s.Control;
        _status = s.Status;
    }

    public uint Read(ushort offset, int size) => offset == 0 ? _control : _status;

    public void Write(ushort offset, int size, uint value)
    {
        if (offset == 0)
        {
            _control = (byte)value;
            if (_control == AcpiEnable || _control == AcpiDisable)
            {
                _pm.SetSciEnable(_control == AcpiEnable);
            }
        }
        else
        {
            _status = (byte)value;
        }
    }
}

/// <summary>The APM control and status bytes (QEMU vmstate "APM State": apmc, apms).</summary>
public sealed record ApmState(byte Control, byte Status) : DeviceState;
