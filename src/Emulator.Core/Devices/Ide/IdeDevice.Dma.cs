// DMA transfers of an IDE device through its channel's PIIX bus master (QEMU 7.2 hw/ide/core.c
// ide_sector_start_dma, ide_start_dma, ide_dma_cb, ide_dma_error, ide_set_inactive; the ATAPI
// side, ide_atapi_cmd_read_dma_cb, is in IdeDevice.Atapi.cs). A DMA command leaves the device
// with DRDY|DSC|DRQ until the bus master is started (or runs at once when it already is); the
// transfer then completes in one go: the descriptor table must describe at least the command's
// bytes (shorter: the engine stops without an interrupt and without an error, as on QEMU;
// longer: the rest is consumed and the engine stays active), the medium is read or written
// sector by sector range, and the end raises the interrupt with DRDY|DSC.
// DATA SET MANAGEMENT (TRIM) takes its range list by DMA and checks every range, as QEMU does;
// discarding does nothing, as with QEMU's default discard=ignore.
namespace Emulator.Core.Devices.Ide;

public sealed partial class IdeDevice
{
    private const byte DsmTrim = 0x01;
    private const int TrimEntrySize = 8;

    /// <summary>What the pending DMA does (QEMU's dma_cmd).</summary>
    public enum DmaCommand
    {
        Read,
        Write,
        Trim,
        Atapi,
    }

    private DmaCommand _dmaCommand;

    /// <summary>QEMU io_buffer_size: for ATA DMA the bytes the descriptors described; for ATAPI DMA the bytes in the buffer to send.</summary>
    private int _ioBufferSize;

    /// <summary>QEMU io_buffer_index: how far the buffer has been sent.</summary>
    private int _ioBufferIndex;

    private IIdeTransport BusMaster => _channel;

    private bool ReadDma(byte command) => StartSectorDmaCommand(command == Command.ReadDmaExt, DmaCommand.Read);

    private bool WriteDma(byte command) => StartSectorDmaCommand(command == Command.WriteDmaExt, DmaCommand.Write);

    private bool StartSectorDmaCommand(bool lba48, DmaCommand command)
    {
        if (!Attached)
        {
            Abort();
            return true;
        }

        SetAddressing(lba48);
        StartSectorDma(command);
        return false;
    }

    private bool DataSetManagement()
    {
        if (Features == DsmTrim && Attached)
        {
            StartSectorDma(DmaCommand.Trim);
            return false;
        }

        Abort();
        return true;
    }

    /// <summary>QEMU ide_sector_start_dma.</summary>
    private void StartSectorDma(DmaCommand command)
    {
        Status = StatusReady | StatusSeekComplete | StatusDataRequest;
        _ioBufferSize = 0;
        _dmaCommand = command;
        StartDma();
    }

    /// <summary>QEMU ide_start_dma: the bus master runs the transfer now if started, else when started.</summary>
    private void StartDma()
    {
        _ioBufferIndex = 0;
        BusMaster.StartDma(this);
    }

    /// <summary>The bus master is running and this device's DMA is pending (QEMU's dma_cb).</summary>
    internal void ContinueDma()
    {
        if (_dmaCommand == DmaCommand.Atapi)
        {
            ContinueAtapiDma();
        }
        else
        {
            ContinueSectorDma();
        }
    }

    /// <summary>QEMU ide_dma_cb, its asynchronous rounds run one after the other.</summary>
    private void ContinueSectorDma()
    {
        var bm = BusMaster;
        while (true)
        {
            bool stayActive = false;
            int done;
            if (_ioBufferSize > SectorCount * SectorSize)
            {
                // The descriptors described more than the command needs: the engine stays active.
                done = SectorCount;
                stayActive = true;
            }
            else
            {
                done = _ioBufferSize / SectorSize;
            }

            long sector = CurrentSector();
            if (done > 0)
            {
                bm.CommitBuffer(done * SectorSize);
                sector += done;
                SetSector(sector);
                SectorCount -= done;
            }

            if (SectorCount == 0)
            {
                Status = StatusReady | StatusSeekComplete;
                _channel.RaiseInterrupt();
                SetInactive(stayActive);
                return;
            }

            int n = SectorCount;
            _ioBufferIndex = 0;
            var scatter = new List<(ulong Address, int Length)>();
            int prepared = bm.PrepareBuffer(n * SectorSize, scatter, out _ioBufferSize);
            if (prepared < n * SectorSize)
            {
                // Too few descriptors: the engine stops, no interrupt, no error.
                Status = StatusReady | StatusSeekComplete;
                bm.CommitBuffer(0);
                SetInactive(false);
                return;
            }

            if (_dmaCommand != DmaCommand.Trim && !SectorRangeOk(sector, n))
            {
                DmaError();
                return;
            }

            bool ok = _dmaCommand switch
            {
                DmaCommand.Read => TransferSectors(sector, scatter, toMemory: true),
                DmaCommand.Write => TransferSectors(sector, scatter, toMemory: false),
                _ => Trim(scatter),
            };
            if (!ok)
            {
                DmaError();
                return;
            }
        }
    }

    /// <summary>Moves the sectors from <paramref name="sector"/> between the medium and the scatter list.</summary>
    private bool TransferSectors(long sector, List<(ulong Address, int Length)> scatter, bool toMemory)
    {
        long offset = sector * SectorSize;
        foreach (var (address, length) in scatter)
        {
            var chunk = new byte[length];
            if (toMemory)
            {
                if (!TryRead(offset, chunk))
                {
                    return false;
                }

                BusMaster.WriteMemory(address, chunk);
            }
            else
            {
                BusMaster.ReadMemory(address, chunk);
                if (!TryWrite(offset, chunk))
                {
                    return false;
                }
            }

            offset += length;
        }

        return true;
    }

    /// <summary>QEMU ide_issue_trim: every (6-byte LBA, 2-byte count) entry must lie on the medium; the discard itself does nothing (discard=ignore).</summary>
    private bool Trim(List<(ulong Address, int Length)> scatter)
    {
        foreach (var (address, length) in scatter)
        {
            var ranges = new byte[length];
            BusMaster.ReadMemory(address, ranges);
            for (int i = 0; i + TrimEntrySize <= length; i += TrimEntrySize)
            {
                ulong entry = BitConverter.ToUInt64(ranges, i);
                long start = (long)(entry & 0x0000_FFFF_FFFF_FFFF);
                int count = (int)(entry >> 48);
                if (count != 0 && !SectorRangeOk(start, count))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>QEMU ide_dma_error: aborted, engine stopped, interrupt.</summary>
    private void DmaError()
    {
        Abort();
        SetInactive(false);
        _channel.RaiseInterrupt();
    }

    /// <summary>QEMU ide_set_inactive: the transport's engine stops (or stays active) and the command is done.</summary>
    private void SetInactive(bool more)
    {
        _channel.SetInactive(more);
        _channel.CommandDone();
    }
}
