// i440FX PAM (Programmable Attribute Map) attribute of one segment of 0xC0000–0xFFFFF, Intel 82441FX
// datasheet §3.2.18: bit 0 read enable (RE), bit 1 write enable (WE) of each PAM nibble.
// Only describes the attribute; mapping RAM or ROM there is the machine builder's job.
namespace Emulator.Core.Devices.Pci;

/// <summary>Where reads and writes to a PAM segment go: with the flag, to DRAM; without it, to the PCI/ROM side.</summary>
[Flags]
public enum PamAccess
{
    None = 0,
    ReadDram = 1,
    WriteDram = 2,
}
