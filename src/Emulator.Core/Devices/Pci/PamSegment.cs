// One segment of the PAM map, the same on the i440FX (Intel 82441FX datasheet §3.2.18, PAM0–6
// at 0x59–0x5F) and on the Q35 MCH (PAM0–6 at 0x90–0x96; QEMU hw/pci-host/pam.c): PAM0 bits
// 7–4 cover the BIOS area 0xF0000–0xFFFFF; PAM1–PAM6 each cover two 16 KiB segments of
// 0xC0000–0xEFFFF, the low nibble the lower one. Pure description, no behaviour.
namespace Emulator.Core.Devices.Pci;

/// <summary>A PAM-controlled range: its physical start and size, and the register (0–6) and nibble that control it.</summary>
public readonly record struct PamSegment(uint Start, uint Size, int Register, int Shift)
{
    public const int RegisterCount = 7;

    private const uint BiosAreaStart = 0xF0000;
    private const uint BiosAreaSize = 0x10000;
    private const uint ExpansionAreaStart = 0xC0000;
    private const uint ExpansionSegmentSize = 0x4000;
    private const int HighNibbleShift = 4;

    /// <summary>The 13 segments in QEMU's order (pam_regions[0] the BIOS area, then 0xC0000 upwards).</summary>
    public static IReadOnlyList<PamSegment> All { get; } = BuildSegments();

    /// <summary>The segment's attribute in PAM register value <paramref name="pam"/>.</summary>
    public PamAccess AccessIn(byte pam) => (PamAccess)((pam >> Shift) & (int)(PamAccess.ReadDram | PamAccess.WriteDram));

    private static PamSegment[] BuildSegments()
    {
        var segments = new PamSegment[1 + ((RegisterCount - 1) * 2)];
        segments[0] = new PamSegment(BiosAreaStart, BiosAreaSize, 0, HighNibbleShift);
        for (int i = 1; i < segments.Length; i++)
        {
            uint start = ExpansionAreaStart + ((uint)(i - 1) * ExpansionSegmentSize);
            segments[i] = new PamSegment(start, ExpansionSegmentSize, 1 + ((i - 1) / 2), ((i - 1) % 2) * HighNibbleShift);
        }

        return segments;
    }
}
