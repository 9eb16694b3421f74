using System.Buffers.Binary;

namespace Emulator.Core.Devices.Ide;

/// <summary>
/// The table of contents QEMU reports for a CD-ROM image (hw/block/cdrom.c, "same toc as bochs"):
/// one session, one data track from LBA 0, the lead-out after the last sector; addresses as LBA
/// or as MSF (2 seconds of lead-in added).
/// </summary>
internal static class CdToc
{
    private const byte DataTrackControl = 0x14;
    private const byte LeadOutControl = 0x16;
    private const byte LeadOutTrack = 0xAA;

    /// <summary>READ TOC format 0 (cdrom_read_toc): the track and the lead-out from <paramref name="startTrack"/>; -1 for a track past the first.</summary>
    public static int Write(Span<byte> b, int sectors, bool msf, int startTrack)
    {
        if (startTrack > 1 && startTrack != LeadOutTrack)
        {
            return -1;
        }

        int q = 2;
        b[q++] = 1;  // first track
        b[q++] = 1;  // last track
        if (startTrack <= 1)
        {
            q = Descriptor(b, q, DataTrackControl, 1, 0, msf);
        }

        q = Descriptor(b, q, LeadOutControl, LeadOutTrack, sectors, msf);
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)(q - 2));
        return q;
    }

    /// <summary>READ TOC format 1: the multi-session header of a single-session disc.</summary>
    public static int WriteSessionInfo(Span<byte> b)
    {
        b[..12].Clear();
        b[1] = 0x0A;
        b[2] = 0x01;
        b[3] = 0x01;
        return 12;
    }

    /// <summary>READ TOC format 2 (cdrom_read_toc_raw): the A0, A1, A2 and track 1 entries of the full TOC.</summary>
    public static int WriteRaw(Span<byte> b, int sectors, bool msf)
    {
        int q = 2;
        b[q++] = 1;
        b[q++] = 1;
        q = RawEntry(b, q, 0xA0, [0, 0, 0, 0, 1, 0, 0]);   // first track, disc type 0
        q = RawEntry(b, q, 0xA1, [0, 0, 0, 0, 1, 0, 0]);   // last track
        q = RawEntry(b, q, 0xA2, [0, 0, 0]);               // lead-out
        q = Address(b, q, sectors, msf);
        q = RawEntry(b, q, 1, [0, 0, 0]);
        q = Address(b, q, 0, msf);
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)(q - 2));
        return q;
    }

    /// <summary>QEMU lba_to_msf: minute, second, frame of <paramref name="lba"/> after the 2-second lead-in.</summary>
    public static void LbaToMsf(Span<byte> msf, int lba)
    {
        lba += 150;
        msf[0] = (byte)(lba / 75 / 60);
        msf[1] = (byte)(lba / 75 % 60);
        msf[2] = (byte)(lba % 75);
    }

    private static int RawEntry(Span<byte> b, int q, byte point, ReadOnlySpan<byte> rest)
    {
        b[q++] = 1;                 // session
        b[q++] = DataTrackControl;
        b[q++] = 0;                 // track number
        b[q++] = point;
        rest.CopyTo(b[q..]);
        return q + rest.Length;
    }

    private static int Descriptor(Span<byte> b, int q, byte control, byte track, int lba, bool msf)
    {
        b[q++] = 0;
        b[q++] = control;
        b[q++] = track;
        b[q++] = 0;
        return Address(b, q, lba, msf);
    }

    private static int Address(Span<byte> b, int q, int lba, bool msf)
    {
        if (msf)
        {
            b[q] = 0;
            LbaToMsf(b[(q + 1)..], lba);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(b[q..], (uint)lba);
        }

        return q + 4;
    }
}
