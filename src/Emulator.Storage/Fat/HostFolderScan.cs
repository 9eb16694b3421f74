using Emulator.Storage.Host;

namespace Emulator.Storage.Fat;

/// <summary>
/// Reads a host folder into a <see cref="FolderNode"/> tree for <see cref="FatImageBuilder"/>.
/// Regular files and directories only: symbolic links are not followed (QEMU's vvfat stat()s and
/// follows them, so a link to / would present the whole host), and FIFOs, devices and sockets are
/// left out (reading a FIFO would block). Names FAT cannot hold, and a second name differing from
/// an earlier one only in case (FAT names are case-insensitive), are left out too. Each left-out
/// entry is named in <see cref="Warnings"/>; a commit never deletes one. Entries are sorted by
/// name (ordinal) so the disk is the same on every run; QEMU takes readdir() order.
/// </summary>
internal sealed class HostFolderScan
{
    /// <summary>Deeper folders are refused: FAT paths this deep are far beyond what firmware uses, and the limit bounds recursion.</summary>
    public const int MaxDepth = 64;

    private readonly List<string> _warnings = [];
    private readonly long _byteBudget;
    private long _bytes;

    private HostFolderScan(long byteBudget) => _byteBudget = byteBudget;

    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>
    /// Scans <paramref name="folder"/>; stops with <see cref="StorageException"/> as soon as the
    /// files add up to more than <paramref name="byteBudget"/> (so a huge folder is refused without
    /// walking all of it).
    /// </summary>
    public static (FolderNode Root, IReadOnlyList<string> Warnings) Scan(string folder, long byteBudget)
    {
        var scan = new HostFolderScan(byteBudget);
        var root = new FolderNode("", isDirectory: true) { ModifiedUtc = Directory.GetLastWriteTimeUtc(folder) };
        scan.ReadDirectory(folder, folder, root, 0);
        return (root, scan.Warnings);
    }

    private void ReadDirectory(string folder, string path, FolderNode node, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new StorageException($"folder '{folder}' has directories nested deeper than {MaxDepth} levels ('{Relative(folder, path)}')");
        }

        string[] names;
        try
        {
            names = Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"folder '{folder}': directory '{Relative(folder, path)}' cannot be read: {e.Message}", e);
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string name in names)
        {
            string full = Path.Combine(path, name);
            string relative = Relative(folder, full);
            if (depth == 0 && FolderCommit.IsReservedName(name))
            {
                continue; // a commit's own staging, never presented
            }

            if (FatNames.WhyNotLongName(name) is { } why)
            {
                _warnings.Add($"'{relative}' left out: its name {why}");
                continue;
            }

            if (!seen.Add(name))
            {
                _warnings.Add($"'{relative}' left out: FAT names ignore case and another entry has the same name");
                continue;
            }

            var (kind, size, _) = FileStatus.OfLink(full);
            switch (kind)
            {
                case FileKind.Regular:
                    _bytes += size;
                    if (_bytes > _byteBudget)
                    {
                        throw new StorageException(
                            $"folder '{folder}' holds more than the {VvfatGeometry.QemuCapacityMb:F2} MB a FAT16 disk as QEMU's vvfat builds it can hold (QEMU: \"Directory does not fit in FAT16\")");
                    }

                    var info = new FileInfo(full);
                    node.Children.Add(new FolderNode(name, isDirectory: false) { Size = size, ModifiedUtc = info.LastWriteTimeUtc, AccessedUtc = info.LastAccessTimeUtc });
                    break;
                case FileKind.Directory:
                    var dir = new FolderNode(name, isDirectory: true) { ModifiedUtc = Directory.GetLastWriteTimeUtc(full), AccessedUtc = Directory.GetLastAccessTimeUtc(full) };
                    node.Children.Add(dir);
                    ReadDirectory(folder, full, dir, depth + 1);
                    break;
                default:
                    _warnings.Add($"'{relative}' left out: it is {RawImageBackend.KindName(kind)}{(kind == FileKind.SymbolicLink ? " (not followed)" : "")}");
                    break;
            }
        }
    }

    private static string Relative(string folder, string path) => Path.GetRelativePath(folder, path);
}
