// What an AHCI port saves and restores (QEMU 7.2 hw/ide/ahci.c vmstate "ahci port"): its
// registers, where its command engine stands and its drive's IDE record.
using Emulator.Core.Devices.Ide;

namespace Emulator.Core.Devices.Q35;

/// <summary>One port's registers, its command engine's position and its drive (QEMU vmstate "ahci port").</summary>
public sealed record AhciPortState
{
    public uint CommandListBase { get; set; }

    public uint CommandListBaseHigh { get; set; }

    public uint FisBase { get; set; }

    public uint FisBaseHigh { get; set; }

    public uint InterruptStatus { get; set; }

    public uint InterruptEnable { get; set; }

    public uint Command { get; set; }

    public uint TaskFile { get; set; }

    public uint Signature { get; set; }

    public uint SataControl { get; set; }

    public uint SataError { get; set; }

    public uint SataActive { get; set; }

    public uint CommandIssue { get; set; }

    public bool InitialFisSent { get; set; }

    /// <summary>QEMU port_state: a device-control FIS set SRST and its release resets the port.</summary>
    public bool Resetting { get; set; }

    /// <summary>QEMU busy_slot: the slot of a command still running, or -1.</summary>
    public int BusySlot { get; set; } = -1;

    /// <summary>QEMU cur_cmd: the slot whose header the running command uses.</summary>
    public int CurrentSlot { get; set; }

    /// <summary>QEMU done_first_drq: the ATAPI packet (or the first block written) has gone by.</summary>
    public bool DoneFirstDrq { get; set; }

    /// <summary>QEMU io_buffer_offset: the bytes of the current command moved through the PRDT.</summary>
    public long IoBufferOffset { get; set; }

    /// <summary>QEMU finished: the queued tags completed since the last set-device-bits FIS.</summary>
    public uint Finished { get; set; }

    /// <summary>The IDE device's registers and transfer state (null: no drive on the port).</summary>
    public IdeDeviceState? Device { get; set; }
}
