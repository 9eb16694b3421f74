// The ATA command set of an IDE device position, as QEMU 7.2's ide_cmd_table (hw/ide/core.c, ACS-2
// Table B.2) has it: which commands a hard disk and a CD-ROM take, what each does, and the
// completion QEMU's ide_exec_cmd gives them. The CF-ATA commands (permitted only for QEMU's
// microdrive) are absent and so aborted, as QEMU aborts them for a disk or CD-ROM.
namespace Emulator.Core.Devices.Ide;

public sealed partial class IdeDevice
{
    /// <summary>ATA command codes a guest of the PIIX3 channels uses or that the table names.</summary>
    public static class Command
    {
        public const byte DataSetManagement = 0x06;
        public const byte DeviceReset = 0x08;
        public const byte Recalibrate = 0x10;
        public const byte ReadSectors = 0x20;
        public const byte ReadSectorsNoRetry = 0x21;
        public const byte ReadSectorsExt = 0x24;
        public const byte ReadDmaExt = 0x25;
        public const byte ReadNativeMaxExt = 0x27;
        public const byte ReadMultipleExt = 0x29;
        public const byte WriteSectors = 0x30;
        public const byte WriteSectorsNoRetry = 0x31;
        public const byte WriteSectorsExt = 0x34;
        public const byte WriteDmaExt = 0x35;
        public const byte WriteMultipleExt = 0x39;
        public const byte WriteVerify = 0x3C;
        public const byte ReadVerify = 0x40;
        public const byte ReadVerifyNoRetry = 0x41;
        public const byte ReadVerifyExt = 0x42;
        public const byte Seek = 0x70;
        public const byte ExecuteDeviceDiagnostic = 0x90;
        public const byte InitializeDeviceParameters = 0x91;
        public const byte StandbyImmediateOld = 0x94;
        public const byte IdleImmediateOld = 0x95;
        public const byte StandbyOld = 0x96;
        public const byte IdleOld = 0x97;
        public const byte CheckPowerModeOld = 0x98;
        public const byte SleepOld = 0x99;
        public const byte Packet = 0xA0;
        public const byte IdentifyPacketDevice = 0xA1;
        public const byte Smart = 0xB0;
        public const byte ReadMultiple = 0xC4;
        public const byte WriteMultiple = 0xC5;
        public const byte SetMultipleMode = 0xC6;
        public const byte ReadDma = 0xC8;
        public const byte ReadDmaNoRetry = 0xC9;
        public const byte WriteDma = 0xCA;
        public const byte WriteDmaNoRetry = 0xCB;
        public const byte StandbyImmediate = 0xE0;
        public const byte IdleImmediate = 0xE1;
        public const byte Standby = 0xE2;
        public const byte Idle = 0xE3;
        public const byte CheckPowerMode = 0xE5;
        public const byte Sleep = 0xE6;
        public const byte FlushCache = 0xE7;
        public const byte FlushCacheExt = 0xEA;
        public const byte IdentifyDevice = 0xEC;
        public const byte SetFeatures = 0xEF;
        public const byte SecurityFreezeLock = 0xF5;
        public const byte ReadNativeMax = 0xF8;
    }

    [Flags]
    private enum CommandFlags
    {
        None = 0,
        Disk = 1,
        CdRom = 2,
        All = Disk | CdRom,

        /// <summary>QEMU SET_DSC: a completion without error sets DSC.</summary>
        SetSeekComplete = 4,
    }

    /// <summary>A handler returns true when ide_exec_cmd completes the command (BSY off, interrupt); false when the handler did that itself or a data phase follows.</summary>
    private readonly record struct CommandEntry(Func<IdeDevice, byte, bool> Handler, CommandFlags Flags);

    private static readonly CommandEntry?[] Commands = BuildCommandTable();

    private static CommandEntry?[] BuildCommandTable()
    {
        var t = new CommandEntry?[256];
        const CommandFlags disk = CommandFlags.Disk, dsc = CommandFlags.SetSeekComplete;
        Func<IdeDevice, byte, bool> nop = static (_, _) => true;
        t[Command.DataSetManagement] = new(static (d, _) => d.DataSetManagement(), disk);
        t[Command.DeviceReset] = new(static (d, _) => d.DeviceResetCommand(), CommandFlags.CdRom);
        t[Command.Recalibrate] = new(nop, disk | dsc);
        t[Command.ReadSectors] = new(static (d, c) => d.ReadPio(c), CommandFlags.All);
        t[Command.ReadSectorsNoRetry] = new(static (d, c) => d.ReadPio(c), disk);
        t[Command.ReadSectorsExt] = new(static (d, c) => d.ReadPio(c), disk);
        t[Command.ReadDmaExt] = new(static (d, c) => d.ReadDma(c), disk);
        t[Command.ReadNativeMaxExt] = new(static (d, c) => d.ReadNativeMax(c), disk | dsc);
        t[Command.ReadMultipleExt] = new(static (d, c) => d.ReadMultiple(c), disk);
        t[Command.WriteSectors] = new(static (d, c) => d.WritePio(c), disk);
        t[Command.WriteSectorsNoRetry] = new(static (d, c) => d.WritePio(c), disk);
        t[Command.WriteSectorsExt] = new(static (d, c) => d.WritePio(c), disk);
        t[Command.WriteDmaExt] = new(static (d, c) => d.WriteDma(c), disk);
        t[Command.WriteMultipleExt] = new(static (d, c) => d.WriteMultiple(c), disk);
        t[Command.WriteVerify] = new(static (d, c) => d.WritePio(c), disk);
        t[Command.ReadVerify] = new(static (d, c) => d.Verify(c), disk | dsc);
        t[Command.ReadVerifyNoRetry] = new(static (d, c) => d.Verify(c), disk | dsc);
        t[Command.ReadVerifyExt] = new(static (d, c) => d.Verify(c), disk | dsc);
        t[Command.Seek] = new(nop, disk | dsc);
        t[Command.ExecuteDeviceDiagnostic] = new(static (d, _) => d.ExecuteDeviceDiagnostic(), CommandFlags.All);
        t[Command.InitializeDeviceParameters] = new(nop, disk | dsc);
        foreach (byte c in (byte[])[Command.StandbyImmediateOld, Command.IdleImmediateOld, Command.StandbyOld, Command.IdleOld, Command.SleepOld,
                     Command.StandbyImmediate, Command.IdleImmediate, Command.Standby, Command.Idle, Command.Sleep])
        {
            t[c] = new(nop, disk);
        }

        t[Command.CheckPowerModeOld] = new(static (d, _) => d.CheckPowerMode(), disk | dsc);
        t[Command.CheckPowerMode] = new(static (d, _) => d.CheckPowerMode(), disk | dsc);
        t[Command.Packet] = new(static (d, _) => d.PacketCommand(), CommandFlags.CdRom);
        t[Command.IdentifyPacketDevice] = new(static (d, _) => d.IdentifyPacket(), CommandFlags.CdRom);
        t[Command.Smart] = new(static (d, _) => d.SmartCommand(), disk | dsc);
        t[Command.ReadMultiple] = new(static (d, c) => d.ReadMultiple(c), disk);
        t[Command.WriteMultiple] = new(static (d, c) => d.WriteMultiple(c), disk);
        t[Command.SetMultipleMode] = new(static (d, _) => d.SetMultipleMode(), disk | dsc);
        t[Command.ReadDma] = new(static (d, c) => d.ReadDma(c), disk);
        t[Command.ReadDmaNoRetry] = new(static (d, c) => d.ReadDma(c), disk);
        t[Command.WriteDma] = new(static (d, c) => d.WriteDma(c), disk);
        t[Command.WriteDmaNoRetry] = new(static (d, c) => d.WriteDma(c), disk);
        t[Command.FlushCache] = new(static (d, _) => d.FlushCacheCommand(), CommandFlags.All);
        t[Command.FlushCacheExt] = new(static (d, _) => d.FlushCacheCommand(), disk);
        t[Command.IdentifyDevice] = new(static (d, _) => d.IdentifyDeviceCommand(), CommandFlags.All);
        t[Command.SetFeatures] = new(static (d, _) => d.SetFeatures(), CommandFlags.All | dsc);
        t[Command.SecurityFreezeLock] = new(static (d, _) => d.SecurityFreezeLock(), disk | dsc);
        t[Command.ReadNativeMax] = new(static (d, c) => d.ReadNativeMax(c), disk | dsc);
        return t;
    }

    /// <summary>
    /// QEMU ide_exec_cmd for the selected device: ignored while busy or transferring (except
    /// DEVICE RESET to a CD-ROM), aborted with an interrupt when this kind of device does not
    /// take it, else run; a command the handler completes ends with BSY off, DSC where the table
    /// says, and the interrupt. The channel has already ignored commands to an absent slave.
    /// </summary>
    internal void ExecuteCommand(byte command)
    {
        if ((Status & (StatusBusy | StatusDataRequest)) != 0 && (command != Command.DeviceReset || !IsCdRom))
        {
            return;
        }

        var kind = IsCdRom ? CommandFlags.CdRom : CommandFlags.Disk;
        if (Commands[command] is not { } entry || (entry.Flags & kind) == 0)
        {
            Abort();
            _channel.RaiseInterrupt();
            return;
        }

        Status = StatusReady | StatusBusy;
        Error = 0;
        if (entry.Handler(this, command))
        {
            Status &= unchecked((byte)~StatusBusy);
            if ((entry.Flags & CommandFlags.SetSeekComplete) != 0 && Error == 0)
            {
                Status |= StatusSeekComplete;
            }

            _channel.CommandDone();
            _channel.RaiseInterrupt();
        }
    }

    /// <summary>QEMU ide_bus_perform_srst for this device: reset, then the diagnostic that sets the signature.</summary>
    internal void SoftwareReset()
    {
        TransferHalt();
        Reset();
        ExecuteDeviceDiagnostic();
    }

    /// <summary>SRST asserted: both devices show BSY until it is released (QEMU ide_ctrl_write).</summary>
    internal void SetBusy() => Status |= StatusBusy;

    private bool DeviceResetCommand()
    {
        TransferHalt();
        Reset();
        Status = 0;
        return false;
    }

    private bool ExecuteDeviceDiagnostic()
    {
        SetSignature();
        Error = 0x01;
        if (IsCdRom)
        {
            // ATAPI: a clear status register, DRDY not set, and no interrupt.
            Status = 0;
        }
        else
        {
            Status = StatusReady | StatusSeekComplete;
            _channel.RaiseInterrupt();
        }

        return false;
    }

    private bool IdentifyDeviceCommand()
    {
        if (Attached && !IsCdRom)
        {
            BuildIdentify();
            Status = StatusReady | StatusSeekComplete;
            TransferStart(0, SectorSize, TransferEnd.Stop);
            _channel.RaiseInterrupt();
            return false;
        }

        if (IsCdRom)
        {
            SetSignature();
        }

        Abort();
        return true;
    }

    private bool IdentifyPacket()
    {
        BuildAtapiIdentify();
        Status = StatusReady | StatusSeekComplete;
        TransferStart(0, SectorSize, TransferEnd.Stop);
        _channel.RaiseInterrupt();
        return false;
    }

    private bool Verify(byte command)
    {
        SetAddressing(command == Command.ReadVerifyExt);
        return true;
    }

    private bool SetMultipleMode()
    {
        int count = SectorCount & 0xFF;
        if (count != 0 && (count > MaxMultipleSectors || (SectorCount & (SectorCount - 1)) != 0))
        {
            Abort();
        }
        else
        {
            MultipleSectors = count;
        }

        return true;
    }

    private bool ReadMultiple(byte command)
    {
        if (!Attached || MultipleSectors == 0)
        {
            Abort();
            return true;
        }

        SetAddressing(command == Command.ReadMultipleExt);
        RequestSectors = MultipleSectors;
        SectorRead();
        return false;
    }

    private bool WriteMultiple(byte command)
    {
        if (!Attached || MultipleSectors == 0)
        {
            Abort();
            return true;
        }

        SetAddressing(command == Command.WriteMultipleExt);
        RequestSectors = MultipleSectors;
        Status = StatusSeekComplete | StatusReady;
        TransferStart(0, SectorSize * Math.Min(SectorCount, RequestSectors), TransferEnd.SectorWrite);
        return false;
    }

    private bool ReadPio(byte command)
    {
        if (IsCdRom)
        {
            // ATA-4 8.27.5.2: a packet device answers READ SECTORS with its signature.
            SetSignature();
            Abort();
            return true;
        }

        if (!Attached)
        {
            Abort();
            return true;
        }

        SetAddressing(command == Command.ReadSectorsExt);
        RequestSectors = 1;
        SectorRead();
        return false;
    }

    private bool WritePio(byte command)
    {
        if (!Attached)
        {
            Abort();
            return true;
        }

        SetAddressing(command == Command.WriteSectorsExt);
        RequestSectors = 1;
        Status = StatusSeekComplete | StatusReady;
        TransferStart(0, SectorSize, TransferEnd.SectorWrite);
        return false;
    }

    private bool ReadNativeMax(byte command)
    {
        if (SectorCountTotal == 0)
        {
            Abort();
            return true;
        }

        SetAddressing(command == Command.ReadNativeMaxExt);
        SetSector(SectorCountTotal - 1);
        return true;
    }

    private bool CheckPowerMode()
    {
        SectorCount = 0xFF; // active or idle
        return true;
    }

    private bool SecurityFreezeLock()
    {
        // QEMU's cmd_cfa_erase_sectors under the shared code 0xF5 (CFA WEAR LEVEL): Windows 8 needs it to succeed.
        SectorCount = 0;
        return true;
    }

    /// <summary>QEMU ide_flush_cache: the backend's Flush; an error is reported like a failed write.</summary>
    private bool FlushCacheCommand()
    {
        if (Backend != null)
        {
            try
            {
                Backend.Flush();
            }
            catch (Storage.BlockBackendException e)
            {
                NoteIoError(e);
                ReadWriteError();
                return false;
            }
        }

        Status = StatusReady | StatusSeekComplete;
        _channel.RaiseInterrupt();
        return false;
    }

    /// <summary>QEMU cmd_set_features: write cache on/off, transfer mode (recorded in the IDENTIFY data), and the subcommands QEMU accepts without effect.</summary>
    private bool SetFeatures()
    {
        if (!Attached)
        {
            Abort();
            return true;
        }

        switch (Features)
        {
            case 0x02:
                WriteCacheEnabled = true;
                SetIdentifyWord(85, (1 << 14) | (1 << 5) | 1);
                return true;
            case 0x82:
                WriteCacheEnabled = false;
                SetIdentifyWord(85, (1 << 14) | 1);
                return FlushCacheCommand();
            case 0xCC or 0x66 or 0xAA or 0x55 or 0x05 or 0x85 or 0x69 or 0x67 or 0x96 or 0x9A or 0x42 or 0xC2:
                return true;
            case 0x03 when SetTransferMode(SectorCount):
                return true;
        }

        Abort();
        return true;
    }

    /// <summary>SET FEATURES 03: the mode in the count register becomes the selected one in IDENTIFY words 62, 63 and 88.</summary>
    private bool SetTransferMode(int value)
    {
        int mode = value & 0x07;
        (int w62, int w63, int w88) = (value >> 3) switch
        {
            0x00 or 0x01 => (0x07, 0x07, 0x3F),
            0x02 => (0x07 | (1 << (mode + 8)), 0x07, 0x3F),
            0x04 => (0x07, 0x07 | (1 << (mode + 8)), 0x3F),
            0x08 => (0x07, 0x07, 0x3F | (1 << (mode + 8))),
            _ => (-1, -1, -1),
        };
        if (w62 < 0)
        {
            return false;
        }

        SetIdentifyWord(62, w62);
        SetIdentifyWord(63, w63);
        SetIdentifyWord(88, w88);
        return true;
    }
}
