// One ATA channel (an IDE "bus": device 0 and device 1 on one cable) of the PIIX3 IDE function as
// QEMU 7.2 models it (hw/ide/core.c IDEBus: ide_ioport_read/write, ide_status_read,
// ide_ctrl_write, ide_data_read*/write*, ide_bus_reset; hw/ide/ioport.c for the port widths).
// Addresses: the command block, 8 ports (primary 0x1F0, secondary 0x170); the control block is
// one more port (0x3F6 / 0x376, IdeControlBlock). Interrupt: ISA IRQ 14 / 15 through the
// function's bus-master status (Piix3Ide).
// Emulated: the two device positions (IdeDevice), each with a drive (IdeDrive) or none; register
// writes reach both devices, as on a real cable; reads come from the selected one; with no drive
// on the channel every register and the alternate status read 0, and an absent device 1 reads 0
// in status and error (QEMU's empty-bus answers); commands to an absent device 1 are ignored,
// while device 0 without a drive still runs its state machine (EXECUTE DEVICE DIAGNOSTIC
// succeeds, everything else is aborted, with the interrupt). Register writes other than the
// command are ignored while the selected device is busy or transferring data. Reading the status
// register (not the alternate status) lowers the interrupt, as does writing a command. Device
// control: nIEN masks the interrupt, HOB selects the previous register bytes for reads (any
// command-block write clears it), SRST sets BSY on both devices and resets them when released
// — QEMU completes the reset in a bottom half before the guest's next access, here at once.
// Data port: 16- and 32-bit PIO; a byte read takes a 16-bit read's low byte, a byte write is
// dropped (measured on QEMU 7.2). Other registers: word accesses split into bytes, dword
// accesses read all ones and write nothing (QEMU's portio list).
// Firmware relies on: OVMF's AtaAtapiPassThruDxe (IDE mode) selects each device, issues
// EXECUTE DEVICE DIAGNOSTIC, waits for BSY to clear and reads the signature (all zeros on an
// empty channel means "no device", so it moves on without a timeout), then drives the devices
// it found by PIO and bus-master DMA.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Ide;

/// <summary>The command block of one ATA channel and its two device positions.</summary>
public sealed class IdeChannel : IPortDevice, IDevice, IIdeTransport
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

    /// <summary>Device control bit 2, SRST: both devices are held in reset.</summary>
    public const byte ControlSoftwareReset = 0x04;

    /// <summary>Device control bit 7, HOB: register reads return the previously written bytes.</summary>
    public const byte ControlHighOrderByte = 0x80;

    private readonly IdeDevice[] _devices = new IdeDevice[2];

    /// <param name="name">The channel's device name (ide-primary, ide-secondary).</param>
    /// <param name="firstSerialNumber">QEMU's creation number of device 0 (device 1 has the next): 1 for the primary channel, 3 for the secondary.</param>
    /// <param name="master">The drive at device 0, or null.</param>
    /// <param name="slave">The drive at device 1, or null.</param>
    public IdeChannel(string name, int firstSerialNumber = 1, IdeDrive? master = null, IdeDrive? slave = null)
    {
        Name = name;
        Irq = new OutputLine(name + ".irq");
        _devices[0] = new IdeDevice(this, 0, firstSerialNumber, master);
        _devices[1] = new IdeDevice(this, 1, firstSerialNumber + 1, slave);
    }

    public string Name { get; }

    /// <summary>The channel's interrupt output (INTRQ), set on every raise and on a lowering of a raised line (QEMU ide_set_irq / ide_bus's irq).</summary>
    public OutputLine Irq { get; }

    /// <summary>The bus-master block DMA commands use (the PIIX3 function sets it).</summary>
    public BusMasterChannel? BusMaster { get; internal set; }

    /// <summary>Device 0 and device 1.</summary>
    public IReadOnlyList<IdeDevice> Devices => _devices;

    /// <summary>The device the last device/head write selected: 0 or 1.</summary>
    public int SelectedDevice { get; private set; }

    /// <summary>The device control register as last written, HOB cleared by command-block writes (QEMU keeps one for both devices).</summary>
    public byte DeviceControl { get; private set; }

    public bool InterruptPending => Irq.Level;

    private IdeDevice Selected => _devices[SelectedDevice];

    private bool NoDrives => !_devices[0].Attached && !_devices[1].Attached;

    /// <summary>An absent device 1: reads 0 in status and error, ignores commands.</summary>
    private bool SelectedIsAbsentSlave => SelectedDevice == 1 && !_devices[1].Attached;

    public uint Read(ushort offset, int size)
    {
        if (offset == DataRegister)
        {
            return size == 1 ? Selected.ReadData(2) & 0xFF : Selected.ReadData(size);
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
        if (offset == DataRegister)
        {
            if (size > 1)
            {
                Selected.WriteData(size, value);
            }

            return;
        }

        if (size == 4)
        {
            return;
        }

        WriteRegister(offset, (byte)value);
        if (size == 2 && offset + 1 < CommandBlockPorts)
        {
            WriteRegister(offset + 1, (byte)(value >> 8));
        }
    }

    /// <summary>The alternate status (control block read, QEMU ide_status_read): the selected device's status; the interrupt stays as it is.</summary>
    public byte ReadAlternateStatus() => NoDrives || SelectedIsAbsentSlave ? (byte)0 : Selected.Status;

    /// <summary>
    /// The device control register (control block write, QEMU ide_ctrl_write). Setting SRST
    /// makes both devices busy; QEMU resets them in a bottom half that runs before the guest's
    /// next access, so here they are reset at once and stay busy until SRST is released.
    /// </summary>
    public void WriteDeviceControl(byte value)
    {
        bool resetStarts = (DeviceControl & ControlSoftwareReset) == 0 && (value & ControlSoftwareReset) != 0;
        DeviceControl = value;
        if (resetStarts)
        {
            foreach (var device in _devices)
            {
                device.SetBusy();
            }

            foreach (var device in _devices)
            {
                device.SoftwareReset();
            }

            DeviceControl &= unchecked((byte)~ControlSoftwareReset);
        }
    }

    /// <summary>QEMU ide_set_irq: the interrupt goes out unless nIEN masks it.</summary>
    public void RaiseInterrupt()
    {
        if ((DeviceControl & ControlInterruptDisable) == 0)
        {
            Irq.Set(true);
        }
    }

    void IIdeTransport.StartDma(IdeDevice device) => RequireBusMaster().StartDma(device);

    int IIdeTransport.PrepareBuffer(int limit, List<(ulong Address, int Length)> scatter, out int described) =>
        RequireBusMaster().PrepareBuffer(limit, scatter, out described);

    /// <summary>The PIIX bus master keeps no count of transferred bytes.</summary>
    void IIdeTransport.CommitBuffer(int bytes)
    {
    }

    bool IIdeTransport.CopyBuffer(byte[] buffer, ref int index, int size, bool toMemory) => RequireBusMaster().CopyBuffer(buffer, ref index, size, toMemory);

    void IIdeTransport.ReadMemory(ulong address, Span<byte> destination) => RequireBusMaster().ReadMemory((uint)address, destination);

    void IIdeTransport.WriteMemory(ulong address, ReadOnlySpan<byte> source) => RequireBusMaster().WriteMemory((uint)address, source);

    void IIdeTransport.SetInactive(bool more) => RequireBusMaster().SetInactive(more);

    /// <summary>PIO data goes through the data port.</summary>
    bool IIdeTransport.PioTransfer(IdeDevice device) => false;

    /// <summary>The PIIX has no completion hook (QEMU's bmdma ops have no cmd_done).</summary>
    void IIdeTransport.CommandDone()
    {
    }

    private BusMasterChannel RequireBusMaster() => BusMaster ?? throw new InvalidOperationException($"{Name} has no bus master");

    /// <summary>The selected device, and the other, in QEMU's vmstate "ide_bus" and "ide_drive" records.</summary>
    public DeviceState SaveState() => new IdeChannelState(SelectedDevice, DeviceControl, Irq.Level, [.. _devices.Select(d => d.SaveState())]);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<IdeChannelState>(state, this);
        if (s.Devices.Length != _devices.Length)
        {
            throw new ArgumentException($"{Name} has {_devices.Length} device positions, the record {s.Devices.Length}", nameof(state));
        }

        SelectedDevice = s.SelectedDevice;
        DeviceControl = s.DeviceControl;
        for (int i = 0; i < _devices.Length; i++)
        {
            _devices[i].RestoreState(s.Devices[i]);
        }

        Irq.Restore(s.Interrupt);
    }

    /// <summary>Machine reset (QEMU ide_bus_reset): device 0 selected, device control cleared, both devices reset, interrupt low. The drives stay attached.</summary>
    public void Reset()
    {
        SelectedDevice = 0;
        DeviceControl = 0;
        foreach (var device in _devices)
        {
            device.Reset();
        }

        LowerInterrupt();
    }

    private uint ReadRegister(int register)
    {
        bool hob = (DeviceControl & ControlHighOrderByte) != 0;
        uint value;
        if (NoDrives)
        {
            value = 0;
        }
        else if (register is FeaturesRegister or CommandRegister && SelectedIsAbsentSlave)
        {
            value = 0;
        }
        else
        {
            value = Selected.ReadTaskFile(register, hob);
        }

        if (register == CommandRegister)
        {
            LowerInterrupt();
        }

        return value;
    }

    private void WriteRegister(int register, byte value)
    {
        if (register != CommandRegister && (Selected.Status & (IdeDevice.StatusBusy | IdeDevice.StatusDataRequest)) != 0)
        {
            return;
        }

        DeviceControl &= unchecked((byte)~ControlHighOrderByte);
        if (register == CommandRegister)
        {
            LowerInterrupt();
            if (!SelectedIsAbsentSlave)
            {
                Selected.ExecuteCommand(value);
            }

            return;
        }

        foreach (var device in _devices)
        {
            device.WriteTaskFile(register, value);
        }

        if (register == DeviceRegister)
        {
            SelectedDevice = (value & DeviceSelect1) != 0 ? 1 : 0;
        }
    }

    private void LowerInterrupt()
    {
        if (InterruptPending)
        {
            Irq.Set(false);
        }
    }
}

/// <summary>An IDE channel: the selected device (0 or 1), the device control register, the interrupt level and both device positions.</summary>
public sealed record IdeChannelState(int SelectedDevice, byte DeviceControl, bool Interrupt, IdeDeviceState[] Devices) : DeviceState;
