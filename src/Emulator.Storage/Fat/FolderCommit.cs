using Emulator.Storage.Host;

namespace Emulator.Storage.Fat;

/// <summary>What a commit changed in the folder.</summary>
public sealed record FolderCommitResult(int FilesWritten, int FilesDeleted, int DirectoriesCreated, int DirectoriesRemoved, IReadOnlyList<string> Notes)
{
    public bool Changed => FilesWritten + FilesDeleted + DirectoriesCreated + DirectoriesRemoved > 0;

    public string Summary() => Changed
        ? $"{FilesWritten} file(s) written, {FilesDeleted} deleted, {DirectoriesCreated} folder(s) created, {DirectoriesRemoved} removed"
        : "no changes";
}

/// <summary>
/// Brings a host folder to match the FAT file system the guest left, crash-safely (docs/storage.md,
/// "Crash windows"). QEMU's vvfat applies changes as the guest writes and calls abort() when one
/// fails, leaving the folder half-changed; here the folder changes only through one whole commit:
/// <list type="number">
/// <item>Plan: compare the guest's tree with what was presented, and check the host still holds
/// what was presented wherever the plan deletes or overwrites (a file changed on the host during
/// the run is never overwritten).</item>
/// <item>Stage: new and changed files are written in full to <c>DIR/.emu-fat-commit.new/data/</c>
/// and fsynced, then the journal; the folder itself is not touched.</item>
/// <item>Commit point: the staging directory is renamed to <c>DIR/.emu-fat-commit</c> and the
/// folder fsynced. From here the commit will complete, now or at the next open.</item>
/// <item>Apply: each step of the journal, idempotently; then the touched directories are fsynced
/// and the journal directory removed.</item>
/// </list>
/// Paths are checked at every step: relative, no "." or ".." component, and no component on the
/// host a symbolic link (so nothing outside DIR is ever reached).
/// </summary>
internal static class FolderCommit
{
    public const string StagingName = ".emu-fat-commit.new";
    public const string JournalDirectoryName = ".emu-fat-commit";
    private const string DataName = "data";

    /// <summary>Names the commit uses in the folder's root: never presented to the guest, refused from it.</summary>
    public static bool IsReservedName(string name) => name.StartsWith(JournalDirectoryName, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Finishes or discards what an interrupted commit left in <paramref name="folder"/>: a staging
    /// directory is removed (the commit never started), a journal is replayed to the end. Returns a
    /// line saying which, or null when there was nothing.
    /// </summary>
    public static string? Recover(string folder)
    {
        string staging = Path.Combine(folder, StagingName), journalDir = Path.Combine(folder, JournalDirectoryName);
        string? note = null;
        if (FileStatus.OfLink(staging).Kind == FileKind.Directory)
        {
            Directory.Delete(staging, recursive: true);
            DirectorySync.Flush(folder);
            note = $"folder '{folder}': discarded a commit interrupted before it started";
        }

        if (FileStatus.OfLink(journalDir).Kind != FileKind.Directory)
        {
            return note;
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path.Combine(journalDir, CommitJournal.FileName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"folder '{folder}': the journal of an interrupted commit cannot be read ({e.Message}); move '{journalDir}' away to use the folder as it is", e);
        }

        var journal = CommitJournal.Parse(bytes) ?? throw new StorageException(
            $"folder '{folder}': '{journalDir}' is not a commit journal emu can complete; move it away to use the folder as it is");
        Apply(folder, journal, Path.Combine(journalDir, DataName), crashPoint: null);
        Finish(folder, journalDir);
        return $"folder '{folder}': completed a commit interrupted by a crash ({journal.Ops.Count} steps)";
    }

    /// <summary>
    /// Commits <paramref name="guest"/> over <paramref name="presented"/>. <paramref name="unchanged"/>
    /// says whether a guest file still holds exactly the presented file's bytes.
    /// <paramref name="crashPoint"/> is called at each stage boundary ("staged", "committed",
    /// "applied N"); tests throw from it to leave what a crash there would leave.
    /// </summary>
    public static FolderCommitResult Commit(string folder, FolderNode presented, FatVolume guest, Func<FolderNode, FolderNode, string, bool> unchanged, Action<string>? crashPoint = null)
    {
        Recover(folder);
        var plan = new Plan(folder, unchanged);
        plan.Directory(presented, guest.Root, "");
        if (plan.Ops.Count == 0)
        {
            return new FolderCommitResult(0, 0, 0, 0, []);
        }

        string staging = Path.Combine(folder, StagingName);
        try
        {
            Stage(staging, plan, guest);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(staging);
            throw new StorageException($"folder '{folder}': the commit could not be prepared ({e.Message}); the folder was not changed", e);
        }

        crashPoint?.Invoke("staged");
        string journalDir = Path.Combine(folder, JournalDirectoryName);
        Directory.Move(staging, journalDir);
        DirectorySync.Flush(folder);
        crashPoint?.Invoke("committed");
        var journal = new CommitJournal(CommitJournal.CurrentFormat, plan.Ops);
        var notes = Apply(folder, journal, Path.Combine(journalDir, DataName), crashPoint);
        Finish(folder, journalDir);
        int Count(string op) => plan.Ops.Count(o => o.Op == op);
        return new FolderCommitResult(Count("put"), Count("delete"), Count("mkdir"), Count("rmdir") - notes.Count, notes);
    }

    private static void Stage(string staging, Plan plan, FatVolume guest)
    {
        TryDelete(staging);
        string data = Path.Combine(staging, DataName);
        Directory.CreateDirectory(data);
        foreach (var (op, node, mode) in plan.Staged)
        {
            string file = Path.Combine(data, op.Staged.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using (var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                guest.CopyFile(node, stream);
                stream.Flush(flushToDisk: true);
            }

            File.SetLastWriteTimeUtc(file, node.ModifiedUtc);
            if (mode is { } m && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, m);
            }
        }

        string journal = Path.Combine(staging, CommitJournal.FileName);
        using (var stream = new FileStream(journal, FileMode.CreateNew, FileAccess.Write))
        {
            stream.Write(new CommitJournal(CommitJournal.CurrentFormat, plan.Ops).ToBytes());
            stream.Flush(flushToDisk: true);
        }

        DirectorySync.Flush(data);
        DirectorySync.Flush(staging);
    }

    /// <summary>Runs every step; each is idempotent, so a replay after a crash anywhere in here ends the same. Returns notes on directories kept.</summary>
    private static List<string> Apply(string folder, CommitJournal journal, string data, Action<string>? crashPoint)
    {
        var notes = new List<string>();
        var touched = new HashSet<string>(StringComparer.Ordinal) { folder };
        int done = 0;
        foreach (var op in journal.Ops)
        {
            string path = HostPath(folder, op.Path);
            var kind = FileStatus.OfLink(path).Kind;
            try
            {
                switch (op.Op)
                {
                    case "delete" when kind == FileKind.Regular:
                        File.Delete(path);
                        break;
                    case "rmdir" when kind == FileKind.Directory:
                        if (Directory.EnumerateFileSystemEntries(path).Any())
                        {
                            notes.Add($"'{op.Path}' was kept: it holds entries the guest never saw");
                        }
                        else
                        {
                            Directory.Delete(path);
                        }

                        break;
                    case "mkdir" when kind != FileKind.Directory:
                        Directory.CreateDirectory(path);
                        break;
                    case "put":
                        string staged = Path.Combine(data, op.Staged.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        if (File.Exists(staged))
                        {
                            File.Move(staged, path, overwrite: true);
                        }

                        break;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StorageException(
                    $"folder '{folder}': commit step '{op.Op} {op.Path}' failed ({e.Message}); the journal in '{JournalDirectoryName}' completes it at the next open once that is fixed", e);
            }

            touched.Add(Path.GetDirectoryName(path)!);
            crashPoint?.Invoke($"applied {++done}");
        }

        foreach (string directory in touched)
        {
            DirectorySync.Flush(directory);
        }

        return notes;
    }

    private static void Finish(string folder, string journalDir)
    {
        Directory.Delete(journalDir, recursive: true);
        DirectorySync.Flush(folder);
    }

    /// <summary>
    /// The host path of a journal path, refusing anything that could leave the folder: an empty,
    /// "." or ".." component, a separator or NUL inside one, or a parent on the host that is not a
    /// real directory (a symbolic link to elsewhere).
    /// </summary>
    internal static string HostPath(string folder, string relative)
    {
        string[] parts = relative.Split('/');
        string path = folder;
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            if (part.Length == 0 || part is "." or ".." || part.Contains('\\') || part.Contains('\0') || (i == 0 && IsReservedName(part)))
            {
                throw new StorageException($"folder '{folder}': refused path '{relative}': it would leave the folder or touch emu's own files");
            }

            path = Path.Combine(path, part);
            if (i < parts.Length - 1 && FileStatus.OfLink(path).Kind is not (FileKind.Directory or FileKind.Other))
            {
                throw new StorageException($"folder '{folder}': refused path '{relative}': '{string.Join('/', parts[..(i + 1)])}' is not a directory on the host (a symbolic link is never followed)");
            }
        }

        return path;
    }

    private static void TryDelete(string directory)
    {
        if (FileStatus.OfLink(directory).Kind == FileKind.Directory)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The steps that turn the presented tree into the guest's, with the host checked wherever they delete or overwrite.</summary>
    private sealed class Plan(string folder, Func<FolderNode, FolderNode, string, bool> unchanged)
    {
        private readonly List<CommitOp> _deletes = [], _rmdirs = [], _mkdirs = [], _puts = [];

        public List<(CommitOp Op, FolderNode Node, UnixFileMode? Mode)> Staged { get; } = [];

        public List<CommitOp> Ops => [.. _deletes, .. _rmdirs.AsEnumerable().Reverse(), .. _mkdirs, .. _puts];

        public void Directory(FolderNode? presented, FolderNode guest, string path)
        {
            foreach (var g in guest.Children)
            {
                string p = Join(path, g.Name);
                var o = presented?.Child(g.Name);
                if (g.IsDirectory)
                {
                    if (o is { IsDirectory: true })
                    {
                        Directory(o, g, p);
                        continue;
                    }

                    if (o != null)
                    {
                        Delete(o, p);
                    }
                    else
                    {
                        ExpectAbsent(p, directoryAllowed: true);
                    }

                    _mkdirs.Add(new CommitOp("mkdir", p));
                    Directory(null, g, p);
                }
                else if (o is { IsDirectory: false } && unchanged(o, g, p))
                {
                    continue;
                }
                else
                {
                    UnixFileMode? mode = null;
                    if (o is { IsDirectory: false })
                    {
                        ExpectPresented(o, p);
                        mode = OperatingSystem.IsWindows() ? null : File.GetUnixFileMode(HostPath(folder, p));
                    }
                    else if (o != null)
                    {
                        Delete(o, p);
                    }
                    else
                    {
                        ExpectAbsent(p, directoryAllowed: false);
                    }

                    var op = new CommitOp("put", p, Staged.Count);
                    _puts.Add(op);
                    Staged.Add((op, g, mode));
                }
            }

            foreach (var o in presented?.Children ?? [])
            {
                if (guest.Child(o.Name) == null)
                {
                    Delete(o, Join(path, o.Name));
                }
            }
        }

        /// <summary>Removes a presented file, or a presented directory with everything in it.</summary>
        private void Delete(FolderNode node, string path)
        {
            if (!node.IsDirectory)
            {
                ExpectPresented(node, path);
                _deletes.Add(new CommitOp("delete", path));
                return;
            }

            string host = HostPath(folder, path);
            if (FileStatus.OfLink(host).Kind != FileKind.Directory)
            {
                throw Changed(path, "is no longer a directory");
            }

            foreach (string name in System.IO.Directory.EnumerateFileSystemEntries(host).Select(Path.GetFileName).OfType<string>())
            {
                if (node.Child(name) == null)
                {
                    throw new StorageException(
                        $"folder '{folder}': the guest removed directory '{path}', which holds '{name}' the guest never saw (a link, special file or new file); commit refused, the folder was not changed");
                }
            }

            _rmdirs.Add(new CommitOp("rmdir", path));
            foreach (var child in node.Children)
            {
                Delete(child, Join(path, child.Name));
            }
        }

        /// <summary>The host file is still the one presented: a regular file of the same size and mtime.</summary>
        private void ExpectPresented(FolderNode node, string path)
        {
            string host = HostPath(folder, path);
            var (kind, size, _) = FileStatus.OfLink(host);
            if (kind != FileKind.Regular || size != node.Size || File.GetLastWriteTimeUtc(host) != node.ModifiedUtc)
            {
                throw Changed(path, "changed on the host during the run");
            }
        }

        private void ExpectAbsent(string path, bool directoryAllowed)
        {
            var kind = FileStatus.OfLink(HostPath(folder, path)).Kind;
            if (kind != FileKind.Other && !(directoryAllowed && kind == FileKind.Directory))
            {
                throw Changed(path, "appeared on the host during the run");
            }
        }

        private StorageException Changed(string path, string what) =>
            new($"folder '{folder}': '{path}' {what}; commit refused so neither version is lost, the folder was not changed");

        private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}/{name}";
    }
}
