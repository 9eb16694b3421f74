using Emulator.Core.Storage;

namespace Emulator.Core.Devices.Ide;

/// <summary>What sits at an IDE position: QEMU's ide-hd or ide-cd (-drive media=disk|cdrom).</summary>
public enum IdeDriveKind
{
    /// <summary>No drive.</summary>
    None,

    /// <summary>An ATA hard disk (QEMU ide-hd, "QEMU HARDDISK"), 512-byte sectors.</summary>
    Disk,

    /// <summary>An ATAPI CD-ROM (QEMU ide-cd, "QEMU DVD-ROM"), 2048-byte sectors.</summary>
    CdRom,
}

/// <summary>
/// A drive on the PIIX3 IDE channels, placed as QEMU's <c>-drive if=ide,index=N</c> places it:
/// index 0 primary master, 1 primary slave, 2 secondary master, 3 secondary slave (QEMU's
/// <c>-hda</c> … <c>-hdd</c>; <c>-cdrom</c> is a CD-ROM at index 2). A disk needs a writable
/// medium (QEMU refuses a read-only one: "Block node is read-only"); a CD-ROM's medium is
/// read-only to the guest, and a CD-ROM without one is an empty drive (QEMU's default CD-ROM
/// when -nodefaults is not given).
/// </summary>
/// <param name="Index">0–3.</param>
/// <param name="Kind">Disk or CD-ROM.</param>
/// <param name="Backend">The medium; null only for an empty CD-ROM. The machine does not dispose it.</param>
public sealed record IdeDrive(int Index, IdeDriveKind Kind, IBlockBackend? Backend)
{
    public const int MaxIndex = 3;

    /// <summary>QEMU's <c>-drive file=…,if=ide,index=N</c> (media=disk).</summary>
    public static IdeDrive Disk(int index, IBlockBackend backend) => new(index, IdeDriveKind.Disk, backend);

    /// <summary>QEMU's <c>-cdrom FILE</c> (index 2), or <c>-drive …,if=ide,index=N,media=cdrom</c>; a null backend is an empty drive.</summary>
    public static IdeDrive CdRom(IBlockBackend? backend, int index = 2) => new(index, IdeDriveKind.CdRom, backend);

    /// <summary>0 primary, 1 secondary.</summary>
    public int Channel => Index / 2;

    /// <summary>0 master, 1 slave.</summary>
    public int Unit => Index % 2;

    /// <summary>What pc's PIIX3 numbers: two channels of master and slave.</summary>
    public static string PiixNumbering => $"IDE drives are numbered 0 to {MaxIndex} (two channels, master and slave)";

    /// <summary>Refuses what QEMU refuses when it creates the drive on pc's PIIX3, with QEMU's reason.</summary>
    public void Validate() => Validate(MaxIndex + 1, PiixNumbering, nameof(Index));

    /// <summary>
    /// Refuses a set of drives for a board with <paramref name="positions"/> positions: each drive
    /// as <see cref="Validate(int, string, string)"/>, and two at one index.
    /// </summary>
    public static void ValidateSet(IReadOnlyList<IdeDrive> drives, int positions, string numbering, string parameter)
    {
        foreach (var drive in drives)
        {
            drive.Validate(positions, numbering, parameter);
            if (drives.Count(d => d.Index == drive.Index) > 1)
            {
                throw new ArgumentException($"two IDE drives at index {drive.Index}");
            }
        }
    }

    /// <summary>
    /// The board's range (<paramref name="numbering"/> says it, <paramref name="parameter"/> names
    /// the argument), then what QEMU refuses when it creates the drive, with QEMU's reason.
    /// </summary>
    public void Validate(int positions, string numbering, string parameter)
    {
        if (Index < 0 || Index >= positions)
        {
            throw new ArgumentOutOfRangeException(parameter, Index, numbering);
        }

        switch (Kind)
        {
            case IdeDriveKind.Disk when Backend == null:
                throw new ArgumentException($"IDE disk {Index}: Device needs media, but drive is empty");
            case IdeDriveKind.Disk when Backend.ReadOnly:
                throw new ArgumentException($"IDE disk {Index}: Block node is read-only");
            case IdeDriveKind.None:
                throw new ArgumentException($"IDE drive {Index}: a drive is a disk or a CD-ROM");
        }
    }
}
