// What an AHCI port reaches in its IDE device (QEMU 7.2 hw/ide/ahci.c handle_reg_h2d_fis,
// ahci_set_signature, ahci_reset_port, ahci_write_fis_d2h/pio, which read and write IDEState
// directly): the task file a command FIS loads, the registers a received FIS reports, and the
// signature and status a port reset leaves. The PIIX3 channels never call these.
namespace Emulator.Core.Devices.Ide;

public sealed partial class IdeDevice
{
    /// <summary>
    /// handle_reg_h2d_fis: the command FIS's bytes 3–13 become features, LBA low/mid/high,
    /// device, the HOB LBA bytes, HOB features and the full 16-bit count (the HOB count stays,
    /// as QEMU never sets it from a FIS); the error register is cleared.
    /// </summary>
    internal void LoadCommandFis(ReadOnlySpan<byte> fis)
    {
        Features = fis[3];
        LbaLow = fis[4];
        LbaMid = fis[5];
        LbaHigh = fis[6];
        DeviceHead = fis[7];
        HobLbaLow = fis[8];
        HobLbaMid = fis[9];
        HobLbaHigh = fis[10];
        HobFeatures = fis[11];
        SectorCount = (fis[13] << 8) | fis[12];
        Error = 0;
    }

    /// <summary>The register block of a D2H register or PIO setup FIS, bytes 2–13 (status, error, LBA, device, HOB LBA, 0, count).</summary>
    internal void WriteFisRegisters(Span<byte> fis)
    {
        fis[2] = Status;
        fis[3] = Error;
        fis[4] = LbaLow;
        fis[5] = LbaMid;
        fis[6] = LbaHigh;
        fis[7] = DeviceHead;
        fis[8] = HobLbaLow;
        fis[9] = HobLbaMid;
        fis[10] = HobLbaHigh;
        fis[11] = 0;
        fis[12] = (byte)SectorCount;
        fis[13] = (byte)(SectorCount >> 8);
    }

    /// <summary>The signature as PxSIG takes it from the task file (ahci_init_d2h): LBA high, mid, low, count.</summary>
    internal uint TaskFileSignature => ((uint)LbaHigh << 24) | ((uint)LbaMid << 16) | ((uint)LbaLow << 8) | (uint)(SectorCount & 0xFF);

    /// <summary>ahci_reset_port for a drive: ahci_set_signature, then status (DSC | DWF, with DRDY for a CD-ROM) and error 1.</summary>
    internal void SetPortResetState(uint signature, byte status)
    {
        LbaHigh = (byte)(signature >> 24);
        LbaMid = (byte)(signature >> 16);
        LbaLow = (byte)(signature >> 8);
        SectorCount = (byte)signature;
        Status = status;
        Error = 1;
    }

    /// <summary>QEMU ncq_queues: an AHCI port reset sets 32 (AHCI_MAX_CMDS), which IDENTIFY reports in words 75 and 76; 0 on the PIIX3.</summary>
    internal int NcqQueues { get; set; }

    /// <summary>A queued (NCQ) command's end in the task file: DRDY | DSC (ncq_cb), or DRDY | ERR with ABRT (ncq_err).</summary>
    internal void SetQueuedResult(bool ok)
    {
        (Status, Error) = ok ? ((byte)(StatusReady | StatusSeekComplete), Error) : ((byte)(StatusReady | StatusError), ErrorAbort);
    }

    /// <summary>A queued (NCQ) transfer: the sectors from <paramref name="sector"/> between the medium and the regions, through the transport's memory; false past the medium's end or on a backend error.</summary>
    internal bool TransferQueued(long sector, List<(ulong Address, int Length)> regions, bool toMemory) =>
        SectorRangeOk(sector, regions.Sum(r => (long)r.Length) / SectorSize) && TransferSectors(sector, regions, toMemory);

    /// <summary>QEMU ide_reset through ide_bus_reset (an AHCI port reset).</summary>
    internal void BusReset() => Reset();
}
