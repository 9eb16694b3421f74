using Emulator.Core.Devices.Ide;
using Emulator.Core.Devices.Virtio;
using Emulator.Core.Storage;
using Emulator.Hosting.Reporting;
using Emulator.Storage;
using Emulator.Storage.Fat;
using Microsoft.Extensions.Logging;

namespace Emulator.Hosting.Boot;

/// <summary>
/// The media of a run's <see cref="BootDrive"/>s, opened after the other inputs were checked and
/// disposed when the run ends: images through <see cref="DiskImage"/> (raw or qcow2), folders through
/// <see cref="HostFolderDisk"/>. When the run ends in order (power-off, reset, guest exit, a
/// milestone, a limit, a signal), <see cref="Finish"/> commits each <c>fat:rw</c> folder — the
/// only time the folder is written, so a killed process leaves it as it was (docs/storage.md,
/// "Crash windows") — and adds the drives to the report.
/// </summary>
public sealed class BootDrives : IDisposable
{
    // The drive lists below skip LINQ when there are no drives (most boots): LINQ over these
    // tuples is JIT-compiled framework code that cost ~10 ms before the first instruction.
    private readonly List<(BootDrive Drive, IBlockBackend? Backend)> _opened = [];

    private BootDrives()
    {
    }

    /// <summary>The IDE drives as the machine takes them (<see cref="Core.Machine.MachineOptions.IdeDrives"/>).</summary>
    public IReadOnlyList<IdeDrive> IdeDrives =>
        _opened.Count == 0 ? [] : [.. _opened.Where(o => o.Drive.Interface == BootDriveInterface.Ide).Select(o => new IdeDrive(o.Drive.Index, o.Drive.Kind, o.Backend))];

    /// <summary>The virtio-blk drives in order, each in its slot or the first free one (<see cref="Core.Machine.MachineOptions.VirtioDrives"/>).</summary>
    public IReadOnlyList<VirtioDrive> VirtioDrives =>
        _opened.Count == 0 ? [] : [.. _opened.Where(o => o.Drive.Interface == BootDriveInterface.Virtio).OrderBy(o => o.Drive.Index).Select(o => new VirtioDrive(o.Backend!, o.Drive.Slot))];

    /// <summary>A folder's commit was refused or failed (<see cref="Finish"/>): the run did not end as asked.</summary>
    public bool CommitFailed { get; private set; }

    /// <summary>
    /// Opens every medium; a refusal (missing file, a directory, a size that is no whole number of
    /// sectors, an image another process holds, a folder emu cannot present) is a one-line
    /// <see cref="UsageException"/>, with what was opened closed again. A folder's warnings (entries
    /// left out, an interrupted commit completed) are logged.
    /// </summary>
    public static BootDrives Open(IReadOnlyList<BootDrive> drives, ILogger log)
    {
        var result = new BootDrives();
        try
        {
            foreach (var drive in drives)
            {
                result._opened.Add((drive, OpenMedium(drive, log)));
            }

            foreach (var ide in result.IdeDrives)
            {
                ide.Validate();
            }
        }
        catch (Exception e) when (e is StorageException or ArgumentException)
        {
            result.Dispose();
            throw new UsageException(e.Message);
        }
        catch
        {
            result.Dispose();
            throw;
        }

        return result;
    }

    private static IBlockBackend? OpenMedium(BootDrive drive, ILogger log)
    {
        if (drive.Path == null)
        {
            return null;
        }

        if (!drive.Folder)
        {
            var mode = drive.Mode switch
            {
                BootDriveMode.ReadOnly => RawImageMode.ReadOnly,
                BootDriveMode.Snapshot => RawImageMode.Snapshot,
                _ => RawImageMode.ReadWrite,
            };
            return DiskImage.Open(drive.Path, drive.Format, mode);
        }

        var folder = HostFolderDisk.Open(drive.Path, writable: drive.Mode == BootDriveMode.ReadWrite);
        foreach (string warning in folder.Warnings)
        {
            log.LogWarning("folder '{Folder}': {Warning}", drive.Path, warning);
        }

        return folder;
    }

    /// <summary>
    /// Commits every writable folder, logs what each commit did (or why it was refused: the folder
    /// is then unchanged and <see cref="CommitFailed"/> is set) and returns the report with its
    /// <c>disks</c>.
    /// </summary>
    public RunReport Finish(RunReport report, ILogger log)
    {
        var disks = new List<DiskInfo>();
        foreach (var (drive, backend) in _opened)
        {
            var commit = backend is HostFolderDisk { ReadOnly: false } folder ? Commit(folder, log) : null;
            disks.Add(new DiskInfo(
                drive.Index, drive.Kind == IdeDriveKind.CdRom ? "cdrom" : "disk", drive.Folder ? null : drive.Path, drive.Folder ? drive.Path : null, drive.ModeName, commit,
                backend == null ? null : DiskImage.FormatName(backend), drive.Interface == BootDriveInterface.Virtio ? "virtio" : null));
        }

        return report with { Disks = disks };
    }

    private FolderCommitInfo Commit(HostFolderDisk folder, ILogger log)
    {
        try
        {
            var r = folder.Commit();
            log.LogInformation(
                "folder '{Folder}': committed the guest's changes: {Written} file(s) written, {Deleted} deleted, {Created} folder(s) created, {Removed} removed",
                folder.Folder, r.FilesWritten, r.FilesDeleted, r.DirectoriesCreated, r.DirectoriesRemoved);
            foreach (string note in r.Notes)
            {
                log.LogWarning("folder '{Folder}': {Note}", folder.Folder, note);
            }

            return new FolderCommitInfo(true, r.FilesWritten, r.FilesDeleted, r.DirectoriesCreated, r.DirectoriesRemoved, r.Notes);
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            CommitFailed = true;
            log.LogError("{Reason}", UsageException.OneLine(e.Message));
            return new FolderCommitInfo(false, 0, 0, 0, 0, [], UsageException.OneLine(e.Message));
        }
    }

    /// <summary>Closes every medium (a folder's uncommitted changes are dropped; an image's locks released).</summary>
    public void Dispose()
    {
        foreach (var (_, backend) in _opened)
        {
            backend?.Dispose();
        }

        _opened.Clear();
    }
}
