// The ICH9 SMI control and status registers at PMBASE + 0x30 as QEMU 7.2 models them
// (hw/acpi/ich9.c ich9_smi_ops, ich9_pm_ioport_read/write, pm_reset; bits in
// include/hw/i386/ich9.h): an 8-port region inside the PM block.
// Emulated: SMI_EN (+0, 32 bits) stores what the write mask lets through; SMI_STS (+4) reads 0
// and ignores writes; every other access in the region reads 0. Only 4-byte accesses are valid
// (valid.min = valid.max = 4: narrower ones are refused). Reset: SMI_EN 0 — or APMC_EN when SMM
// is off, QEMU's way of telling the firmware SMM is unusable — and the write mask all-ones.
// GEN_PMCON_1.SMI_LOCK in the LPC bridge freezes bit 0 (GBL_SMI_EN) until reset
// (<see cref="LockGlobalSmiEnable"/>).
// Not emulated: TCO_LOCK freezing bit 13 (the board has no TCO block), any SMI source other than
// APMC (the APM port asks <see cref="ApmcEnabled"/>).
// Firmware relies on: SmmControl2Dxe (SMM builds) reads APMC_EN = 0, sets APMC_EN | GBL_SMI_EN,
// sets SMI_LOCK and checks that clearing GBL_SMI_EN does not stick; with APMC_EN preset it
// stops (the q35,smm=off signal).
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.Q35;

/// <summary>SMI_EN and SMI_STS of the ICH9 PM block.</summary>
public sealed class Ich9SmiControl(bool smmEnabled) : IPortDevice, IDevice
{
    /// <summary>The registers' offset in the PM block (ICH9_PMIO_SMI_EN).</summary>
    public const ushort BlockOffset = 0x30;
    public const int PortCount = 8;
    public const ushort StatusOffset = 4;
    public const uint GlobalSmiEnable = 0x1;
    public const uint ApmcEnable = 0x20;

    private uint _enable = smmEnabled ? 0 : ApmcEnable;
    private uint _writeMask = uint.MaxValue;

    public string Name => "ich9-smi";

    /// <summary>ich9_smi_ops: 4-byte accesses only.</summary>
    public AccessSizes Sizes => new(4, 4, 4, 4);

    public uint SmiEnable => _enable;

    /// <summary>Whether APM control port writes raise an SMI (ich9_apm_ctrl_changed).</summary>
    public bool ApmcEnabled => (_enable & ApmcEnable) != 0;

    /// <summary>GEN_PMCON_1.SMI_LOCK was set: GBL_SMI_EN keeps its value until reset.</summary>
    public void LockGlobalSmiEnable() => _writeMask &= ~GlobalSmiEnable;

    /// <summary>pm_reset's SMI part.</summary>
    public void Reset()
    {
        _enable = smmEnabled ? 0 : ApmcEnable;
        _writeMask = uint.MaxValue;
    }

    public DeviceState SaveState() => new Ich9SmiState(_enable, _writeMask);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<Ich9SmiState>(state, this);
        _enable = s.Enable;
        _writeMask = s.WriteMask;
    }

    public uint Read(ushort offset, int size) => offset == 0 ? _enable : 0;

    public void Write(ushort offset, int size, uint value)
    {
        if (offset == 0)
        {
            _enable = (_enable & ~_writeMask) | (value & _writeMask);
        }
    }
}

/// <summary>SMI_EN and its write mask (QEMU vmstate "ich9_pm": smi_en, smi_en_wmask; SMI_STS always reads 0).</summary>
public sealed record Ich9SmiState(uint Enable, uint WriteMask) : DeviceState;
