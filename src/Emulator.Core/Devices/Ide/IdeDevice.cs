// One device position (unit 0 or 1) of an ATA channel, with an ATA hard disk, an ATAPI CD-ROM or
// nothing behind it, as QEMU 7.2 models it (hw/ide/core.c IDEState, hw/ide/atapi.c; the
// registers a guest sees in hw/ide/internal.h). This file holds the task-file registers, the PIO
// data path and the sector-granular PIO transfers; IdeDevice.Commands.cs the ATA command set,
// IdeDevice.Dma.cs DMA through the channel's bus master, IdeDevice.Identify.cs the IDENTIFY data,
// IdeDevice.Smart.cs SMART, IdeDevice.Atapi.cs the PACKET protocol and AtapiCommands.cs the SCSI
// commands of the CD-ROM.
// Emulated: every register QEMU keeps per device (features, error, sector count, LBA low/mid/
// high, device/head, status, each with its HOB copy for 48-bit commands); the PIO data port
// (16- and 32-bit accesses; a byte read moves a word and returns its low byte, a byte write is
// ignored, as on QEMU 7.2 — measured); the signature after reset (ATA 01/01/00/00, ATAPI
// 01/01/14/EB, a position without a drive 01/01/FF/FF); the transfer state QEMU saves for an
// interrupted PIO transfer. Block I/O completes at once: QEMU finishes it asynchronously, so BSY
// is visible there for the duration of a host read; here no access sees it, which changes no
// result a guest that waits for BSY to clear can observe.
// Not emulated: rerror/werror=stop (QEMU's default for EIO is to report it, which is what
// happens here: a backend error becomes the guest-visible error QEMU reports), the CF-ATA and
// microdrive command sets (not on PIIX3), media change of a CD-ROM at run time (no monitor).
// Firmware relies on: OVMF's AtaAtapiPassThruDxe (IdeMode.c) reads the signature after
// EXECUTE DEVICE DIAGNOSTIC, polls status for BSY/DRQ/ERR, transfers IDENTIFY data and ATAPI
// replies through the data port, and uses DMA for disk reads and writes.
using Emulator.Core.Storage;

namespace Emulator.Core.Devices.Ide;

/// <summary>A drive position on an <see cref="IdeChannel"/>: the registers and command engine of QEMU's IDEState.</summary>
public sealed partial class IdeDevice
{
    public const int SectorSize = 512;

    /// <summary>QEMU's IDE_DMA_BUF_SECTORS: the I/O buffer holds 256 sectors (plus 4 bytes).</summary>
    public const int BufferSectors = 256;

    public const byte StatusError = 0x01;
    public const byte StatusDataRequest = 0x08;
    public const byte StatusSeekComplete = 0x10;
    public const byte StatusReady = 0x40;
    public const byte StatusBusy = 0x80;

    public const byte ErrorAbort = 0x04;
    public const byte ErrorMediaChanged = 0x20;

    /// <summary>Device/head bit 6: the address is an LBA (else CHS).</summary>
    public const byte DeviceLba = 0x40;

    /// <summary>QEMU's MAX_MULT_SECTORS: READ/WRITE MULTIPLE blocks up to 16 sectors.</summary>
    public const int MaxMultipleSectors = 16;

    private const byte DeviceHeadMask = 0x0F;
    private const byte DeviceAlwaysOn = IdeChannel.DeviceAlwaysOn;
    private const int LastLba28Sector = (1 << 28) - 1;

    private readonly IIdeTransport _channel;
    private readonly byte[] _buffer = new byte[(BufferSectors * SectorSize) + 4];
    private readonly IdeDrive? _drive;

    internal IdeDevice(IIdeTransport channel, int unit, int serialNumber, IdeDrive? drive)
    {
        _channel = channel;
        Unit = unit;
        _drive = drive;
        SerialNumber = $"QM{serialNumber:D5}";
        if (drive != null)
        {
            SectorCountTotal = drive.Backend == null ? 0 : drive.Backend.Length / SectorSize;
            Geometry = drive.Kind == IdeDriveKind.Disk ? DiskGeometry.Guess(drive.Backend!) : DiskGeometry.None;
        }
        else
        {
            Geometry = DiskGeometry.None;
        }

        PowerOnDefaults();
        Reset();
    }

    /// <summary>0 (master) or 1 (slave).</summary>
    public int Unit { get; }

    /// <summary>A drive is attached here (QEMU: the IDEState has a block backend).</summary>
    public bool Attached => _drive != null;

    /// <summary>Disk, CD-ROM, or none.</summary>
    public IdeDriveKind Kind => _drive?.Kind ?? IdeDriveKind.None;

    /// <summary>The medium, or null for no drive or an empty CD-ROM.</summary>
    public IBlockBackend? Backend => _drive?.Backend;

    /// <summary>QEMU's default serial number, QM and the position's creation number (QM00001 … QM00004 on PIIX3).</summary>
    public string SerialNumber { get; }

    /// <summary>The medium's size in 512-byte sectors (QEMU nb_sectors).</summary>
    public long SectorCountTotal { get; }

    /// <summary>Cylinders, heads, sectors per track and BIOS translation QEMU's hd_geometry_guess picks (none for a CD-ROM).</summary>
    public DiskGeometry Geometry { get; }

    public byte Status { get; private set; }

    public byte Error { get; private set; }

    public byte Features { get; private set; }

    /// <summary>The sector count; a 48-bit command widens it to 16 bits (QEMU keeps the full count here).</summary>
    public int SectorCount { get; private set; }

    public byte LbaLow { get; private set; }

    public byte LbaMid { get; private set; }

    public byte LbaHigh { get; private set; }

    public byte DeviceHead { get; private set; }

    private bool IsCdRom => Kind == IdeDriveKind.CdRom;

    private byte HobFeatures { get; set; }

    private byte HobSectorCount { get; set; }

    private byte HobLbaLow { get; set; }

    private byte HobLbaMid { get; set; }

    private byte HobLbaHigh { get; set; }

    private bool Lba48 { get; set; }

    private int MultipleSectors { get; set; }

    private int RequestSectors { get; set; }

    private int _dataPosition;
    private int _dataEnd;
    private TransferEnd _transferEnd;

    /// <summary>What finishing the current PIO data block does (QEMU's end_transfer_func).</summary>
    public enum TransferEnd
    {
        /// <summary>ide_transfer_stop: the command is over.</summary>
        Stop,

        /// <summary>ide_dummy_transfer_stop: nothing was started since reset.</summary>
        Dummy,

        /// <summary>ide_sector_read: the next block of a PIO read.</summary>
        SectorRead,

        /// <summary>ide_sector_write: the block the guest wrote goes to the medium.</summary>
        SectorWrite,

        /// <summary>ide_atapi_cmd: the 12-byte packet is complete.</summary>
        AtapiCommand,

        /// <summary>ide_atapi_cmd_reply_end: the next part of an ATAPI reply.</summary>
        AtapiReplyEnd,
    }

    /// <summary>Register write from the channel: every device on the cable takes it (QEMU ide_ioport_write); the old value becomes the HOB byte.</summary>
    internal void WriteTaskFile(int register, byte value)
    {
        switch (register)
        {
            case IdeChannel.FeaturesRegister:
                HobFeatures = Features;
                Features = value;
                break;
            case IdeChannel.SectorCountRegister:
                HobSectorCount = (byte)SectorCount;
                SectorCount = value;
                break;
            case IdeChannel.LbaLowRegister:
                HobLbaLow = LbaLow;
                LbaLow = value;
                break;
            case IdeChannel.LbaMidRegister:
                HobLbaMid = LbaMid;
                LbaMid = value;
                break;
            case IdeChannel.LbaHighRegister:
                HobLbaHigh = LbaHigh;
                LbaHigh = value;
                break;
            case IdeChannel.DeviceRegister:
                DeviceHead = (byte)(value | DeviceAlwaysOn);
                break;
        }
    }

    /// <summary>A task-file register as the guest reads it (QEMU ide_ioport_read), with HOB selecting the previous bytes.</summary>
    internal byte ReadTaskFile(int register, bool hob) => register switch
    {
        IdeChannel.FeaturesRegister => hob ? HobFeatures : Error,
        IdeChannel.SectorCountRegister => hob ? HobSectorCount : (byte)SectorCount,
        IdeChannel.LbaLowRegister => hob ? HobLbaLow : LbaLow,
        IdeChannel.LbaMidRegister => hob ? HobLbaMid : LbaMid,
        IdeChannel.LbaHighRegister => hob ? HobLbaHigh : LbaHigh,
        IdeChannel.DeviceRegister => DeviceHead,
        _ => Status,
    };

    /// <summary>A data-port read of 2 or 4 bytes (QEMU ide_data_readw/readl): 0 unless the device is sending a data block.</summary>
    internal uint ReadData(int size)
    {
        if ((Status & StatusDataRequest) == 0 || !IsDataIn(_transferEnd) || _dataPosition + size > _dataEnd)
        {
            return 0;
        }

        uint value = size == 4 ? BitConverter.ToUInt32(_buffer, _dataPosition) : BitConverter.ToUInt16(_buffer, _dataPosition);
        _dataPosition += size;
        if (_dataPosition >= _dataEnd)
        {
            Status &= unchecked((byte)~StatusDataRequest);
            EndTransfer();
        }

        return value;
    }

    /// <summary>A data-port write of 2 or 4 bytes (QEMU ide_data_writew/writel): taken only while the device expects a data block.</summary>
    internal void WriteData(int size, uint value)
    {
        if ((Status & StatusDataRequest) == 0 || IsDataIn(_transferEnd) || _dataPosition + size > _dataEnd)
        {
            return;
        }

        if (size == 4)
        {
            BitConverter.TryWriteBytes(_buffer.AsSpan(_dataPosition), value);
        }
        else
        {
            BitConverter.TryWriteBytes(_buffer.AsSpan(_dataPosition), (ushort)value);
        }

        _dataPosition += size;
        if (_dataPosition >= _dataEnd)
        {
            Status &= unchecked((byte)~StatusDataRequest);
            EndTransfer();
        }
    }

    /// <summary>
    /// QEMU ide_reset (machine reset, SRST, DEVICE RESET): registers cleared, device/head 0xA0,
    /// status DRDY|DSC, the signature, READ/WRITE MULTIPLE back to 16 sectors, no transfer. Kept:
    /// the IDENTIFY data once built (with SET FEATURES' changes), the write-cache setting, SMART state.
    /// </summary>
    internal void Reset()
    {
        MultipleSectors = MaxMultipleSectors;
        Features = 0;
        Error = 0;
        SectorCount = 0;
        LbaLow = LbaMid = LbaHigh = 0;
        HobFeatures = HobSectorCount = HobLbaLow = HobLbaMid = HobLbaHigh = 0;
        DeviceHead = DeviceAlwaysOn;
        Status = StatusReady | StatusSeekComplete;
        Lba48 = false;
        ResetPacketState();
        _ioBufferSize = 0;
        RequestSectors = 0;
        SetSignature();
        _transferEnd = TransferEnd.Dummy;
        DummyTransferStop();
    }

    /// <summary>QEMU ide_set_signature: head bits cleared, count and sector 1, the kind in LBA mid/high.</summary>
    private void SetSignature()
    {
        DeviceHead &= unchecked((byte)~DeviceHeadMask);
        SectorCount = 1;
        LbaLow = 1;
        (LbaMid, LbaHigh) = IsCdRom ? ((byte)0x14, (byte)0xEB) : Attached ? ((byte)0, (byte)0) : ((byte)0xFF, (byte)0xFF);
    }

    /// <summary>QEMU ide_abort_command: the transfer stops, DRDY|ERR with ABRT.</summary>
    private void Abort()
    {
        TransferStop();
        Status = StatusReady | StatusError;
        Error = ErrorAbort;
    }

    /// <summary>QEMU ide_rw_error: aborted, with the interrupt.</summary>
    private void ReadWriteError()
    {
        Abort();
        _channel.RaiseInterrupt();
    }

    /// <summary>
    /// QEMU ide_transfer_start: <paramref name="size"/> bytes of the buffer from <paramref name="offset"/>
    /// go through the data port, then <paramref name="end"/>; a transport that moves PIO data itself
    /// (AHCI's pio_transfer) takes them at once and <paramref name="end"/> runs now.
    /// </summary>
    private void TransferStart(int offset, int size, TransferEnd end)
    {
        _dataPosition = offset;
        _dataEnd = offset + size;
        if ((Status & StatusError) == 0)
        {
            Status |= StatusDataRequest;
        }

        _transferEnd = end;
        if (!_channel.PioTransfer(this))
        {
            return;
        }

        // QEMU runs the end function inside ide_transfer_start, but its block I/O is asynchronous,
        // so a long PIO command never nests deeply there. Here the next block's TransferStart
        // would nest once per block (65536 for READ SECTORS EXT): a block moved while an end
        // function runs leaves its own end function to the outermost call, which runs them in turn.
        if (_pioEndsRunning)
        {
            _pioEndPending = true;
            return;
        }

        _pioEndsRunning = true;
        try
        {
            do
            {
                _pioEndPending = false;
                EndTransfer();
            }
            while (_pioEndPending);
        }
        finally
        {
            _pioEndsRunning = false;
        }
    }

    private bool _pioEndsRunning;
    private bool _pioEndPending;

    /// <summary>The PIO block a transport moves itself (QEMU data_ptr to data_end).</summary>
    internal Span<byte> PioBlock => _buffer.AsSpan(_dataPosition, _dataEnd - _dataPosition);

    /// <summary>The transport moved <see cref="PioBlock"/> (QEMU: data_ptr = data_end).</summary>
    internal void PioBlockDone() => _dataPosition = _dataEnd;

    /// <summary>The buffer the packet of an ATAPI command is copied into (QEMU io_buffer).</summary>
    internal Span<byte> CommandBuffer => _buffer.AsSpan(0, 16);

    /// <summary>QEMU ide_transfer_stop: the transfer halts and the command is done (the transport's cmd_done).</summary>
    private void TransferStop()
    {
        TransferHalt();
        _channel.CommandDone();
    }

    /// <summary>QEMU ide_transfer_halt: no data phase, DRQ clear.</summary>
    private void TransferHalt()
    {
        _transferEnd = TransferEnd.Stop;
        _dataPosition = _dataEnd = 0;
        Status &= unchecked((byte)~StatusDataRequest);
    }

    private void DummyTransferStop()
    {
        _dataPosition = _dataEnd = 0;
        _buffer.AsSpan(0, 4).Fill(0xFF);
    }

    /// <summary>Device-to-host transfers (QEMU ide_is_pio_out); the others take data-port writes.</summary>
    private static bool IsDataIn(TransferEnd end) => end is not (TransferEnd.SectorWrite or TransferEnd.AtapiCommand);

    private void EndTransfer()
    {
        switch (_transferEnd)
        {
            case TransferEnd.Stop:
                TransferStop();
                break;
            case TransferEnd.Dummy:
                DummyTransferStop();
                break;
            case TransferEnd.SectorRead:
                SectorRead();
                break;
            case TransferEnd.SectorWrite:
                SectorWrite();
                break;
            case TransferEnd.AtapiCommand:
                ExecutePacket();
                break;
            case TransferEnd.AtapiReplyEnd:
                AtapiReplyEnd();
                break;
        }
    }

    /// <summary>QEMU ide_get_sector: LBA48, LBA28 (head bits on top) or CHS.</summary>
    private long CurrentSector()
    {
        if ((DeviceHead & DeviceLba) == 0)
        {
            long cylinder = (LbaHigh << 8) | LbaMid;
            return (cylinder * Geometry.Heads * Geometry.SectorsPerTrack) + ((DeviceHead & DeviceHeadMask) * Geometry.SectorsPerTrack) + (LbaLow - 1);
        }

        return Lba48
            ? ((long)HobLbaHigh << 40) | ((long)HobLbaMid << 32) | ((long)HobLbaLow << 24) | ((long)LbaHigh << 16) | ((long)LbaMid << 8) | LbaLow
            : ((long)(DeviceHead & DeviceHeadMask) << 24) | ((long)LbaHigh << 16) | ((long)LbaMid << 8) | LbaLow;
    }

    /// <summary>QEMU ide_set_sector: the task file addresses <paramref name="sector"/> in the mode the command used.</summary>
    private void SetSector(long sector)
    {
        if ((DeviceHead & DeviceLba) == 0)
        {
            int perCylinder = Geometry.Heads * Geometry.SectorsPerTrack;
            if (perCylinder == 0)
            {
                return;
            }

            long cylinder = sector / perCylinder;
            long rest = sector % perCylinder;
            LbaHigh = (byte)(cylinder >> 8);
            LbaMid = (byte)cylinder;
            DeviceHead = (byte)((DeviceHead & ~DeviceHeadMask) | (int)((rest / Geometry.SectorsPerTrack) & DeviceHeadMask));
            LbaLow = (byte)((rest % Geometry.SectorsPerTrack) + 1);
        }
        else if (Lba48)
        {
            LbaLow = (byte)sector;
            LbaMid = (byte)(sector >> 8);
            LbaHigh = (byte)(sector >> 16);
            HobLbaLow = (byte)(sector >> 24);
            HobLbaMid = (byte)(sector >> 32);
            HobLbaHigh = (byte)(sector >> 40);
        }
        else
        {
            DeviceHead = (byte)((DeviceHead & ~DeviceHeadMask) | (int)((sector >> 24) & DeviceHeadMask));
            LbaHigh = (byte)(sector >> 16);
            LbaMid = (byte)(sector >> 8);
            LbaLow = (byte)sector;
        }
    }

    /// <summary>QEMU ide_sect_range_ok.</summary>
    private bool SectorRangeOk(long sector, long count) => sector <= SectorCountTotal && count <= SectorCountTotal - sector;

    /// <summary>QEMU ide_cmd_lba48_transform: the command's addressing mode; a count of 0 means 256 (or 65536).</summary>
    private void SetAddressing(bool lba48)
    {
        Lba48 = lba48;
        if (!lba48)
        {
            SectorCount = SectorCount == 0 ? 256 : SectorCount;
        }
        else
        {
            SectorCount = SectorCount == 0 && HobSectorCount == 0 ? 65536 : (HobSectorCount << 8) | SectorCount;
        }
    }

    /// <summary>QEMU ide_sector_read: the next block of a PIO read goes into the buffer and out through the data port.</summary>
    private void SectorRead()
    {
        Status = StatusReady | StatusSeekComplete;
        Error = 0;
        long sector = CurrentSector();
        int n = SectorCount;
        if (n == 0)
        {
            TransferStop();
            return;
        }

        n = Math.Min(n, RequestSectors);
        if (!SectorRangeOk(sector, n) || !TryRead(sector * SectorSize, _buffer.AsSpan(0, n * SectorSize)))
        {
            ReadWriteError();
            return;
        }

        SetSector(sector + n);
        SectorCount -= n;
        TransferStart(0, n * SectorSize, TransferEnd.SectorRead);
        _channel.RaiseInterrupt();
    }

    /// <summary>QEMU ide_sector_write: the block the guest wrote goes to the medium; the next block is requested or the command ends.</summary>
    private void SectorWrite()
    {
        Status = StatusReady | StatusSeekComplete;
        long sector = CurrentSector();
        int n = Math.Min(SectorCount, RequestSectors);
        if (!SectorRangeOk(sector, n) || !TryWrite(sector * SectorSize, _buffer.AsSpan(0, n * SectorSize)))
        {
            ReadWriteError();
            return;
        }

        SectorCount -= n;
        SetSector(CurrentSector() + n);
        if (SectorCount == 0)
        {
            TransferStop();
        }
        else
        {
            TransferStart(0, Math.Min(SectorCount, RequestSectors) * SectorSize, TransferEnd.SectorWrite);
        }

        _channel.RaiseInterrupt();
    }

    /// <summary>Reads the medium; a backend error is the guest's I/O error (QEMU's default rerror=report), counted in <see cref="IoErrors"/>.</summary>
    private bool TryRead(long offset, Span<byte> destination)
    {
        try
        {
            Backend!.Read(offset, destination);
            return true;
        }
        catch (BlockBackendException e)
        {
            NoteIoError(e);
            return false;
        }
    }

    private bool TryWrite(long offset, ReadOnlySpan<byte> source)
    {
        try
        {
            Backend!.Write(offset, source);
            return true;
        }
        catch (BlockBackendException e)
        {
            NoteIoError(e);
            return false;
        }
    }

    /// <summary>Backend errors the guest was told about as I/O errors, and the last one's message.</summary>
    public int IoErrors { get; private set; }

    public string? LastIoError { get; private set; }

    private void NoteIoError(BlockBackendException e)
    {
        IoErrors++;
        LastIoError = e.Message;
    }
}
