namespace Emulator.Core.Platform.Acpi;

/// <summary>An I/O APIC for the MADT: its ID, MMIO base, first GSI and the ISA interrupt source overrides.</summary>
public sealed record AcpiIoApic(byte Id, uint Address, uint GsiBase, IReadOnlyList<AcpiInterruptOverride> Overrides);
