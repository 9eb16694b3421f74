namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// What the ACPI tables take from the board's registers at build time, after the firmware
/// programmed them (QEMU reads them in acpi_build: the PM device's pm_io_base and the PCI
/// Express host's mcfg_base/mcfg_size properties): the PM I/O base (0 while PM I/O is off) and
/// the ECAM window, null while it is not enabled — then there is no MCFG table, as on QEMU.
/// </summary>
public readonly record struct AcpiBoardRegisters(ushort PmBase, EcamWindow? Ecam);

/// <summary>A PCI Express ECAM (MMCONFIG) window: 1 MiB per bus from bus 0 (QEMU hw/acpi/pci.c build_mcfg: end bus = size / 1 MiB − 1).</summary>
public sealed record EcamWindow(ulong Base, ulong Size)
{
    public const ulong BytesPerBus = 1UL << 20;

    public byte EndBus => (byte)((Size / BytesPerBus) - 1);
}
