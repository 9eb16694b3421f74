namespace Emulator.Core.Memory;

/// <summary>
/// The address-space views below 4 GiB an overlay appears in (QEMU's two x86 address spaces:
/// "cpu-memory" and, for attrs.secure accesses in SMM, "cpu-smm"; target/i386/tcg/sysemu/tcg-cpu.c).
/// </summary>
[Flags]
public enum MemoryView : byte
{
    /// <summary>Not an overlay: a region of the base map, seen in both views.</summary>
    None = 0,

    /// <summary>What accesses outside SMM (and device DMA) see.</summary>
    Normal = 1,

    /// <summary>What the CPU sees in System Management Mode.</summary>
    Smm = 2,

    /// <summary>Both views.</summary>
    Both = Normal | Smm,
}
