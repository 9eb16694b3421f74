namespace Emulator.Core.Platform.Smbios;

/// <summary>
/// What the machine builder tells the SMBIOS generator: the identity strings QEMU's machine type
/// passes to smbios_set_defaults (hw/i386/pc_piix.c), the system UUID, the boot CPU's CPUID
/// leaf 1 and the CPU topology, and the RAM: its size and the RAM ranges of the e820 map (the
/// reserved ones excluded, as QEMU's fw_cfg_build_smbios filters them). docs/smbios.md.
/// </summary>
public sealed record SmbiosPlatform
{
    /// <summary>Type 1, 3, 4 and 17 manufacturer.</summary>
    public required string Manufacturer { get; init; }

    /// <summary>Type 1 product name.</summary>
    public required string Product { get; init; }

    /// <summary>Type 1, 3 and 4 version: QEMU passes the machine type's full name.</summary>
    public required string Version { get; init; }

    /// <summary>Type 1 UUID; written in SMBIOS 2.6 wire order (all zeros when the machine has none).</summary>
    public required Guid Uuid { get; init; }

    /// <summary>Type 4 processor ID, low half: CPUID.1:EAX (family, model, stepping).</summary>
    public required uint ProcessorSignature { get; init; }

    /// <summary>Type 4 processor ID, high half: CPUID.1:EDX (feature flags).</summary>
    public required uint ProcessorFeatures { get; init; }

    /// <summary>Type 4 maximum and current speed in MHz.</summary>
    public required ushort ProcessorSpeedMhz { get; init; }

    /// <summary>One type 4 structure per socket.</summary>
    public required int Sockets { get; init; }

    public required int CoresPerSocket { get; init; }

    public required int ThreadsPerSocket { get; init; }

    /// <summary>Type 16 capacity and the type 17 devices (16 GiB each, the last one the rest).</summary>
    public required ulong RamSize { get; init; }

    /// <summary>
    /// Type 11 OEM strings, QEMU's <c>-smbios type=11,value=…</c> / <c>path=…</c> in order, as
    /// bytes; none: no type 11 structure (smbios_build_type_11_table).
    /// </summary>
    public IReadOnlyList<byte[]> OemStrings { get; init; } = [];

    /// <summary>One type 19 structure per range, in e820 order.</summary>
    public required IReadOnlyList<(ulong Base, ulong Length)> RamRanges { get; init; }
}
