using Emulator.Core.Storage;

namespace Emulator.Core.Devices.Virtio;

/// <summary>
/// A virtio-blk-pci disk (QEMU's <c>-drive if=virtio</c>, or <c>-device virtio-blk-pci,drive=ID</c>):
/// its medium and, optionally, its PCI slot on bus 0. Without a slot it takes the first free one
/// after the board's own functions, in list order, as QEMU creates if=virtio drives after every
/// explicit device (vl.c: default devices, then drive_init_all … virtio at the first free devfn).
/// A read-only medium is offered with VIRTIO_BLK_F_RO (QEMU's readonly=on), not refused as IDE does.
/// </summary>
/// <param name="Backend">The medium; the machine does not dispose it.</param>
/// <param name="Slot">PCI device number 1–31 on bus 0, or null for the first free one.</param>
public sealed record VirtioDrive(IBlockBackend Backend, int? Slot = null);
