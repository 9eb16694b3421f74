namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// What the machine tells the ACPI generator about itself: identity strings, CPUs, interrupt
/// controllers, the PM function's fixed facts (PIIX4 on pc, ICH9 on q35), PCI windows and the ISA
/// devices it models. The generator knows no addresses of its own; the PM I/O base and the
/// PCI Express ECAM window are read when the tables are built (<see cref="AcpiBuildState"/>,
/// <see cref="AcpiBoardRegisters"/>) because the firmware programs them.
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

    /// <summary>The first port of the GPE0 block (status then enable, 2 bytes each): fixed, not inside the PM I/O block (QEMU PIIX4: 0xAFE0). Unused when <see cref="Gpe0PmOffset"/> is set.</summary>
    public ushort Gpe0Port { get; init; }

    /// <summary>GPE0's offset inside the PM I/O block, or null for the fixed <see cref="Gpe0Port"/> (ICH9: 0x20, include/hw/southbridge/ich9.h ICH9_PMIO_GPE0_STS).</summary>
    public ushort? Gpe0PmOffset { get; init; }

    /// <summary>GPE0_BLK_LEN: status and enable halves together (PIIX4 4, ICH9 16 — ICH9_PMIO_GPE0_LEN).</summary>
    public byte Gpe0Length { get; init; } = 4;

    /// <summary>
    /// The FADT's revision: 1 (the 116-byte ACPI 1.0 form QEMU uses for PIIX4) or 3 (the 244-byte
    /// ACPI 2.0 form with the reset register and the X_ blocks, QEMU's for ICH9; hw/i386/acpi-build.c
    /// acpi_get_pm_info, hw/acpi/aml-build.c build_fadt).
    /// </summary>
    public byte FadtRevision { get; init; } = 1;

    /// <summary>The FADT RESET_REG (an I/O port) and RESET_VALUE, used by revision 3 (ICH9: 0xCF9, 0x0F).</summary>
    public (ushort Port, byte Value)? ResetRegister { get; init; }

    /// <summary>The FADT IAPC_BOOT_ARCH flags, used by revision 3 (bit 1: an 8042 is present).</summary>
    public ushort IapcBootArch { get; init; }

    /// <summary>
    /// The host bridge is PCI Express (q35): \_SB.PCI0 is PNP0A08 compatible with PNP0A03, an MCFG
    /// table describes the ECAM window the firmware enabled, \_SB.DRAC reserves it and PCI0's
    /// 32-bit window leaves it out (QEMU build_dsdt, build_q35_dram_controller).
    /// </summary>
    public bool PciExpress { get; init; }

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
