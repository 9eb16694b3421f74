// One ATA channel (an IDE "bus": task-file registers shared by device 0 and device 1) of the
// PIIX3 IDE function as QEMU 7.2 models it (hw/ide/core.c, hw/ide/ioport.c), with no drives.
// Addresses: the command block, 8 ports (primary 0x1F0, secondary 0x170); the control block is
// one more port (0x3F6 / 0x376, IdeControlBlock). Interrupt: ISA IRQ 14 / 15 through the
// function's bus-master status (Piix3Ide).
// Emulated: the task file a guest writes (features, sector count, LBA low/mid/high, device/head
// with bit 4 selecting device 1), stored for both devices as on a real cable; device control
// (nIEN, SRST, HOB); what a channel without drives answers: every task-file and status read,
// including the alternate status, returns 0 (QEMU ide_ioport_read / ide_status_read when
// neither device has a block backend), and the data port reads 0 and ignores writes (no DRQ).
// QEMU's device 0 of an empty channel is still a state machine without a disk: a command
// written to it completes at once (EXECUTE DEVICE DIAGNOSTIC succeeds, everything else is
// aborted) and raises the channel interrupt unless nIEN is set; a command to the absent device
// 1 is ignored (ide_exec_cmd). Reading the status register (not the alternate status) lowers
// the interrupt. SRST completes at once: QEMU finishes it in a bottom half before the guest's
// next access, and with no drive its registers read 0 either way.
// Not emulated: drives (ATA disks, ATAPI CD-ROMs) — the task file kept here is what a drive
// attached to a channel will take its command parameters from; 48-bit HOB read-back only
// matters with a drive, as reads return 0 without one.
// Firmware relies on: OVMF's AtaAtapiPassThruDxe (IDE mode) selects each device, issues
// EXECUTE DEVICE DIAGNOSTIC, waits for BSY to clear and reads the signature from sector count
// and LBA registers; all zeros means "no device", so it moves on without a timeout.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Ide;

/// <summary>The command block of one ATA channel with no drives attached.</summary>
public sealed class IdeChannel : IPortDevice, IDevice
{
    public const int CommandBlockPorts = 8;
    public const int DataRegister = 0;
    public const int FeaturesRegister = 1;
    public const int SectorCountRegister = 2;
    public const int LbaLowRegister = 3;
    public const int LbaMidRegister = 4;
    public const int LbaHighRegister = 5;
    public const int DeviceRegister = 6;
    public const int CommandRegister = 7;

    /// <summary>Device/head bit 4: the command addresses device 1.</summary>
    public const byte DeviceSelect1 = 0x10;

    /// <summary>Device/head bits 5 and 7 are obsolete and always read 1 on QEMU (ATA_DEV_ALWAYS_ON).</summary>
    public const byte DeviceAlwaysOn = 0xA0;

    /// <summary>Device control bit 1, nIEN: the channel does not raise its interrupt.</summary>
    public const byte ControlInterruptDisable = 0x02;

    private readonly byte[] _taskFile = new byte[CommandBlockPorts];

    public IdeChannel(string name)
    {
        Name = name;
        Irq = new OutputLine(name + ".irq");
    }

    public string Name { get; }

    /// <summary>The channel's interrupt output (INTRQ), set on every raise and on a lowering of a raised line (QEMU ide_set_irq / ide_bus's irq).</summary>
    public OutputLine Irq { get; }

    /// <summary>The device the last device/head write selected: 0 or 1.</summary>
    public int SelectedDevice { get; private set; }

    /// <summary>The device control register as last written (QEMU keeps one for both devices).</summary>
    public byte DeviceControl { get; private set; }

    public bool InterruptPending => Irq.Level;

    /// <summary>The task-file byte last written to <paramref name="register"/> (1–6); a drive's command parameters.</summary>
    public byte TaskFile(int register) => _taskFile[register];

    public uint Read(ushort offset, int size)
    {
        if (offset == DataRegister && size > 1)
        {
            return 0;
        }

        if (size == 4)
        {
            return uint.MaxValue;
        }

        uint value = ReadRegister(offset);
        if (size == 2)
        {
            value |= offset + 1 < CommandBlockPorts ? ReadRegister(offset + 1) << 8 : 0xFF00u;
        }

        return value;
    }

    public void Write(ushort offset, int size, uint value)
    {
        if (offset == DataRegister || size == 4)
        {
            return;
        }

        WriteRegister(offset, (byte)value);
        if (size == 2 && offset + 1 < CommandBlockPorts)
        {
            WriteRegister(offset + 1, (byte)(value >> 8));
        }
    }

    /// <summary>The task file, selected device, device control and interrupt level (QEMU vmstate "ide_bus" and "ide_drive" parts a drive-less channel has).</summary>
    public DeviceState SaveState() => new IdeChannelState([.. _taskFile], SelectedDevice, DeviceControl, Irq.Level);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<IdeChannelState>(state, this);
        s.TaskFile.CopyTo(_taskFile, 0);
        SelectedDevice = s.SelectedDevice;
        DeviceControl = s.DeviceControl;
        Irq.Restore(s.Interrupt);
    }

    /// <summary>The alternate status (control block read): 0 with no drives; the interrupt stays as it is.</summary>
    public byte ReadAlternateStatus() => 0;

    /// <summary>
    /// The device control register (control block write). Setting SRST resets both devices;
    /// without drives that leaves nothing a guest can read, so it finishes at once.
    /// </summary>
    public void WriteDeviceControl(byte value)
    {
        DeviceControl = value;
    }

    /// <summary>Machine reset (QEMU ide_bus_reset): device 0 selected, device control and task file cleared, interrupt low.</summary>
    public void Reset()
    {
        SelectedDevice = 0;
        DeviceControl = 0;
        Array.Clear(_taskFile);
        SetInterrupt(false);
    }

    private uint ReadRegister(int register)
    {
        if (register == CommandRegister)
        {
            SetInterrupt(false);
        }

        return 0;
    }

    private void WriteRegister(int register, byte value)
    {
        switch (register)
        {
            case DataRegister:
                break;
            case DeviceRegister:
                _taskFile[DeviceRegister] = (byte)(value | DeviceAlwaysOn);
                SelectedDevice = (value & DeviceSelect1) != 0 ? 1 : 0;
                break;
            case CommandRegister:
                ExecuteCommand();
                break;
            default:
                _taskFile[register] = value;
                break;
        }
    }

    /// <summary>
    /// Device 0 of an empty channel finishes every command at once and interrupts (QEMU
    /// ide_exec_cmd → ide_set_irq); device 1 does not exist and ignores it.
    /// </summary>
    private void ExecuteCommand()
    {
        if (SelectedDevice != 0)
        {
            return;
        }

        if ((DeviceControl & ControlInterruptDisable) == 0)
        {
            SetInterrupt(true);
        }
    }

    private void SetInterrupt(bool level)
    {
        if (level == InterruptPending && !level)
        {
            return;
        }

        Irq.Set(level);
    }
}

/// <summary>An IDE channel's task-file bytes, selected device (0 or 1), device control register and interrupt level.</summary>
public sealed record IdeChannelState(byte[] TaskFile, int SelectedDevice, byte DeviceControl, bool Interrupt) : DeviceState;
