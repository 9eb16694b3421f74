// Advanced Power Management control and status ports (APMC 0xB2, APMS 0xB3) as QEMU's pc
// machine has them (hw/isa/apm.c, hw/acpi/piix4.c apm_ctrl_changed; Intel 82371AB PIIX4
// datasheet §7.2.2 "APM Control").
// Emulated: both ports store what is written and read it back; a write to the control port
// switches ACPI mode the way the FADT's SMI_CMD / ACPI_ENABLE / ACPI_DISABLE promise an OS
// (ACPI 6.4 §4.8.2.1): 0xF1 sets SCI_EN in PM1 control, 0xF0 clears it (QEMU
// acpi_pm1_cnt_update).
// On the q35 board the ICH9 LPC owns the same two ports (QEMU hw/isa/lpc_ich9.c
// ich9_apm_ctrl_changed): 0x02/0x03 set/clear SCI_EN, and every other value is handed to the
// board's command handler, which raises an SMI when SMI_EN.APMC_EN is set.
// Not emulated: the SMI PIIX4 raises on QEMU's pc when SMM is enabled (that board has no handler).
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

    /// <summary>ICH9's ACPI_ENABLE and ACPI_DISABLE (QEMU include/hw/i386/ich9.h ICH9_APM_ACPI_ENABLE/DISABLE).</summary>
    public const byte Ich9AcpiEnable = 0x02;
    public const byte Ich9AcpiDisable = 0x03;

    private readonly PmIoBlock _pm;
    private readonly byte _acpiEnable;
    private readonly byte _acpiDisable;
    private readonly Action<byte>? _command;
    private byte _control;
    private byte _status;

    /// <param name="pm">The PM block whose SCI_EN ACPI_ENABLE/ACPI_DISABLE switch.</param>
    /// <param name="acpiEnable">The value that sets SCI_EN (PIIX4 0xF1, ICH9 0x02).</param>
    /// <param name="acpiDisable">The value that clears it (PIIX4 0xF0, ICH9 0x03).</param>
    /// <param name="command">Told of every other value written to the control port (ICH9: the SMI source).</param>
    public ApmControl(PmIoBlock pm, byte acpiEnable = AcpiEnable, byte acpiDisable = AcpiDisable, Action<byte>? command = null)
    {
        _pm = pm;
        _acpiEnable = acpiEnable;
        _acpiDisable = acpiDisable;
        _command = command;
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
            if (_control == _acpiEnable || _control == _acpiDisable)
            {
                _pm.SetSciEnable(_control == _acpiEnable);
            }
            else
            {
                _command?.Invoke(_control);
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
