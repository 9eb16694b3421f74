// One segment of the i440FX PAM map (Intel 82441FX datasheet §3.2.18): PAM0 (0x59) bits 7–4
// cover the BIOS area 0xF0000–0xFFFFF; PAM1–PAM6 (0x5A–0x5F) each cover two 16 KiB segments of
// 0xC0000–0xEFFFF, the low nibble the lower one. Pure description, no behaviour.
namespace Emulator.Core.Devices.Pci;

/// <summary>A PAM-controlled range: its physical start and size, and the register and nibble that control it.</summary>
public readonly record struct PamSegment(uint Start, uint Size, int Register, int Shift);
