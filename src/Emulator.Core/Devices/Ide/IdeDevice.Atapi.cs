// The ATAPI PACKET protocol of QEMU 7.2's ide-cd (hw/ide/core.c cmd_packet, hw/ide/atapi.c
// ide_atapi_cmd, ide_atapi_cmd_reply_end, the read paths and their DMA callback): the 12-byte
// packet through the data port, the command table's gates (unit attention, not ready, byte
// count limit), replies sent in DRQ blocks no larger than the byte count limit the guest put in
// LBA mid/high (the count of each block read back from there, the interrupt reason in the
// sector count register), or by DMA when the PACKET command's features bit 0 asked for it;
// sense data kept for REQUEST SENSE. 2048-byte sectors (and 2352-byte raw ones for READ CD).
// A CD-ROM with a medium starts without a unit attention, as QEMU's does (ide_reset clears the
// sense and cdrom_changed; QEMU raises the media-change sequence only when the medium changes at
// run time, which has no counterpart here).
namespace Emulator.Core.Devices.Ide;

public sealed partial class IdeDevice
{
    public const int AtapiSectorSize = 2048;
    public const int PacketSize = 12;

    /// <summary>QEMU CD_MAX_SECTORS: media larger than a CD (in 512-byte sectors) are DVDs.</summary>
    private const long CdMaxSectors = 80L * 60 * 75 * 2048 / 512;

    private const byte InterruptReasonCommandData = 0x01;
    private const byte InterruptReasonIo = 0x02;
    private const int RawSectorSize = 2352;

    private int _senseKey;
    private int _asc;
    private int _cdromChanged;
    private int _packetTransferSize;
    private int _elementaryTransferSize;
    private int _cdSectorSize;
    private bool _atapiDma;
    private int _lba = -1;
    private bool _newMediaEvent;
    private bool _ejectRequestEvent;

    /// <summary>The tray is open (START STOP UNIT with LoEj): no medium is present to the guest.</summary>
    public bool TrayOpen { get; private set; }

    /// <summary>PREVENT ALLOW MEDIUM REMOVAL holds the tray.</summary>
    public bool TrayLocked { get; private set; }

    /// <summary>The sense key REQUEST SENSE reports (SCSI sense keys: 2 not ready, 5 illegal request, 6 unit attention).</summary>
    public int SenseKey => _senseKey;

    /// <summary>The additional sense code REQUEST SENSE reports.</summary>
    public int AdditionalSenseCode => _asc;

    private bool MediumPresent => !TrayOpen && SectorCountTotal > 0;

    private bool MediumIsDvd => MediumPresent && SectorCountTotal > CdMaxSectors;

    private bool MediumIsCd => MediumPresent && SectorCountTotal <= CdMaxSectors;

    /// <summary>The ATAPI part of QEMU ide_reset.</summary>
    private void ResetPacketState()
    {
        _senseKey = 0;
        _asc = 0;
        _cdromChanged = 0;
        _packetTransferSize = 0;
        _elementaryTransferSize = 0;
        _ioBufferIndex = 0;
        _cdSectorSize = 0;
        _atapiDma = false;
        TrayLocked = false;
        TrayOpen = false;
    }

    /// <summary>What a new position holds before its first reset (QEMU ide_init_drive).</summary>
    private void PowerOnDefaults()
    {
        ResetSmart();
    }

    /// <summary>QEMU cmd_packet: the device waits for the 12-byte packet; features bit 0 asks for DMA, bit 1 (overlap) is refused.</summary>
    private bool PacketCommand()
    {
        if ((Features & 0x02) != 0)
        {
            Abort();
            return true;
        }

        Status = StatusReady | StatusSeekComplete;
        _atapiDma = (Features & 1) != 0;
        if (_atapiDma)
        {
            _dmaCommand = DmaCommand.Atapi;
        }

        SectorCount = 1;
        TransferStart(0, PacketSize, TransferEnd.AtapiCommand);
        return false;
    }

    /// <summary>QEMU ide_atapi_cmd_ok.</summary>
    private void AtapiOk()
    {
        Error = 0;
        Status = StatusReady | StatusSeekComplete;
        SectorCount = (SectorCount & ~7) | InterruptReasonIo | InterruptReasonCommandData;
        TransferStop();
        _channel.RaiseInterrupt();
    }

    /// <summary>QEMU ide_atapi_cmd_error: CHECK CONDITION with the sense kept for REQUEST SENSE.</summary>
    private void AtapiError(int senseKey, int asc)
    {
        Error = (byte)(senseKey << 4);
        Status = StatusReady | StatusError;
        SectorCount = (SectorCount & ~7) | InterruptReasonIo | InterruptReasonCommandData;
        _senseKey = senseKey;
        _asc = asc;
        TransferStop();
        _channel.RaiseInterrupt();
    }

    /// <summary>QEMU ide_atapi_io_error: the backend failed (the medium gone would be NOT READY; anything else reads as out of range).</summary>
    private void AtapiIoError() => AtapiError(Sense.IllegalRequest, Asc.LogicalBlockOutOfRange);

    /// <summary>QEMU atapi_byte_count_limit: LBA mid/high, 0xFFFF meaning 0xFFFE.</summary>
    private int ByteCountLimit()
    {
        int limit = LbaMid | (LbaHigh << 8);
        return limit == 0xFFFF ? 0xFFFE : limit;
    }

    /// <summary>QEMU ide_atapi_cmd_reply_end: the next DRQ block of a PIO reply or read, reading the next sector when the buffer is used up.</summary>
    private void AtapiReplyEnd()
    {
        if (_packetTransferSize <= 0)
        {
            AtapiOk();
            _channel.RaiseInterrupt();
            return;
        }

        if (_lba != -1 && _ioBufferIndex >= _cdSectorSize && !ReadCdSector())
        {
            AtapiIoError();
            return;
        }

        int size;
        if (_elementaryTransferSize > 0)
        {
            size = Math.Min(_cdSectorSize - _ioBufferIndex, _elementaryTransferSize);
        }
        else
        {
            SectorCount = (SectorCount & ~7) | InterruptReasonIo;
            _channel.RaiseInterrupt();
            int limit = ByteCountLimit();
            size = _packetTransferSize;
            if (size > limit)
            {
                size = limit & ~1;
            }

            LbaMid = (byte)size;
            LbaHigh = (byte)(size >> 8);
            _elementaryTransferSize = size;
            if (_lba != -1 && size > _cdSectorSize - _ioBufferIndex)
            {
                size = _cdSectorSize - _ioBufferIndex;
            }
        }

        _packetTransferSize -= size;
        _elementaryTransferSize -= size;
        _ioBufferIndex += size;
        TransferStart(_ioBufferIndex - size, size, TransferEnd.AtapiReplyEnd);
    }

    /// <summary>QEMU cd_read_sector and its callback: the sector at the current LBA into the buffer (raw sectors framed as mode 1).</summary>
    private bool ReadCdSector()
    {
        if (_cdSectorSize is not (AtapiSectorSize or RawSectorSize))
        {
            return false;
        }

        int at = _cdSectorSize == RawSectorSize ? 16 : 0;
        if (!TryRead((long)_lba * AtapiSectorSize, _buffer.AsSpan(at, AtapiSectorSize)))
        {
            return false;
        }

        if (_cdSectorSize == RawSectorSize)
        {
            FrameRawSector(_lba);
        }

        _lba++;
        _ioBufferIndex = 0;
        return true;
    }

    /// <summary>QEMU cd_data_to_raw: sync pattern, MSF header and mode 1 around the 2048 data bytes; EDC/ECC left zero.</summary>
    private void FrameRawSector(int lba)
    {
        _buffer[0] = 0;
        _buffer.AsSpan(1, 10).Fill(0xFF);
        _buffer[11] = 0;
        CdToc.LbaToMsf(_buffer.AsSpan(12), lba);
        _buffer[15] = 0x01;
        _buffer.AsSpan(16 + AtapiSectorSize, 288).Clear();
    }

    /// <summary>QEMU ide_atapi_cmd_reply: <paramref name="size"/> bytes of the buffer (at most <paramref name="maxSize"/>) go to the guest.</summary>
    private void AtapiReply(int size, int maxSize)
    {
        size = Math.Min(size, maxSize);
        _lba = -1;
        _packetTransferSize = size;
        _ioBufferSize = size;
        _elementaryTransferSize = 0;
        if (_atapiDma)
        {
            Status = StatusReady | StatusSeekComplete | StatusDataRequest;
            StartDma();
        }
        else
        {
            Status = StatusReady | StatusSeekComplete;
            _ioBufferIndex = 0;
            AtapiReplyEnd();
        }
    }

    /// <summary>QEMU ide_atapi_cmd_read: <paramref name="count"/> sectors from <paramref name="lba"/>, by PIO or DMA.</summary>
    private void AtapiRead(int lba, int count, int sectorSize)
    {
        _lba = lba;
        _packetTransferSize = count * sectorSize;
        _cdSectorSize = sectorSize;
        if (_atapiDma)
        {
            _ioBufferSize = 0;
            Status = StatusReady | StatusSeekComplete | StatusDataRequest | StatusBusy;
            StartDma();
        }
        else
        {
            _elementaryTransferSize = 0;
            _ioBufferIndex = sectorSize;
            AtapiReplyEnd();
        }
    }

    /// <summary>QEMU ide_atapi_cmd_read_dma_cb, its asynchronous rounds run one after the other: send what the buffer holds, then read the next up to 64 sectors.</summary>
    private void ContinueAtapiDma()
    {
        var bm = BusMaster;
        while (true)
        {
            if (_ioBufferSize > 0)
            {
                if (_lba != -1)
                {
                    if (_cdSectorSize == RawSectorSize)
                    {
                        FrameRawSector(_lba);
                        _lba++;
                    }
                    else
                    {
                        _lba += _ioBufferSize / AtapiSectorSize;
                    }
                }

                _packetTransferSize -= _ioBufferSize;
                if (!bm.CopyBuffer(_buffer, ref _ioBufferIndex, _ioBufferSize, toMemory: true))
                {
                    SetInactive(false);
                    return;
                }
            }

            if (_packetTransferSize <= 0)
            {
                Status = StatusReady | StatusSeekComplete;
                SectorCount = (SectorCount & ~7) | InterruptReasonIo | InterruptReasonCommandData;
                _channel.RaiseInterrupt();
                SetInactive(false);
                return;
            }

            _ioBufferIndex = 0;
            int n = _cdSectorSize == RawSectorSize ? 1 : Math.Min(_packetTransferSize / AtapiSectorSize, BufferSectors / 4);
            _ioBufferSize = _cdSectorSize == RawSectorSize ? RawSectorSize : n * AtapiSectorSize;
            int at = _cdSectorSize == RawSectorSize ? 16 : 0;
            if (!TryRead((long)_lba * AtapiSectorSize, _buffer.AsSpan(at, n * AtapiSectorSize)))
            {
                AtapiIoError();
                SetInactive(false);
                return;
            }
        }
    }

    /// <summary>
    /// QEMU ide_atapi_cmd: the packet in the buffer is complete. Under a unit attention only
    /// commands that allow it run; commands that need a medium report NOT READY without one;
    /// data commands by PIO need a non-zero byte count limit (else the ATA command is aborted);
    /// an opcode QEMU does not know is ILLEGAL REQUEST / invalid opcode.
    /// </summary>
    private void ExecutePacket()
    {
        byte opcode = _buffer[0];
        var entry = AtapiCommands[opcode];
        var flags = entry?.Flags ?? AtapiFlags.None;
        if (_senseKey == Sense.UnitAttention && (flags & AtapiFlags.AllowUnitAttention) == 0)
        {
            Error = (byte)(ErrorMediaChanged | (Sense.UnitAttention << 4));
            Status = StatusError;
            SectorCount = 0;
            _channel.RaiseInterrupt();
            return;
        }

        if ((flags & AtapiFlags.AllowUnitAttention) == 0 && !TrayOpen && Backend != null && _cdromChanged != 0)
        {
            if (_cdromChanged == 1)
            {
                AtapiError(Sense.NotReady, Asc.MediumNotPresent);
                _cdromChanged = 2;
            }
            else
            {
                AtapiError(Sense.UnitAttention, Asc.MediumMayHaveChanged);
                _cdromChanged = 0;
            }

            return;
        }

        if ((flags & AtapiFlags.CheckReady) != 0 && (!MediumPresent || Backend == null))
        {
            AtapiError(Sense.NotReady, Asc.MediumNotPresent);
            return;
        }

        if (entry != null && (flags & (AtapiFlags.NoData | AtapiFlags.ConditionalData)) == 0 && !ValidateByteCountLimit())
        {
            return;
        }

        if (entry is { } run)
        {
            run.Handler(this);
            return;
        }

        AtapiError(Sense.IllegalRequest, Asc.IllegalOpcode);
    }

    /// <summary>QEMU validate_bcl: a PIO data command with byte count limit 0 is an aborted ATA command.</summary>
    private bool ValidateByteCountLimit()
    {
        if (_atapiDma || ByteCountLimit() != 0)
        {
            return true;
        }

        Abort();
        return false;
    }

    /// <summary>SCSI sense keys QEMU's ATAPI uses (hw/scsi/scsi.h).</summary>
    private static class Sense
    {
        public const int NoSense = 0;
        public const int NotReady = 2;
        public const int IllegalRequest = 5;
        public const int UnitAttention = 6;
    }

    /// <summary>Additional sense codes QEMU's ATAPI uses (hw/ide/internal.h).</summary>
    private static class Asc
    {
        public const int IllegalOpcode = 0x20;
        public const int LogicalBlockOutOfRange = 0x21;
        public const int InvalidFieldInPacket = 0x24;
        public const int MediumMayHaveChanged = 0x28;
        public const int IncompatibleFormat = 0x30;
        public const int SavingParametersNotSupported = 0x39;
        public const int MediumNotPresent = 0x3A;
        public const int DataPhaseError = 0x4B;
        public const int MediaRemovalPrevented = 0x53;
    }
}
