// The IDENTIFY DEVICE and IDENTIFY PACKET DEVICE data of QEMU 7.2's ide-hd and ide-cd (hw/ide/core.c
// ide_identify, ide_identify_size, ide_atapi_identify), word for word, with the properties QEMU
// gives a drive created from -drive: serial QM0000n, firmware "2.5+" (qemu_hw_version), model
// "QEMU HARDDISK" / "QEMU DVD-ROM", discard_granularity 512 (ide-dev.c: words 69 and 169),
// physical block size 512 (word 106 = 0x6000), rotation rate 0, no WWN, NCQ (words 75/76) only
// behind an AHCI port; the CD-ROM
// with USE_DMA_CDROM's words (internal.h defines it): DMA supported, words 62/63/88 valid. The data is built once (QEMU's
// identify_set) and SET FEATURES edits it afterwards; a reset keeps it.
namespace Emulator.Core.Devices.Ide;

public sealed partial class IdeDevice
{
    /// <summary>qemu_hw_version(): the firmware revision QEMU's drives report.</summary>
    public const string FirmwareRevision = "2.5+";

    public const string DiskModel = "QEMU HARDDISK";
    public const string CdRomModel = "QEMU DVD-ROM";

    private const int IdentifyWords = 256;

    private readonly ushort[] _identify = new ushort[IdentifyWords];
    private bool _identifySet;

    /// <summary>The write cache is on (QEMU's cache=writeback default); SET FEATURES 02/82 switch it (IDENTIFY word 85 bit 5).</summary>
    public bool WriteCacheEnabled { get; private set; } = true;

    /// <summary>The 256 IDENTIFY words as last built or edited (zeros before the first IDENTIFY).</summary>
    public ReadOnlySpan<ushort> IdentifyData => _identify;

    /// <summary>QEMU ide_identify into the I/O buffer.</summary>
    private void BuildIdentify()
    {
        if (!_identifySet)
        {
            var p = _identify;
            Array.Clear(p);
            var g = Geometry;
            p[0] = 0x0040;
            p[1] = (ushort)g.Cylinders;
            p[3] = (ushort)g.Heads;
            p[4] = (ushort)(SectorSize * g.SectorsPerTrack);
            p[5] = SectorSize;
            p[6] = (ushort)g.SectorsPerTrack;
            PutIdentity(DiskModel);
            p[47] = 0x8000 | MaxMultipleSectors;
            p[48] = 1;
            p[49] = (1 << 11) | (1 << 9) | (1 << 8);
            p[51] = 0x200;
            p[52] = 0x200;
            p[53] = 1 | (1 << 1) | (1 << 2);
            p[54] = (ushort)g.Cylinders;
            p[55] = (ushort)g.Heads;
            p[56] = (ushort)g.SectorsPerTrack;
            uint chsSectors = (uint)(g.Cylinders * g.Heads * g.SectorsPerTrack);
            p[57] = (ushort)chsSectors;
            p[58] = (ushort)(chsSectors >> 16);
            if (MultipleSectors != 0)
            {
                p[59] = (ushort)(0x100 | MultipleSectors);
            }

            p[62] = 0x07;
            p[63] = 0x07;
            p[64] = 0x03;
            p[65] = p[66] = p[67] = p[68] = 120;
            p[69] = 1 << 14;
            if (NcqQueues != 0)
            {
                p[75] = (ushort)(NcqQueues - 1);
                p[76] = 1 << 8;
            }

            p[80] = 0xF0;
            p[81] = 0x16;
            p[82] = (1 << 14) | (1 << 5) | 1;
            p[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10);
            p[84] = 1 << 14;
            p[85] = (ushort)(WriteCacheEnabled ? (1 << 14) | (1 << 5) | 1 : (1 << 14) | 1);
            p[86] = (1 << 13) | (1 << 12) | (1 << 10);
            p[87] = 1 << 14;
            p[88] = 0x3F | (1 << 13);
            p[93] = 1 | (1 << 14) | 0x2000;
            p[106] = 0x6000;
            p[169] = 1;
            long lba28 = Math.Min(SectorCountTotal, LastLba28Sector);
            p[60] = (ushort)lba28;
            p[61] = (ushort)(lba28 >> 16);
            for (int i = 0; i < 4; i++)
            {
                p[100 + i] = (ushort)(SectorCountTotal >> (16 * i));
            }

            _identifySet = true;
        }

        CopyIdentifyToBuffer();
    }

    /// <summary>QEMU ide_atapi_identify into the I/O buffer: a removable CD-ROM, 12-byte packets, LBA and DMA up to UDMA5 (QEMU builds it with USE_DMA_CDROM).</summary>
    private void BuildAtapiIdentify()
    {
        if (!_identifySet)
        {
            var p = _identify;
            Array.Clear(p);
            p[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5);
            PutIdentity(CdRomModel);
            p[48] = 1;
            p[49] = (1 << 9) | (1 << 8);
            p[53] = 7;
            p[62] = 7;
            p[63] = 7;
            p[64] = 3;
            p[65] = 0xB4;
            p[66] = 0xB4;
            p[67] = 0x12C;
            p[68] = 0xB4;
            p[71] = 30;
            p[72] = 30;
            p[80] = 0x1E;
            p[88] = 0x3F | (1 << 13);
            _identifySet = true;
        }

        CopyIdentifyToBuffer();
    }

    /// <summary>Words 10–46 both kinds share: serial, buffer type 3 of 512 sectors, 4 ECC bytes, firmware revision, model.</summary>
    private void PutIdentity(string model)
    {
        PutString(10, SerialNumber, 20);
        _identify[20] = 3;
        _identify[21] = 512;
        _identify[22] = 4;
        PutString(23, FirmwareRevision, 8);
        PutString(27, model, 40);
    }

    private void SetIdentifyWord(int word, int value) => _identify[word] = (ushort)value;

    private void CopyIdentifyToBuffer()
    {
        for (int i = 0; i < IdentifyWords; i++)
        {
            _buffer[2 * i] = (byte)_identify[i];
            _buffer[(2 * i) + 1] = (byte)(_identify[i] >> 8);
        }
    }

    /// <summary>QEMU padstr: ATA strings, space-padded, the two bytes of each word swapped.</summary>
    private void PutString(int word, string text, int length)
    {
        for (int i = 0; i < length; i++)
        {
            byte c = i < text.Length ? (byte)text[i] : (byte)' ';
            int at = i ^ 1;
            ref ushort w = ref _identify[word + (at / 2)];
            w = (at & 1) == 0 ? (ushort)((w & 0xFF00) | c) : (ushort)((w & 0x00FF) | (c << 8));
        }
    }
}
