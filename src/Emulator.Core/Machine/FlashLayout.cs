namespace Emulator.Core.Machine;

/// <summary>Where one flash chip sits in physical memory.</summary>
public sealed record FlashPlacement(int Unit, string Name, ulong Base, ulong Size);

/// <summary>
/// QEMU 7.2's pc_system_flash_map (hw/i386/pc_sysfw.c) placement rules for the PC machine
/// (docs/qemu-pflash.md): unit 0 ends exactly at 4 GiB, unit 1 sits directly below it;
/// each image is a non-zero multiple of 4 KiB; together at most 8 MiB (configurable to 16 MiB);
/// unit 1 needs unit 0. The last 128 KiB of unit 0 are copied once to 0xE0000–0xFFFFF.
/// </summary>
public static class FlashLayout
{
    public const ulong FourGiB = 1UL << 32;
    public const ulong SectorSize = 0x1000;
    public const ulong DefaultMaxFirmwareSize = 8UL << 20;
    public const ulong LargestMaxFirmwareSize = 16UL << 20;
    public const ulong IsaBiosWindowSize = 128UL << 10;
    public const ulong IsaBiosWindowEnd = 0x100000;

    /// <summary>Places the chips; <paramref name="sizes"/>[i] is unit i's image size (null when absent).</summary>
    public static IReadOnlyList<FlashPlacement> Place(IReadOnlyList<(string Name, ulong? Size)> units, ulong maxFirmwareSize = DefaultMaxFirmwareSize)
    {
        if (maxFirmwareSize > LargestMaxFirmwareSize)
        {
            throw new FirmwareLayoutException($"max firmware size must be at most {LargestMaxFirmwareSize} bytes");
        }

        if (units.Count > 2)
        {
            throw new FirmwareLayoutException("the pc machine has two flash units (0 and 1)");
        }

        if (units.Count == 0 || units[0].Size is null)
        {
            if (units.Count > 1 && units[1].Size is not null)
            {
                throw new FirmwareLayoutException("pflash1 requires pflash0");
            }

            throw new FirmwareLayoutException("no system firmware: unit 0 is required");
        }

        var result = new List<FlashPlacement>();
        ulong top = FourGiB;
        ulong total = 0;
        for (int unit = 0; unit < units.Count; unit++)
        {
            if (units[unit].Size is not ulong size)
            {
                continue;
            }

            if (size == 0 || size % SectorSize != 0)
            {
                throw new FirmwareLayoutException(
                    $"system firmware block device {units[unit].Name} has invalid size {size}: its size must be a non-zero multiple of 0x{SectorSize:x}");
            }

            total += size;
            if (total > maxFirmwareSize)
            {
                throw new FirmwareLayoutException($"combined size of system firmware exceeds {maxFirmwareSize} bytes");
            }

            top -= size;
            result.Add(new FlashPlacement(unit, units[unit].Name, top, size));
        }

        return result;
    }
}
