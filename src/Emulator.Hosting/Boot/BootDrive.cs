using Emulator.Core.Devices.Ide;
using Emulator.Storage;

namespace Emulator.Hosting.Boot;

/// <summary>How a drive's medium takes the guest's writes (QEMU's readonly=on and snapshot=on).</summary>
public enum BootDriveMode
{
    /// <summary>Writes reach the image, or for a folder (<c>fat:rw:</c>) are committed into it when the run ends.</summary>
    ReadWrite,

    /// <summary>Writes refused (every CD-ROM; <c>fat:DIR</c> without rw).</summary>
    ReadOnly,

    /// <summary>Writes kept in memory and dropped at the end (QEMU's snapshot=on and -snapshot).</summary>
    Snapshot,
}

/// <summary>Which controller a drive hangs on.</summary>
public enum BootDriveInterface
{
    /// <summary>The board's IDE controller: pc's PIIX3, q35's AHCI (QEMU's if=ide, the default).</summary>
    Ide,

    /// <summary>A virtio-blk-pci function of its own (QEMU's if=virtio).</summary>
    Virtio,
}

/// <summary>
/// A drive at an IDE position or on virtio-blk (QEMU's <c>-drive if=ide|virtio</c>, <c>-hda</c>, <c>-cdrom</c>;
/// emu boot's <c>--disk</c>, <c>--cdrom</c>, <c>--fat</c>): a raw or qcow2 image file or, with
/// <paramref name="Folder"/>, a host folder presented as QEMU's vvfat FAT16 disk. The machine's
/// <see cref="IdeDrive"/> or <see cref="Core.Devices.Virtio.VirtioDrive"/> is made from it once the
/// medium is opened (<see cref="BootDrives"/>).
/// </summary>
/// <param name="Index">IDE: 0–3, primary master, primary slave, secondary master, secondary slave (q35: the AHCI port). Virtio: 0, 1… in the order the drives take PCI slots.</param>
/// <param name="Kind">A disk or a CD-ROM.</param>
/// <param name="Path">The image file or the folder; null for an empty CD-ROM drive (QEMU's default CD-ROM).</param>
/// <param name="Folder">The path is a folder presented as a FAT disk.</param>
/// <param name="Mode">How writes are taken.</param>
/// <param name="Format">The image's format as given (QEMU's <c>format=</c>); null: probed by its first bytes (<see cref="DiskImage.Probe"/>).</param>
/// <param name="Interface">IDE (the default) or virtio-blk; a virtio drive is always a disk.</param>
/// <param name="Slot">A virtio drive's PCI slot as given (the drop-in's <c>-device virtio-blk-pci,addr=</c>); null: the first free one.</param>
public sealed record BootDrive(
    int Index, IdeDriveKind Kind, string? Path, bool Folder, BootDriveMode Mode, DiskImageFormat? Format = null, BootDriveInterface Interface = BootDriveInterface.Ide,
    int? Slot = null)
{
    /// <summary>The next free IDE index, QEMU's order for a drive given without one (drive_new: unit, then bus); -1 when all four are taken.</summary>
    public static int NextFreeIndex(IEnumerable<BootDrive> placed)
    {
        var taken = placed.Where(d => d.Interface == BootDriveInterface.Ide).Select(d => d.Index).ToHashSet();
        return Enumerable.Range(0, IdeDrive.MaxIndex + 1).FirstOrDefault(i => !taken.Contains(i), -1);
    }

    /// <summary>The report's name for the mode.</summary>
    public string ModeName => Mode switch
    {
        BootDriveMode.ReadOnly => "readonly",
        BootDriveMode.Snapshot => "snapshot",
        _ => "readwrite",
    };
}
