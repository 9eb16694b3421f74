// The SCSI/MMC commands QEMU 7.2's ide-cd answers (hw/ide/atapi.c atapi_cmd_table and its
// handlers, hw/block/cdrom.c for READ TOC): TEST UNIT READY, REQUEST SENSE, INQUIRY (standard
// data and VPD pages 00/83), START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, READ CAPACITY,
// READ(10)/(12), SEEK, READ TOC/PMA/ATIP (formats 0–2), GET CONFIGURATION (profile list only),
// GET EVENT STATUS NOTIFICATION (polled, media class), READ DISC INFORMATION, MODE SENSE(10)
// (pages 01, 0E, 2A), READ DVD STRUCTURE, SET SPEED, MECHANISM STATUS, READ CD. Replies are built
// in the I/O buffer over the packet, as QEMU does, so every handler reads its packet fields first.
using System.Buffers.Binary;

namespace Emulator.Core.Devices.Ide;

public sealed partial class IdeDevice
{
    [Flags]
    private enum AtapiFlags
    {
        None = 0,

        /// <summary>Runs under a pending unit attention (MMC-5 4.1.6.1).</summary>
        AllowUnitAttention = 1,

        /// <summary>Needs a medium: NOT READY / MEDIUM NOT PRESENT without one.</summary>
        CheckReady = 2,

        /// <summary>Never returns data: a byte count limit of 0 is fine.</summary>
        NoData = 4,

        /// <summary>Returns data only for some options: the handler checks the byte count limit.</summary>
        ConditionalData = 8,
    }

    private readonly record struct AtapiEntry(Action<IdeDevice> Handler, AtapiFlags Flags);

    private static readonly AtapiEntry?[] AtapiCommands = BuildAtapiTable();

    private static AtapiEntry?[] BuildAtapiTable()
    {
        var t = new AtapiEntry?[256];
        const AtapiFlags ua = AtapiFlags.AllowUnitAttention, ready = AtapiFlags.CheckReady, nodata = AtapiFlags.NoData;
        t[0x00] = new(static d => d.AtapiOk(), ready | nodata);
        t[0x03] = new(static d => d.RequestSense(), ua);
        t[0x12] = new(static d => d.Inquiry(), ua);
        t[0x1B] = new(static d => d.StartStopUnit(), nodata);
        t[0x1E] = new(static d => d.PreventAllowMediumRemoval(), nodata);
        t[0x25] = new(static d => d.ReadCapacity(), ready);
        t[0x28] = new(static d => d.ReadCommand(), ready);
        t[0x2B] = new(static d => d.SeekCommand(), ready | nodata);
        t[0x43] = new(static d => d.ReadToc(), ready);
        t[0x46] = new(static d => d.GetConfiguration(), ua);
        t[0x4A] = new(static d => d.GetEventStatusNotification(), ua);
        t[0x51] = new(static d => d.ReadDiscInformation(), ready);
        t[0x5A] = new(static d => d.ModeSense(), AtapiFlags.None);
        t[0xA8] = new(static d => d.ReadCommand(), ready);
        t[0xAD] = new(static d => d.ReadDvdStructure(), ready);
        t[0xBB] = new(static d => d.AtapiOk(), nodata);
        t[0xBD] = new(static d => d.MechanismStatus(), AtapiFlags.None);
        t[0xBE] = new(static d => d.ReadCd(), ready | AtapiFlags.ConditionalData);
        return t;
    }

    private int TotalCdSectors => (int)(SectorCountTotal / 4);

    private void RequestSense()
    {
        int maxLength = _buffer[4];
        var b = _buffer.AsSpan(0, 18);
        b.Clear();
        b[0] = 0x70 | 0x80;
        b[2] = (byte)_senseKey;
        b[7] = 10;
        b[12] = (byte)_asc;
        if (_senseKey == Sense.UnitAttention)
        {
            _senseKey = Sense.NoSense;
        }

        AtapiReply(18, maxLength);
    }

    private void Inquiry()
    {
        byte pageCode = _buffer[2];
        int maxLength = _buffer[4];
        var b = _buffer.AsSpan();
        int sizeIndex, preamble, index;
        if ((_buffer[1] & 0x01) != 0)
        {
            // Vital product data: the supported pages, and device identification after libata.
            preamble = 4;
            sizeIndex = 3;
            b[0] = 0x05;
            b[1] = pageCode;
            b[2] = 0;
            index = 4;
            switch (pageCode)
            {
                case 0x00:
                    b[index++] = 0x00;
                    b[index++] = 0x83;
                    break;
                case 0x83:
                    if (index + 24 > maxLength)
                    {
                        AtapiError(Sense.IllegalRequest, Asc.DataPhaseError);
                        return;
                    }

                    b[index++] = 0x02;
                    b[index++] = 0x00;
                    b[index++] = 0x00;
                    b[index++] = 20;
                    PadAscii(b.Slice(index, 20), SerialNumber);
                    index += 20;
                    if (index + 72 > maxLength)
                    {
                        break;
                    }

                    b[index++] = 0x02;
                    b[index++] = 0x01;
                    b[index++] = 0x00;
                    b[index++] = 68;
                    PadAscii(b.Slice(index, 8), "ATA");
                    PadAscii(b.Slice(index + 8, 40), CdRomModel);
                    PadAscii(b.Slice(index + 48, 20), SerialNumber);
                    index += 68;
                    break;
                default:
                    AtapiError(Sense.IllegalRequest, Asc.InvalidFieldInPacket);
                    return;
            }
        }
        else
        {
            preamble = 5;
            sizeIndex = 4;
            b[0] = 0x05;  // CD-ROM
            b[1] = 0x80;  // removable
            b[2] = 0x00;
            b[3] = 0x21;
            b[5] = b[6] = b[7] = 0;
            PadAscii(b.Slice(8, 8), "QEMU");
            PadAscii(b.Slice(16, 16), CdRomModel);
            PadAscii(b.Slice(32, 4), FirmwareRevision);
            index = 36;
        }

        b[sizeIndex] = (byte)(index - preamble);
        AtapiReply(index, maxLength);
    }

    private void StartStopUnit()
    {
        bool start = (_buffer[4] & 1) != 0;
        bool loadEject = (_buffer[4] & 2) != 0;
        if ((_buffer[4] & 0xF0) != 0)
        {
            // A power condition: no load or eject.
            AtapiOk();
            return;
        }

        if (loadEject)
        {
            if (!start && !TrayOpen && TrayLocked)
            {
                AtapiError(Backend != null ? Sense.NotReady : Sense.IllegalRequest, Asc.MediaRemovalPrevented);
                return;
            }

            TrayOpen = !start;
        }

        AtapiOk();
    }

    private void PreventAllowMediumRemoval()
    {
        TrayLocked = (_buffer[4] & 1) != 0;
        AtapiOk();
    }

    private void ReadCapacity()
    {
        // The last LBA, then the block size.
        BinaryPrimitives.WriteUInt32BigEndian(_buffer, (uint)(TotalCdSectors - 1));
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(4), AtapiSectorSize);
        AtapiReply(8, 8);
    }

    /// <summary>READ(10) and READ(12).</summary>
    private void ReadCommand()
    {
        uint count = _buffer[0] == 0x28 ? BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(7)) : BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(6));
        uint lba = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(2));
        if (AcceptCdRange(lba, count))
        {
            AtapiRead((int)lba, (int)count, AtapiSectorSize);
        }
    }

    /// <summary>A read of <paramref name="count"/> sectors from <paramref name="lba"/> may go on: 0 sectors complete at once, a range past the medium is ILLEGAL REQUEST / LBA out of range.</summary>
    private bool AcceptCdRange(uint lba, uint count)
    {
        if (count == 0)
        {
            AtapiOk();
            return false;
        }

        if (lba >= (uint)TotalCdSectors || lba + count - 1 >= (uint)TotalCdSectors)
        {
            AtapiError(Sense.IllegalRequest, Asc.LogicalBlockOutOfRange);
            return false;
        }

        return true;
    }

    private void ReadCd()
    {
        uint count = (uint)((_buffer[6] << 16) | (_buffer[7] << 8) | _buffer[8]);
        uint lba = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(2));
        if (!AcceptCdRange(lba, count))
        {
            return;
        }

        int transfer = _buffer[9] & 0xF8;
        if (transfer == 0)
        {
            AtapiOk();
            return;
        }

        if (!ValidateByteCountLimit())
        {
            return;
        }

        switch (transfer)
        {
            case 0x10:
                AtapiRead((int)lba, (int)count, AtapiSectorSize);
                break;
            case 0xF8:
                AtapiRead((int)lba, (int)count, RawSectorSize);
                break;
            default:
                AtapiError(Sense.IllegalRequest, Asc.InvalidFieldInPacket);
                break;
        }
    }

    private void SeekCommand()
    {
        uint lba = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(2));
        if (lba >= (uint)TotalCdSectors)
        {
            AtapiError(Sense.IllegalRequest, Asc.LogicalBlockOutOfRange);
            return;
        }

        AtapiOk();
    }

    /// <summary>READ TOC/PMA/ATIP: QEMU's one-track, one-session TOC (cdrom_read_toc, cdrom_read_toc_raw).</summary>
    private void ReadToc()
    {
        int maxLength = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(7));
        int format = _buffer[9] >> 6;
        bool msf = ((_buffer[1] >> 1) & 1) != 0;
        int startTrack = _buffer[6];
        int length = format switch
        {
            0 => CdToc.Write(_buffer, TotalCdSectors, msf, startTrack),
            1 => CdToc.WriteSessionInfo(_buffer),
            2 => CdToc.WriteRaw(_buffer, TotalCdSectors, msf),
            _ => -1,
        };
        if (length < 0)
        {
            AtapiError(Sense.IllegalRequest, Asc.InvalidFieldInPacket);
            return;
        }

        AtapiReply(length, maxLength);
    }

    /// <summary>GET CONFIGURATION: the feature header and the profile list feature (DVD-ROM, CD-ROM), the current profile from the medium's size.</summary>
    private void GetConfiguration()
    {
        if (_buffer[2] != 0 || _buffer[3] != 0)
        {
            AtapiError(Sense.IllegalRequest, Asc.InvalidFieldInPacket);
            return;
        }

        int maxLength = Math.Min((int)BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(7)), SectorSize);
        var b = _buffer.AsSpan();
        b[..maxLength].Clear();
        const ushort profileDvdRom = 0x0010, profileCdRom = 0x0008;
        if (MediumIsDvd)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b[6..], profileDvdRom);
        }
        else if (MediumIsCd)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b[6..], profileCdRom);
        }

        b[10] = 0x02 | 0x01;  // persistent, current
        int length = 12;
        foreach (ushort profile in (ushort[])[profileDvdRom, profileCdRom])
        {
            var entry = b[length..];
            BinaryPrimitives.WriteUInt16BigEndian(entry, profile);
            entry[2] = (byte)(entry[0] == b[6] && entry[1] == b[7] ? 1 : 0);
            b[11] += 4;
            length += 4;
        }

        BinaryPrimitives.WriteUInt32BigEndian(b, (uint)(length - 4));
        AtapiReply(length, maxLength);
    }

    /// <summary>GET EVENT STATUS NOTIFICATION, polled only: the media class with new-media / eject-request events.</summary>
    private void GetEventStatusNotification()
    {
        int maxLength = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(7));
        bool polled = (_buffer[1] & 1) != 0;
        int requested = _buffer[4];
        if (!polled)
        {
            AtapiError(Sense.IllegalRequest, Asc.InvalidFieldInPacket);
            return;
        }

        const int mediaClass = 4;
        var b = _buffer.AsSpan();
        b[3] = 1 << mediaClass;
        int used;
        if ((requested & (1 << mediaClass)) != 0)
        {
            b[2] = mediaClass;
            byte mediaStatus = TrayOpen ? (byte)1 : Backend != null ? (byte)2 : (byte)0;
            byte eventCode = 0;
            if (!TrayOpen && _newMediaEvent)
            {
                eventCode = 2;
                _newMediaEvent = false;
            }
            else if (!TrayOpen && _ejectRequestEvent)
            {
                eventCode = 1;
                _ejectRequestEvent = false;
            }

            b[4] = eventCode;
            b[5] = mediaStatus;
            b[6] = b[7] = 0;
            used = 8;
        }
        else
        {
            b[2] = 0x80;  // no event available
            used = 4;
        }

        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)(used - 4));
        AtapiReply(used, maxLength);
    }

    private void ReadDiscInformation()
    {
        int type = _buffer[1] & 7;
        int maxLength = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(7));
        if (type != 0)
        {
            AtapiError(Sense.IllegalRequest, Asc.InvalidFieldInPacket);
            return;
        }

        var b = _buffer.AsSpan(0, 34);
        b.Clear();
        b[1] = 32;
        b[2] = 0x0E;  // last session complete, disc finalized
        b[3] = 1;
        b[4] = 1;
        b[5] = 1;
        b[6] = 1;
        b[7] = 0x20;
        AtapiReply(34, maxLength);
    }

    /// <summary>MODE SENSE(10), current values of the error recovery, audio control and capabilities pages.</summary>
    private void ModeSense()
    {
        int maxLength = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(7));
        int control = _buffer[2] >> 6;
        int page = _buffer[2] & 0x3F;
        if (control == 3)
        {
            AtapiError(Sense.IllegalRequest, Asc.SavingParametersNotSupported);
            return;
        }

        int length = control == 0 ? page switch { 0x01 => 16, 0x0E => 24, 0x2A => 30, _ => 0 } : 0;
        if (length == 0)
        {
            AtapiError(Sense.IllegalRequest, Asc.InvalidFieldInPacket);
            return;
        }

        // QEMU writes the header and the page's fields over the packet; the audio page leaves
        // its even bytes 16–22 as the buffer had them.
        var b = _buffer.AsSpan(0, length);
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)(length - 2));
        b[2] = 0x70;
        b[3..8].Clear();
        b[8] = (byte)page;
        b[9] = (byte)(length - 10);
        if (page == 0x01)
        {
            b[10..16].Clear();
            b[11] = 0x05;
        }
        else if (page == 0x0E)
        {
            b[17] = b[19] = b[21] = b[23] = 0;
        }
        else
        {
            b[10..30].Clear();
            b[10] = 0x3B;  // reads CD-R/RW, DVD-ROM/R/RAM
            b[12] = 0x71;  // audio play among them (Linux automount checks it)
            b[13] = 3 << 5;
            b[14] = (byte)((1 << 0) | (1 << 3) | (1 << 5) | (TrayLocked ? 1 << 1 : 0));
            BinaryPrimitives.WriteUInt16BigEndian(b[16..], 704);
            b[19] = 2;
            BinaryPrimitives.WriteUInt16BigEndian(b[20..], 512);
            BinaryPrimitives.WriteUInt16BigEndian(b[22..], 704);
        }

        AtapiReply(length, maxLength);
    }

    private void MechanismStatus()
    {
        int maxLength = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(8));
        var b = _buffer.AsSpan(0, 8);
        b.Clear();
        b[5] = 1;
        AtapiReply(8, maxLength);
    }

    /// <summary>READ DVD STRUCTURE for DVD-ROM media (QEMU ide_dvd_read_structure): physical format, copyright, manufacturing, and the capability list.</summary>
    private void ReadDvdStructure()
    {
        int media = _buffer[1];
        int format = _buffer[7];
        int layer = _buffer[6];
        int maxLength = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(8));
        if (format < 0xFF && MediumIsCd)
        {
            AtapiError(Sense.IllegalRequest, Asc.IncompatibleFormat);
            return;
        }

        if (format < 0xFF && !MediumPresent)
        {
            AtapiError(Sense.IllegalRequest, Asc.InvalidFieldInPacket);
            return;
        }

        _buffer.AsSpan(0, Math.Min(maxLength, (BufferSectors * SectorSize) + 4)).Clear();
        int result = (format is <= 0x7F or 0xFF) && media == 0 ? DvdStructure(format, layer) : -Asc.InvalidFieldInPacket;
        if (result < 0)
        {
            AtapiError(Sense.IllegalRequest, -result);
            return;
        }

        AtapiReply(result, maxLength);
    }

    private int DvdStructure(int format, int layer)
    {
        var b = _buffer.AsSpan();
        switch (format)
        {
            case 0x00:
                int total = TotalCdSectors;
                if (layer != 0)
                {
                    return -Asc.InvalidFieldInPacket;
                }

                if (total == 0)
                {
                    return -Asc.MediumNotPresent;
                }

                b[4] = 1;
                b[5] = 0x0F;
                b[6] = 1;
                b[7] = 0;
                BinaryPrimitives.WriteUInt32BigEndian(b[8..], 0);
                BinaryPrimitives.WriteUInt32BigEndian(b[12..], (uint)(total - 1));
                BinaryPrimitives.WriteUInt32BigEndian(b[16..], (uint)(total - 1));
                BinaryPrimitives.WriteUInt16BigEndian(b, 2048 + 2);
                return 2048 + 4;
            case 0x01:
                b[4] = 0;
                b[5] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(b, 4 + 2);
                return 4 + 4;
            case 0x04:
                BinaryPrimitives.WriteUInt16BigEndian(b, 2048 + 2);
                return 2048 + 4;
            case 0xFF:
                (byte Format, ushort Length)[] list = [(0x00, 2048 + 4), (0x01, 4 + 4), (0x03, 188 + 4), (0x04, 2048 + 4)];
                for (int i = 0; i < list.Length; i++)
                {
                    b[4 + (4 * i)] = list[i].Format;
                    b[5 + (4 * i)] = 0x40;  // readable, not writable
                    BinaryPrimitives.WriteUInt16BigEndian(b[(6 + (4 * i))..], list[i].Length);
                }

                BinaryPrimitives.WriteUInt16BigEndian(b, 16 + 2);
                return 16 + 4;
            default:
                return -Asc.InvalidFieldInPacket;
        }
    }

    /// <summary>QEMU padstr8: ASCII, space-padded, in byte order.</summary>
    private static void PadAscii(Span<byte> destination, string text)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = i < text.Length ? (byte)text[i] : (byte)' ';
        }
    }
}
