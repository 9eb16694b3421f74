namespace Emulator.Core.Platform.Acpi;

/// <summary>A fixed I/O range of a device: first port, alignment and length as IO(Decode16) states them.</summary>
public sealed record AcpiIoRange(ushort Port, byte Alignment, byte Length);
