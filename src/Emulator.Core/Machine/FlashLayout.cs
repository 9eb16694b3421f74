namespace Emulator.Core.Machine;

/// <summary>Where one flash chip sits in physical memory.</summary>
public sealed record FlashPlacement(int Unit, string Name, ulong Base, ulong Size);

/// <summary>
/// QEMU 7.2's pc_system_flash_map (hw/i386/pc_sysfw.c) placement rules for the PC machine
/// (docs/qemu-pflash.md): unit 0 ends exactly at 4 GiB, unit 1 sits directly below it;
/// each image is a non-zero multiple of 4 KiB; together at most 8 MiB (configurable to 16 MiB);
/// unit 1 needs unit 0. The last 128 KiB of unit 0 are copied once to 0xE0000–0xFFFFF.
/// Without flash, QEMU's x86_bios_rom_init (hw/i386/x86.c) maps a <c>-bios</c> ROM in whole 64 KiB units.
/// These rules are the one source for every check of a firmware file's size: the machine applies
/// them to the bytes it maps, the command line to the sizes of the files before reading them.
/// </summary>
public static class FlashLayout
{
    public const ulong FourGiB = 1UL << 32;
    public const ulong SectorSize = 0x1000;
    public const ulong DefaultMaxFirmwareSize = 8UL << 20;
    public const ulong LargestMaxFirmwareSize = 16UL << 20;
    public const ulong IsaBiosWindowSize = 128UL << 10;
    public const ulong IsaBiosWindowEnd = 0x100000;

    /// <summary>QEMU's x86_bios_rom_init accepts BIOS images in whole 64 KiB units.</summary>
    public const ulong BiosSizeUnit = 64UL << 10;

    /// <summary>Places the chips; <paramref name="units"/>[i] is unit i's name (for messages) and image size (null when absent).</summary>
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

            CheckUnitSize(units[unit].Name, size);

            // QEMU tests the running total after each unit, with its overflow guard.
            if (total + size < size || total + size > maxFirmwareSize)
            {
                var present = units.Where(u => u.Size is not null).Select(u => $"{u.Name} ({u.Size} bytes)");
                throw new FirmwareLayoutException($"combined size of system firmware exceeds {maxFirmwareSize} bytes: {string.Join(" + ", present)}");
            }

            total += size;
            top -= size;
            result.Add(new FlashPlacement(unit, units[unit].Name, top, size));
        }

        return result;
    }

    /// <summary>One flash image's own rule (pc_system_flash_map): a non-zero multiple of the 4 KiB sector.</summary>
    public static void CheckUnitSize(string name, ulong size)
    {
        if (size == 0 || size % SectorSize != 0)
        {
            throw new FirmwareLayoutException(
                $"{name} has invalid size {size} for a system firmware block device: its size must be a non-zero multiple of 0x{SectorSize:x}");
        }
    }

    /// <summary>
    /// A <c>-bios</c> ROM's rule: QEMU 7.2's x86_bios_rom_init refuses a size that is zero or not
    /// whole 64 KiB units ("could not load PC BIOS"); emu also refuses more than 16 MiB, the most
    /// flash QEMU can map (QEMU itself maps a larger ROM over the memory below it).
    /// </summary>
    public static void CheckBiosSize(string name, ulong size)
    {
        if (size == 0 || size % BiosSizeUnit != 0 || size > LargestMaxFirmwareSize)
        {
            throw new FirmwareLayoutException(
                $"{name} is {size} bytes: a BIOS image must be a non-zero multiple of 64 KiB and at most {LargestMaxFirmwareSize} bytes (QEMU x86_bios_rom_init: could not load PC BIOS)");
        }
    }
}
