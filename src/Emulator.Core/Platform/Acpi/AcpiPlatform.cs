namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// What the machine tells the ACPI generator about itself: identity strings, CPUs, interrupt
/// controllers, the PIIX4 PM function's fixed facts, PCI windows and the ISA devices it models.
/// The generator knows no addresses of its own; the PM I/O base is read when the tables are
/// built (<see cref="AcpiBuildState"/>) because the firmware programs it.
/// </summary>
public sealed record AcpiPlatform
{
    /// <summary>OEM ID (6 characters) of every table and the RSDP.</summary>
    public required string OemId { get; init; }

    /// <summary>OEM table ID (8 characters).</summary>
    public required string OemTableId { get; init; }

    /// <summary>Creator ID (4 characters) of every table.</summary>
    public required string CreatorId { get; init; }

    public required int CpuCount { get; init; }

    public required uint LocalApicAddress { get; init; }

    /// <summary>The I/O APIC and its interrupt source overrides, or null when the machine has none.</summary>
    public AcpiIoApic? IoApic { get; init; }

    /// <summary>The HPET's MMIO base, or null when the machine has no HPET (then no HPET table and no \_SB.HPET).</summary>
    public ulong? HpetAddress { get; init; }

    /// <summary>The SCI's ISA IRQ (PIIX4: the PM function's interrupt line, 9).</summary>
    public required byte SciIrq { get; init; }

    /// <summary>The APM control port that switches ACPI mode (FADT SMI_CMD), or null: then the FADT says the system is always in ACPI mode.</summary>
    public ushort? SmiCommandPort { get; init; }

    public byte AcpiEnableValue { get; init; }

    public byte AcpiDisableValue { get; init; }

    /// <summary>The first port of the GPE0 block (status then enable, 2 bytes each): fixed, not inside the PM I/O block (QEMU PIIX4: 0xAFE0).</summary>
    public required ushort Gpe0Port { get; init; }

    /// <summary>The <c>etc/system-states</c> bytes for S0–S5: bit 7 = offered, low bits = SLP_TYP.</summary>
    public required IReadOnlyList<byte> SystemStates { get; init; }

    /// <summary>First address of the 32-bit PCI memory window (the end of RAM below 4 GiB).</summary>
    public required uint PciHole32Start { get; init; }

    /// <summary>Last address of the 32-bit PCI memory window.</summary>
    public required uint PciHole32End { get; init; }

    /// <summary>The 64-bit PCI memory window (start, size), or null for none.</summary>
    public (ulong Start, ulong Size)? PciHole64 { get; init; }

    /// <summary>PCI address (device &lt;&lt; 16 | function) of the ISA bridge that holds <see cref="IsaDevices"/>.</summary>
    public required uint IsaBridgeAddress { get; init; }

    public required IReadOnlyList<AcpiIsaDevice> IsaDevices { get; init; }

    /// <summary>fw_cfg's I/O ports (selector, data and DMA): first port and count.</summary>
    public required (ushort Port, byte Length) FwCfgIo { get; init; }

    /// <summary>The debug console port \DBUG writes to, or null for no \DBUG method.</summary>
    public ushort? DebugPort { get; init; }
}
