using System.Globalization;
using Emulator.Core.Devices.Ide;
using Emulator.Core.Machine;
using Emulator.Hosting.Boot;
using Emulator.Storage;
using Emulator.Storage.Host;

namespace Emulator.Hosting.Qemu;

/// <summary>
/// QEMU's drives (blockdev.c drive_new, vl.c drive_add and default_drive): <c>-drive</c> with
/// if=virtio (<see cref="ReadVirtio"/>) or if=ide (the default), <c>-hda</c>…<c>-hdd</c> (index 0–3, media=disk), <c>-cdrom</c> (index 2,
/// media=cdrom) and a bare image argument (= -hda), placed in command-line order: an index, or
/// bus/unit, or the next free position (unit first, then bus). Files are checked as QEMU's block
/// layer checks them before the machine starts, in its words; format=raw or qcow2, or probed;
/// vvfat's <c>fat:[rw:]DIR</c> is a folder.
/// Without <c>-nodefaults</c> the pc machine gets QEMU's empty CD-ROM drive at index 2 unless a
/// drive is there.
/// </summary>
internal static class QemuDrives
{
    /// <summary>
    /// IDE positions as QEMU's boards number them (blockdev.c drive_new: index = bus × units per
    /// bus + unit): pc's PIIX3 has 2 buses of 2 units (mc->units_per_default_bus 2), q35's ICH9
    /// AHCI 6 ports of 1 unit (pc_q35.c: units_per_default_bus 1), index N on port N.
    /// </summary>
    private static (int UnitsPerBus, int Buses) Geometry(PcChipset chipset) => chipset == PcChipset.Q35 ? (1, Core.Devices.Q35.AhciHba.PortCount) : (2, 2);

    /// <summary>One <c>-drive if=ide</c> (or its shorthand) placed among those before it; <paramref name="probed"/> collects images given without format= that probe as raw (QEMU warns about those).</summary>
    public static BootDrive Read(string where, string option, QemuKeyValues kv, string text, bool snapshotAll, PcChipset chipset, List<BootDrive> placed, List<string> probed)
    {
        string media = kv.Get("media") ?? "disk";
        if (media is not ("disk" or "cdrom"))
        {
            throw new UsageException($"{where}: '{media}' invalid media");
        }

        bool cdrom = media == "cdrom";
        int index = Place(where, kv, placed, Geometry(chipset));
        var (path, folder, mode, format) = ReadMedium(where, option, kv, text, snapshotAll, probed, forceReadOnly: cdrom);
        if (folder && cdrom)
        {
            throw new UsageException($"{where}: emu presents a folder as a hard disk only (media=disk)");
        }

        if (mode == BootDriveMode.ReadOnly && !cdrom)
        {
            // ide-hd refuses a read-only medium when the device is realized, with no option in the
            // message; vvfat without rw: is read-only too.
            throw new UsageException("Block node is read-only");
        }

        return new BootDrive(index, cdrom ? IdeDriveKind.CdRom : IdeDriveKind.Disk, path, folder, mode, format);
    }

    /// <summary>
    /// One <c>-drive if=virtio</c> (or an <c>if=none</c> drive a <c>-device virtio-blk-pci</c>
    /// takes): a disk, read-only allowed (virtio-blk offers VIRTIO_BLK_F_RO, virtio_blk_device_realize);
    /// its index is its place among the virtio drives, set when they are put in order.
    /// <c>media=cdrom</c> only makes the medium read-only (blockdev.c drive_new sets read_only for
    /// MEDIA_CDROM; virtio-blk has no notion of media: QEMU 7.2's `info block` shows the image
    /// "read-only" on the virtio disk).
    /// </summary>
    public static BootDrive ReadVirtio(string where, string option, QemuKeyValues kv, string text, bool snapshotAll, List<string> probed)
    {
        string media = kv.Get("media") ?? "disk";
        if (media is not ("disk" or "cdrom"))
        {
            throw new UsageException($"{where}: '{media}' invalid media");
        }

        var (path, folder, mode, format) = ReadMedium(where, option, kv, text, snapshotAll, probed, forceReadOnly: media == "cdrom");
        return new BootDrive(-1, IdeDriveKind.Disk, path, folder, mode, format, BootDriveInterface.Virtio);
    }

    /// <summary>
    /// What every -drive names the same way: file (an image, or vvfat's <c>fat:[rw:]DIR</c>),
    /// format (raw or qcow2, <see cref="ImageFormat"/>), readonly, snapshot; the file checked as
    /// QEMU's block layer checks it. A folder has no image format (null).
    /// </summary>
    private static (string Path, bool Folder, BootDriveMode Mode, DiskImageFormat? Format) ReadMedium(
        string where, string option, QemuKeyValues kv, string text, bool snapshotAll, List<string> probed, bool forceReadOnly)
    {
        string file = kv.Get("file") ?? throw new UsageException($"{where}: Must specify either driver or file");
        string? format = kv.Get("format");
        if (format is not (null or "raw" or "qcow2"))
        {
            throw new UsageException($"{where}: emu supports only format=raw and format=qcow2");
        }

        bool readOnly = kv.GetBool(where, "readonly", false) || forceReadOnly;
        bool snapshot = kv.GetBool(where, "snapshot", snapshotAll);
        foreach (string key in (ReadOnlySpan<string>)["id", "cache", "aio"])
        {
            kv.Get(key);
        }

        kv.RejectUnknown(option, text);
        var (folder, rw) = Vvfat(file);
        if (folder != null)
        {
            if (format == null)
            {
                // block.c names a protocol-only node by its options when it warns about probing.
                probed.Add($"json:{{\"fat-type\": 0, \"dir\": \"{folder}\", \"driver\": \"vvfat\", \"floppy\": false, \"rw\": {(rw ? "true" : "false")}}}");
            }

            if (rw && (readOnly || snapshot))
            {
                throw new UsageException($"{where}: Unable to set VVFAT to 'rw' when drive is read-only");
            }

            if (FileStatus.OfPath(folder) is not { Kind: FileKind.Directory, Errno: 0 })
            {
                throw new UsageException($"{where}: Could not read directory {folder}");
            }

            return (folder, true, rw ? BootDriveMode.ReadWrite : BootDriveMode.ReadOnly, null);
        }

        CheckImage(where, file);
        var mode = readOnly ? BootDriveMode.ReadOnly : snapshot ? BootDriveMode.Snapshot : BootDriveMode.ReadWrite;
        return (file, false, mode, ImageFormat(where, file, format, mode, probed));
    }

    /// <summary>
    /// An image file's format: format= as given, or probed as QEMU probes (block.c
    /// find_image_format: qcow2 by its magic, raw otherwise — only the raw guess goes to
    /// <paramref name="probed"/>, which QEMU warns about). format=qcow2 on a file without the magic
    /// is refused in qcow2_do_open's words; a qcow2 drive the guest would write is refused, since
    /// emu never writes qcow2 (docs/storage.md, "qcow2 images") where QEMU would.
    /// </summary>
    public static DiskImageFormat ImageFormat(string where, string file, string? format, BootDriveMode mode, List<string> probed)
    {
        var found = DiskImage.Probe(file);
        var chosen = format switch
        {
            null => found,
            "raw" => DiskImageFormat.Raw,
            _ when found == DiskImageFormat.Qcow2 => DiskImageFormat.Qcow2,
            _ => throw new UsageException($"{where}: Image is not in qcow2 format"),
        };
        if (chosen == DiskImageFormat.Qcow2 && mode == BootDriveMode.ReadWrite)
        {
            throw new UsageException($"{where}: emu reads qcow2 images but does not write them: add snapshot=on (or -snapshot) to keep the guest's writes in memory, or convert the image with 'qemu-img convert -O raw'");
        }

        if (format == null && chosen == DiskImageFormat.Raw)
        {
            probed.Add(file);
        }

        return chosen;
    }

    /// <summary>
    /// The virtio-blk disks in the order QEMU creates them: each <c>-device virtio-blk-pci,drive=ID</c>
    /// in -device order, taking its <c>if=none</c> drive, then the <c>if=virtio</c> drives, which
    /// drive_new turns into -device entries appended after the user's (blockdev.c; vl.c creates
    /// the devices in list order). QEMU's messages for a missing, absent or shared drive.
    /// </summary>
    public static List<BootDrive> AttachVirtio(IReadOnlyList<(string Where, QemuKeyValues Kv)> devices, IReadOnlyDictionary<string, BootDrive> unattached, List<BootDrive> ifVirtio)
    {
        var ordered = new List<BootDrive>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (where, kv) in devices)
        {
            string id = kv.Get("drive") ?? throw new UsageException($"{where}: drive property not set");
            kv.Get("id");
            int? slot = kv.Get("addr") is { } addr ? Slot(where, addr) : null;
            QemuCommandLine.RejectProperties(where, kv, "virtio-blk-pci");
            if (!unattached.TryGetValue(id, out var drive))
            {
                throw new UsageException($"{where}: Property 'virtio-blk-device.drive' can't find value '{id}'");
            }

            if (!used.Add(id))
            {
                throw new UsageException($"{where}: Drive '{id}' is already in use by another device");
            }

            ordered.Add(drive with { Slot = slot });
        }

        ordered.AddRange(ifVirtio);
        return [.. ordered.Select((d, i) => d with { Index = i })];
    }

    /// <summary>
    /// A PCI address property as QEMU parses it (hw/core/qdev-properties-system.c set_pci_devfn:
    /// "SLOT[.FN]", hexadecimal, slot below 0x20, function below 8); emu places a virtio disk at
    /// function 0 only.
    /// </summary>
    private static int Slot(string where, string addr)
    {
        string[] parts = addr.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? [addr[2..]] : addr.Split('.');
        if (parts.Length > 2 || !int.TryParse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int slot) || slot >= 0x20
            || (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int fn) || fn >= 8)))
        {
            throw new UsageException($"{where}: Property 'virtio-blk-pci.addr' doesn't take value '{addr}'");
        }

        return parts.Length == 2 && parts[1].Trim('0').Length > 0
            ? throw new UsageException($"{where}: emu places a virtio-blk-pci disk at function 0 (addr=SLOT or SLOT.0)")
            : slot;
    }

    /// <summary>QEMU's default CD-ROM (vl.c default_drive with CDROM_OPTS): an empty drive at index 2, on pc, when nothing is there.</summary>
    public static void AddDefaultCdRom(List<BootDrive> drives)
    {
        if (drives.All(d => d.Index != 2))
        {
            drives.Add(new BootDrive(2, IdeDriveKind.CdRom, null, false, BootDriveMode.ReadOnly));
        }
    }

    /// <summary>blockdev.c drive_new: index, or bus and unit, or the first free position from bus 0 (or the given bus).</summary>
    private static int Place(string where, QemuKeyValues kv, List<BootDrive> placed, (int UnitsPerBus, int Buses) geometry)
    {
        var (unitsPerBus, buses) = geometry;
        int? index = Number(where, kv, "index"), bus = Number(where, kv, "bus"), unit = Number(where, kv, "unit");
        if (index != null && (bus is not (null or 0) || unit != null))
        {
            throw new UsageException($"{where}: index cannot be used with bus and unit");
        }

        int busId = index is int i ? i / unitsPerBus : bus ?? 0;
        int unitId = index is int j ? j % unitsPerBus : unit ?? -1;
        if (unitId >= unitsPerBus)
        {
            throw new UsageException($"{where}: unit {unitId} too big (max is {unitsPerBus - 1})");
        }

        if (unitId < 0)
        {
            unitId = 0;
            while (placed.Any(d => d.Index == (busId * unitsPerBus) + unitId))
            {
                unitId++;
                if (unitId >= unitsPerBus)
                {
                    unitId -= unitsPerBus;
                    busId++;
                }
            }
        }

        int at = (busId * unitsPerBus) + unitId;
        if (placed.Any(d => d.Index == at))
        {
            throw new UsageException($"{where}: drive with bus={busId}, unit={unitId} (index={at}) exists");
        }

        if (busId >= buses)
        {
            throw new UsageException($"{where}: machine type does not support if=ide,bus={busId},unit={unitId}");
        }

        return at;
    }

    private static int? Number(string where, QemuKeyValues kv, string key) =>
        kv.Get(key) is not { } text ? null
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n
        : throw new UsageException($"{where}: Parameter '{key}' expects a number");

    /// <summary>block/vvfat.c's file name syntax: <c>fat:[floppy:][rw:]DIR</c> (emu: a hard disk, so no floppy:); not a folder: (null, false).</summary>
    private static (string? Folder, bool Rw) Vvfat(string file)
    {
        if (!file.StartsWith("fat:", StringComparison.Ordinal))
        {
            return (null, false);
        }

        string rest = file[4..];
        return rest.StartsWith("rw:", StringComparison.Ordinal) ? (rest[3..], true) : (rest, false);
    }

    /// <summary>block/file-posix.c raw_open: the file must exist and be a regular file (emu also refuses FIFOs and devices).</summary>
    private static void CheckImage(string where, string file)
    {
        var (kind, _, errno) = FileStatus.OfPath(file);
        if (errno != 0)
        {
            throw new UsageException($"{where}: Could not open '{file}': {(errno == 2 ? "No such file or directory" : new System.ComponentModel.Win32Exception(errno).Message)}");
        }

        if (kind != FileKind.Regular)
        {
            throw new UsageException($"{where}: 'file' driver requires '{file}' to be a regular file");
        }
    }
}
