namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// One build of the ACPI fw_cfg files: <paramref name="Tables"/> (padded), <paramref name="Rsdp"/>,
/// <paramref name="Loader"/> (padded) and how many bytes of the tables blob the tables use.
/// </summary>
public sealed record AcpiBuild(byte[] Tables, byte[] Rsdp, byte[] Loader, int TablesUsed);
