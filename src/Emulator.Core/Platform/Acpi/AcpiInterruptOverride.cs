namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// A MADT interrupt source override (ACPI 6.4 §5.2.12.5): ISA IRQ <paramref name="Source"/> arrives
/// at <paramref name="Gsi"/> with MPS INTI <paramref name="Flags"/> (bits 0–1 polarity, 2–3 trigger
/// mode; 0 = conforms to the bus).
/// </summary>
public sealed record AcpiInterruptOverride(byte Source, uint Gsi, ushort Flags)
{
    /// <summary>Active high (polarity 01), level triggered (trigger mode 11).</summary>
    public const ushort ActiveHighLevel = 0x000D;
}
