namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// An ISA device under the ISA bridge in the DSDT: name, _HID (an EISA ID), optional _UID,
/// whether it carries a static _STA of 0x0F, its I/O ranges (IO(Decode16) with min = max) and
/// its IRQs (IRQNoFlags).
/// </summary>
public sealed record AcpiIsaDevice(string Name, string Hid, int? Uid, bool StaticStatus, IReadOnlyList<AcpiIoRange> Io, IReadOnlyList<int> Irqs);
