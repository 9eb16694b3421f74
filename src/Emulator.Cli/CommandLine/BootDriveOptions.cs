using Emulator.Core.Devices.Ide;
using Emulator.Hosting.Boot;

namespace Emulator.Cli.CommandLine;

/// <summary>
/// <c>emu boot</c>'s drives, placed as QEMU places them, in command-line order: <c>--disk</c> and
/// <c>--fat</c> take the next free IDE position (QEMU's <c>-drive</c> without index: unit, then
/// bus), <c>--cdrom</c> index 2 (QEMU's <c>-cdrom</c>); a position taken twice is refused. With
/// <c>,if=virtio</c> a disk or folder is a virtio-blk-pci disk of its own instead (QEMU's
/// <c>-drive …,if=virtio</c>), in the first free PCI slot; virtio-blk takes read-only media
/// (VIRTIO_BLK_F_RO), so <c>,readonly</c> and a folder without <c>:rw</c> are allowed there.
/// </summary>
public static class BootDriveOptions
{
    public const string Disk = "--disk";
    public const string CdRom = "--cdrom";
    public const string Fat = "--fat";
    public const string VirtioFlag = ",if=virtio";

    private static readonly string[] PositionNames = ["primary master", "primary slave", "secondary master", "secondary slave"];

    /// <summary>The drives among the repeatable options' values (in command-line order); <paramref name="snapshot"/> is the global --snapshot.</summary>
    public static IReadOnlyList<BootDrive> Read(IReadOnlyList<(string Name, string Value)> options, bool snapshot)
    {
        var drives = new List<(BootDrive Drive, string Given)>();
        foreach (var (name, value) in options)
        {
            string given = $"{name} {value}";
            BootDrive? drive = name switch
            {
                Disk => ReadDisk(given, value, snapshot),
                CdRom => new BootDrive(2, IdeDriveKind.CdRom, NonEmpty(given, value), false, BootDriveMode.ReadOnly),
                Fat => ReadFat(given, value, snapshot),
                _ => null,
            };
            if (drive == null)
            {
                continue;
            }

            if (drive.Interface == BootDriveInterface.Virtio)
            {
                drives.Add((drive with { Index = drives.Count(d => d.Drive.Interface == BootDriveInterface.Virtio) }, given));
                continue;
            }

            if (name != CdRom)
            {
                int free = BootDrive.NextFreeIndex(drives.Select(d => d.Drive));
                drive = drive with { Index = free >= 0 ? free : throw new UsageException($"{given}: all four IDE positions are taken") };
            }

            if (drives.FirstOrDefault(d => d.Drive.Interface == BootDriveInterface.Ide && d.Drive.Index == drive.Index) is { Drive: not null } other)
            {
                throw new UsageException($"{given}: IDE index {drive.Index} ({PositionNames[drive.Index]}) is taken by {other.Given}");
            }

            drives.Add((drive, given));
        }

        return [.. drives.Select(d => d.Drive)];
    }

    /// <summary>"FILE[,snapshot][,readonly][,if=virtio]": flags at the end, so a file name may hold commas elsewhere.</summary>
    private static BootDrive ReadDisk(string given, string value, bool snapshot)
    {
        string path = value;
        bool readOnly = false;
        bool virtio = false;
        while (true)
        {
            if (path.EndsWith(VirtioFlag, StringComparison.Ordinal))
            {
                virtio = true;
                path = path[..^VirtioFlag.Length];
                continue;
            }

            if (path.EndsWith(",snapshot", StringComparison.Ordinal))
            {
                snapshot = true;
                path = path[..^",snapshot".Length];
            }
            else if (path.EndsWith(",readonly", StringComparison.Ordinal))
            {
                readOnly = true;
                path = path[..^",readonly".Length];
            }
            else
            {
                break;
            }
        }

        var mode = readOnly ? BootDriveMode.ReadOnly : snapshot ? BootDriveMode.Snapshot : BootDriveMode.ReadWrite;
        if (virtio)
        {
            return new BootDrive(-1, IdeDriveKind.Disk, NonEmpty(given, path), false, mode, Interface: BootDriveInterface.Virtio);
        }

        if (readOnly)
        {
            // ide-hd refuses a read-only medium (hw/ide/qdev.c ide_dev_initfn → blkconf_apply_backend_options).
            throw new UsageException($"{given}: an IDE disk cannot be read-only (QEMU: Block node is read-only); ,snapshot leaves the image unchanged");
        }

        return new BootDrive(-1, IdeDriveKind.Disk, NonEmpty(given, path), false, snapshot ? BootDriveMode.Snapshot : BootDriveMode.ReadWrite);
    }

    /// <summary>"DIR[:rw][,if=virtio]": QEMU's fat:DIR is read-only, fat:rw:DIR commits the guest's changes.</summary>
    private static BootDrive ReadFat(string given, string value, bool snapshot)
    {
        bool virtio = value.EndsWith(VirtioFlag, StringComparison.Ordinal);
        value = virtio ? value[..^VirtioFlag.Length] : value;
        bool rw = value.EndsWith(":rw", StringComparison.Ordinal);
        string path = NonEmpty(given, rw ? value[..^3] : value);
        if (rw && snapshot)
        {
            // block/vvfat.c vvfat_open: a snapshot drive is read-only below its overlay.
            throw new UsageException($"{given}: a folder cannot be rw with --snapshot (QEMU: Unable to set VVFAT to 'rw' when drive is read-only)");
        }

        if (virtio)
        {
            return new BootDrive(-1, IdeDriveKind.Disk, path, true, rw ? BootDriveMode.ReadWrite : BootDriveMode.ReadOnly, Interface: BootDriveInterface.Virtio);
        }

        if (!rw)
        {
            // ide-hd refuses a read-only medium, vvfat's fat:DIR included.
            throw new UsageException($"{given}: an IDE disk cannot be read-only (QEMU: Block node is read-only); give the folder as {value}:rw");
        }

        return new BootDrive(-1, IdeDriveKind.Disk, path, true, BootDriveMode.ReadWrite);
    }

    private static string NonEmpty(string given, string path) =>
        path.Length > 0 ? path : throw new UsageException($"{given}: needs a file name");
}
