using Emulator.Core.Storage;
using Emulator.Storage.Host;
using Microsoft.Win32.SafeHandles;

namespace Emulator.Storage.Fat;

/// <summary>
/// A host folder as a FAT16 hard disk: QEMU's <c>-drive file=fat:rw:DIR,format=raw,media=disk</c>
/// (or read-only <c>fat:DIR</c>), block/vvfat.c. The disk has vvfat's shape
/// (<see cref="VvfatGeometry"/>); its first sectors and the directories are built when it is opened,
/// file contents are read from the host files when the guest reads them. The folder is never
/// written while the guest runs: guest writes go to a sparse in-memory overlay, and
/// <see cref="Commit"/> — called when the run ends — brings the folder to match the file system the
/// guest left, through <see cref="FolderCommit"/>'s staged, journaled steps. A run killed before
/// that leaves the folder as it was. Like QEMU, emu expects the folder not to change on the host
/// during the run; a commit refuses to overwrite or delete a file that did.
/// </summary>
public sealed class HostFolderDisk : IBlockBackend
{
    private readonly FatImage _image;
    private readonly SparseOverlay _overlay = new(VvfatGeometry.DiskBytes);
    private readonly long _headBytes;
    private (string Path, SafeFileHandle Handle)? _open;
    private bool _committed;

    private HostFolderDisk(string folder, bool writable, FatImage image, IReadOnlyList<string> warnings)
    {
        Folder = folder;
        ReadOnly = !writable;
        _image = image;
        _headBytes = image.Head.Length;
        Warnings = warnings;
    }

    public string Folder { get; }

    public long Length => VvfatGeometry.DiskBytes;

    public bool ReadOnly { get; }

    /// <summary>Lines to show the user: entries left out of the disk (links, special files, names FAT cannot hold), an interrupted commit completed at open.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Memory held by guest writes.</summary>
    public long OverlayBytes => _overlay.BytesHeld;

    /// <summary>
    /// Builds the disk for <paramref name="folder"/>; with <paramref name="writable"/> (<c>fat:rw:</c>)
    /// guest writes are kept for <see cref="Commit"/>. First completes or discards a commit a crash
    /// interrupted. A folder that cannot be presented throws <see cref="StorageException"/> with one line.
    /// </summary>
    public static HostFolderDisk Open(string folder, bool writable)
    {
        var (kind, _, errno) = FileStatus.OfPath(folder);
        if (errno != 0 || kind != FileKind.Directory)
        {
            throw new StorageException(errno == 2 ? $"folder '{folder}' does not exist" : $"'{folder}' is not a folder");
        }

        if (writable && !FileStatus.IsWritable(folder))
        {
            // Checked before the scan: the commit at the end of the run would fail after the guest's work.
            throw new StorageException($"folder '{folder}' is not writable: fat:rw: commits the guest's changes into it");
        }

        folder = Path.GetFullPath(folder);
        var warnings = new List<string>();
        if (FolderCommit.Recover(folder) is { } recovered)
        {
            warnings.Add(recovered);
        }

        long budget = (long)(VvfatGeometry.QemuClusterLimit - 2) * VvfatGeometry.ClusterSize;
        var (root, scanWarnings) = HostFolderScan.Scan(folder, budget);
        warnings.AddRange(scanWarnings);
        return new HostFolderDisk(folder, writable, FatImageBuilder.Build(folder, root), warnings);
    }

    public void Read(long offset, Span<byte> destination)
    {
        BlockRange.Check(Length, offset, destination.Length);
        _overlay.Read(offset, destination, ReadPresented);
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        if (ReadOnly)
        {
            throw new BlockBackendException("the folder disk is read-only (fat: without rw:)");
        }

        BlockRange.Check(Length, offset, source.Length);
        _overlay.Write(offset, source, ReadPresented);
    }

    /// <summary>Nothing is durable before <see cref="Commit"/>: the folder changes only as a whole.</summary>
    public void Flush()
    {
    }

    /// <summary>
    /// Brings the folder to match the guest's file system; once, when the run ends. Throws
    /// <see cref="StorageException"/>, folder untouched, when the guest left an inconsistent file
    /// system or the folder changed on the host where the guest changed it.
    /// </summary>
    public FolderCommitResult Commit(Action<string>? crashPoint = null)
    {
        if (ReadOnly)
        {
            throw new InvalidOperationException("a read-only folder disk has nothing to commit");
        }

        if (_committed)
        {
            throw new InvalidOperationException("the folder disk was already committed");
        }

        if (_overlay.BytesHeld == 0)
        {
            return new FolderCommitResult(0, 0, 0, 0, []);
        }

        CheckBootSectors();
        FatVolume guest;
        try
        {
            guest = FatVolume.Read(this);
        }
        catch (InvalidDataException e)
        {
            throw new StorageException($"folder '{Folder}': the guest left an inconsistent FAT file system ({e.Message}); commit refused, the folder was not changed", e);
        }

        _committed = true;
        return FolderCommit.Commit(Folder, _image.Root, guest, Unchanged, crashPoint);
    }

    public void Dispose() => _open?.Handle.Dispose();

    /// <summary>The MBR and boot sector must be the ones presented (except the BPB's dirty flag, byte 0x25): a guest that repartitioned or reformatted the disk has nothing emu can commit file by file.</summary>
    private void CheckBootSectors()
    {
        int bytes = (VvfatGeometry.PartitionStart + 1) * VvfatGeometry.SectorSize;
        if (!_overlay.Touches(0, bytes))
        {
            return;
        }

        byte[] now = new byte[bytes];
        Read(0, now);
        int dirtyFlag = VvfatGeometry.PartitionStart * VvfatGeometry.SectorSize + 0x25;
        now[dirtyFlag] = _image.Head[dirtyFlag];
        if (!now.AsSpan().SequenceEqual(_image.Head.AsSpan(0, bytes)))
        {
            throw new StorageException($"folder '{Folder}': the guest rewrote the partition table or the boot sector; commit refused, the folder was not changed");
        }
    }

    /// <summary>A guest file still holds the presented file's bytes: same size and chain, and no cluster written — or written with the same bytes.</summary>
    private bool Unchanged(FolderNode presented, FolderNode guest, string path)
    {
        if (presented.Size != guest.Size || !presented.Chain.AsSpan().SequenceEqual(guest.Chain))
        {
            return false;
        }

        if (presented.Chain.Length == 0 || !_overlay.Touches(VvfatGeometry.ClusterOffset(presented.Chain[0]), (long)presented.Chain.Length * VvfatGeometry.ClusterSize))
        {
            return true;
        }

        // Written, perhaps with the same bytes (edk2's FAT driver writes whole cache pages back).
        byte[] mine = new byte[VvfatGeometry.ClusterSize], theirs = new byte[VvfatGeometry.ClusterSize];
        long left = presented.Size;
        foreach (uint cluster in presented.Chain)
        {
            int n = (int)Math.Min(left, VvfatGeometry.ClusterSize);
            long at = VvfatGeometry.ClusterOffset(cluster);
            Read(at, theirs.AsSpan(0, n));
            ReadPresented(at, mine.AsSpan(0, n));
            if (!mine.AsSpan(0, n).SequenceEqual(theirs.AsSpan(0, n)))
            {
                return false;
            }

            left -= n;
        }

        return true;
    }

    /// <summary>The disk as presented: the built first sectors, directory clusters, host file contents, zeros elsewhere.</summary>
    private void ReadPresented(long offset, Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            int n;
            if (offset < _headBytes)
            {
                n = (int)Math.Min(destination.Length, _headBytes - offset);
                _image.Head.AsSpan((int)offset, n).CopyTo(destination);
            }
            else
            {
                long data = offset - _headBytes;
                uint cluster = (uint)(data / VvfatGeometry.ClusterSize) + 2;
                int within = (int)(data % VvfatGeometry.ClusterSize);
                var extent = Find(cluster);
                if (extent == null)
                {
                    // Free space up to the next extent (or the end).
                    long end = NextExtentStart(cluster);
                    n = (int)Math.Min(destination.Length, end - offset);
                    destination[..n].Clear();
                }
                else
                {
                    long inExtent = (long)(cluster - extent.FirstCluster) * VvfatGeometry.ClusterSize + within;
                    long extentBytes = (long)extent.Clusters * VvfatGeometry.ClusterSize;
                    n = (int)Math.Min(destination.Length, extentBytes - inExtent);
                    if (extent.Directory != null)
                    {
                        extent.Directory.AsSpan((int)inExtent, n).CopyTo(destination);
                    }
                    else
                    {
                        ReadHostFile(extent.HostPath!, inExtent, destination[..n]);
                    }
                }
            }

            offset += n;
            destination = destination[n..];
        }
    }

    private FatExtent? Find(uint cluster)
    {
        var extents = _image.Extents;
        int lo = 0, hi = extents.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            var e = extents[mid];
            if (cluster < e.FirstCluster)
            {
                hi = mid - 1;
            }
            else if (cluster >= e.FirstCluster + e.Clusters)
            {
                lo = mid + 1;
            }
            else
            {
                return e;
            }
        }

        return null;
    }

    private long NextExtentStart(uint cluster)
    {
        var next = _image.Extents.FirstOrDefault(e => e.FirstCluster > cluster);
        return next == null ? Length : VvfatGeometry.ClusterOffset(next.FirstCluster);
    }

    /// <summary>
    /// Bytes of a host file; past its end zeros, as the sectors of a hole — and all zeros once the
    /// file is gone (deleted on the host, or by this disk's own commit: its clusters are then free in
    /// the guest's FAT and their bytes mean nothing).
    /// </summary>
    private void ReadHostFile(string path, long offset, Span<byte> destination)
    {
        if (_open?.Path != path && FileStatus.OfLink(path).Kind != FileKind.Regular)
        {
            destination.Clear();
            return;
        }

        try
        {
            if (_open?.Path != path)
            {
                _open?.Handle.Dispose();
                _open = (path, File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            }

            int done = 0;
            while (done < destination.Length)
            {
                int n = RandomAccess.Read(_open.Value.Handle, destination[done..], offset + done);
                if (n == 0)
                {
                    break;
                }

                done += n;
            }

            destination[done..].Clear();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _open = null;
            throw new BlockBackendException($"host file '{path}' cannot be read: {e.Message}", e);
        }
    }
}
