namespace Emulator.Core.Memory;

/// <summary>What backs a page of physical address space. Kinds with a device come last (PhysicalBus.Write tests <c>&gt;= RomDevice</c>).</summary>
public enum RegionKind : byte
{
    /// <summary>Nothing: reads return the bus's unassigned value, writes are dropped and counted.</summary>
    Unassigned,

    /// <summary>Host memory, read and written directly.</summary>
    Ram,

    /// <summary>Host memory read directly; guest writes are dropped (QEMU's read-only RAM, e.g. the 0xE0000 BIOS copy).</summary>
    Rom,

    /// <summary>
    /// A ROM device (QEMU's memory_region_init_rom_device): reads come straight from host memory
    /// while the device is in "array" mode; writes always go to the device, which may switch
    /// reads to itself (CFI flash command mode).
    /// </summary>
    RomDevice,

    /// <summary>Every access goes to the device.</summary>
    Mmio,
}
