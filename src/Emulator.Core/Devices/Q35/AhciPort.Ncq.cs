// Native command queuing on an AHCI port as QEMU 7.2 does it (hw/ide/ahci.c is_ncq,
// process_ncq_command, execute_ncq_command, ncq_cb, ncq_err, ncq_finish, ahci_write_fis_sdb):
// READ and WRITE FPDMA QUEUED move the command's sectors through its PRDT and report with a
// set-device-bits FIS at FB + 0x58 (status & 0x77, error, the finished tags), PxSACT losing the
// finished tags and PxIS.SDBS; a PRDT shorter than the transfer, a range past the medium or a
// backend error report ABRT, leave the tag in PxSACT and PxSERR untouched (the PRDT case with
// PxIS.OFS and no FIS, as recorded from QEMU 7.2); the other queued commands (NCQ NON-DATA, SEND/RECEIVE FPDMA QUEUED) fail the same way
// without a FIS. The transfer completes within the PxCI write (QEMU's finishes asynchronously).
// IDENTIFY reports a queue depth of 32 behind an AHCI port, so a guest may use these; OVMF and
// GRUB (through the firmware) do not.
using Emulator.Core.Devices.Ide;

namespace Emulator.Core.Devices.Q35;

internal sealed partial class AhciPort
{
    private const byte ReadFpdmaQueued = 0x60;
    private const byte WriteFpdmaQueued = 0x61;
    private const int SetDeviceBitsFisOffset = 0x58;
    private const byte FisTypeSetDeviceBits = 0xA1;
    private const int IsSdbs = 3;
    private const int IsOfs = 24;

    /// <summary>is_ncq: the queued commands of SATA 3.2.</summary>
    private static bool IsNcq(byte command) => command is ReadFpdmaQueued or WriteFpdmaQueued or 0x63 or 0x65 or 0x64;

    /// <summary>process_ncq_command + execute_ncq_command + ncq_cb for the command FIS in the current slot.</summary>
    private void ProcessNcq(byte[] fis)
    {
        int tag = fis[12] >> 3;
        long lba = ((long)fis[10] << 40) | ((long)fis[9] << 32) | ((long)fis[8] << 24) | ((long)fis[6] << 16) | ((long)fis[5] << 8) | fis[4];
        int count = (fis[11] << 8) | fis[3];
        long size = (count == 0 ? 0x10000 : count) * (long)IdeDevice.SectorSize;
        var regions = Regions(size, 0) ?? [];
        if (regions.Sum(r => (long)r.Length) < size)
        {
            NcqError();
            Trigger(IsOfs);
            return;
        }

        if (fis[2] is not (ReadFpdmaQueued or WriteFpdmaQueued))
        {
            NcqError();
            return;
        }

        if (_device!.TransferQueued(lba, regions, toMemory: fis[2] == ReadFpdmaQueued))
        {
            _device!.SetQueuedResult(ok: true);
            Regs.Finished |= 1u << tag;
        }
        else
        {
            NcqError();
        }

        WriteSetDeviceBitsFis();
    }

    /// <summary>ncq_err: ABRT, DRDY | ERR. QEMU 7.2 leaves PxSERR as it was (recorded: Devices/Ide/Data/ahci.txt); the tag stays set in PxSACT.</summary>
    private void NcqError()
    {
        _device!.SetQueuedResult(ok: false);
    }

    /// <summary>ahci_write_fis_sdb: the set-device-bits FIS, PxTFD but BSY and DRQ, PxSACT without the finished tags, SDBS.</summary>
    private void WriteSetDeviceBitsFis()
    {
        if ((Regs.Command & AhciHba.CmdFisRunning) == 0)
        {
            return;
        }

        var fis = new byte[8];
        var registers = new byte[AhciHba.D2hFisLength];
        _device!.WriteFisRegisters(registers);
        fis[0] = FisTypeSetDeviceBits;
        fis[1] = 0x40;
        fis[2] = (byte)(registers[2] & 0x77);
        fis[3] = registers[3];
        BitConverter.TryWriteBytes(fis.AsSpan(4), Regs.Finished);
        _hba.Memory.WriteBlock(FisBase + SetDeviceBitsFisOffset, fis);
        Regs.TaskFile = (uint)(registers[3] << 8) | (uint)(registers[2] & 0x77) | (Regs.TaskFile & 0x88);
        Regs.SataActive &= ~Regs.Finished;
        Regs.Finished = 0;
        Trigger(IsSdbs);
    }
}
