using System.Runtime.InteropServices;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Varstore;

/// <summary>
/// The writable flash file (<c>--vars</c>, or the unified <c>--firmware</c> image) and its journal
/// (<see cref="VarstoreJournal"/>). Opening recovers a journal left by a killed run before anyone
/// sees the bytes; the file is only ever updated in place (same inode, owner, mode and labels:
/// libvirt manages these files), never replaced. Both files are held with an exclusive lock for
/// the run, so a second emulator cannot write the same varstore (QEMU locks its images too).
///
/// With <c>--snapshot</c> nothing is opened for writing: a leftover journal's complete records
/// are applied in memory only, so the guest sees what the next persisting run would see, and the
/// file and journal stay exactly as they were.
/// </summary>
public sealed class VarstoreFile : IDisposable
{
    private const UnixFileMode AnyWrite = UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
    private const UnixFileMode ReadWriteBits = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
        | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    // Unbuffered streams: their handles serve RandomAccess reads and writes, Flush(true) is fsync.
    private readonly FileStream? _file;
    private readonly FileStream? _journal;
    private readonly byte[] _header = new byte[VarstoreJournal.HeaderSize];
    private bool _closed;

    private VarstoreFile(string role, string path, byte[] bytes, JournalScan recovered, FileStream? file, FileStream? journal, ulong epoch)
    {
        Role = role;
        Path = path;
        JournalPath = VarstoreJournal.PathFor(path);
        Bytes = bytes;
        Recovered = recovered;
        _file = file;
        _journal = journal;
        Epoch = epoch;
    }

    /// <summary>The file's role in messages (vars, firmware).</summary>
    public string Role { get; }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The journal beside the file (<c>FILE.emu-journal</c>).</summary>
    public string JournalPath { get; }

    /// <summary>The contents the machine starts from: the file with any leftover journal applied.</summary>
    public byte[] Bytes { get; }

    /// <summary>What the leftover journal held when the file was opened (<see cref="JournalState.Empty"/> when there was none).</summary>
    public JournalScan Recovered { get; }

    /// <summary>True with <c>--snapshot</c>: nothing is ever written.</summary>
    public bool Snapshot => _file == null;

    /// <summary>The journal's current epoch; records of any other epoch never validate.</summary>
    public ulong Epoch { get; private set; }

    /// <summary>Where the next record goes.</summary>
    public long JournalLength { get; private set; }

    /// <summary>The report's record of the file: role, path, size and SHA-256 of the bytes the run starts from.</summary>
    public FirmwareFileInfo Info => FirmwareFiles.Describe(Role, Path, Bytes);

    /// <summary>
    /// Opens <paramref name="path"/> for the run. Without <paramref name="snapshot"/> the file must
    /// be writable — its mode must grant write permission to someone (a file marked read-only is
    /// refused even for root, who could otherwise write it) and the open for writing must succeed —
    /// and its directory must take the journal. One-line <see cref="UsageException"/>s otherwise.
    /// </summary>
    public static VarstoreFile Open(InputRole role, string path, bool snapshot) =>
        snapshot ? OpenSnapshot(role, path) : OpenWritable(role, path);

    private static VarstoreFile OpenSnapshot(InputRole role, string path)
    {
        byte[] bytes = InputFile.Read(role, path);
        string journalPath = VarstoreJournal.PathFor(path);
        var scan = default(JournalScan);
        if (File.Exists(journalPath))
        {
            scan = Recover(role.Name, path, InputFile.Read(InputRole.Journal, journalPath), bytes);
        }

        return new VarstoreFile(role.Name, path, bytes, scan, null, null, scan.Epoch);
    }

    private static VarstoreFile OpenWritable(InputRole role, string path)
    {
        long size = InputFile.Check(role, path);
        string refusal = $"{role.Describe(path)} is not writable: make it writable, or run with --snapshot to keep guest writes in memory only";
        UnixFileMode mode = OperatingSystem.IsWindows() ? AnyWrite : File.GetUnixFileMode(path);
        if ((mode & AnyWrite) == 0)
        {
            throw new UsageException(refusal);
        }

        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 0);
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException(refusal);
        }
        catch (IOException e)
        {
            // Among the reasons: another run holds the file (its lock), a read-only file system.
            throw new UsageException($"{role.Describe(path)} cannot be opened for writing: {e.Message}");
        }

        FileStream? journal = null;
        try
        {
            byte[] bytes = InputFile.ReadOpened(role, path, file.SafeFileHandle, size);
            string journalPath = VarstoreJournal.PathFor(path);
            long journalSize = File.Exists(journalPath) ? InputFile.Check(InputRole.Journal, journalPath) : 0;
            journal = OpenJournal(journalPath, mode & ReadWriteBits, out bool created);
            var scan = default(JournalScan);
            if (!created)
            {
                scan = Recover(role.Name, path, InputFile.ReadOpened(InputRole.Journal, journalPath, journal.SafeFileHandle, journalSize), bytes);
            }

            var opened = new VarstoreFile(role.Name, path, bytes, scan, file, journal, scan.Epoch);
            if (scan.State == JournalState.Records)
            {
                // Redo the recovered operations in the file itself before the journal is reset.
                RandomAccess.Write(file.SafeFileHandle, bytes, 0);
            }

            opened.Checkpoint();
            if (created)
            {
                SyncDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            }

            return opened;
        }
        catch
        {
            journal?.Dispose();
            file.Dispose();
            throw;
        }
    }

    private static FileStream OpenJournal(string journalPath, UnixFileMode mode, out bool created)
    {
        try
        {
            created = !File.Exists(journalPath);
            var options = new FileStreamOptions
            {
                Mode = created ? FileMode.CreateNew : FileMode.Open,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                BufferSize = 0,
            };
            if (created && !OperatingSystem.IsWindows())
            {
                // The journal holds the same data as the file: no wider permissions than it has.
                options.UnixCreateMode = mode;
            }

            return new FileStream(journalPath, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot open the journal '{journalPath}' (its directory must be writable, or use --snapshot): {e.Message}");
        }
    }

    /// <summary>Applies a leftover journal's complete records to <paramref name="bytes"/>; refuses a journal that is not ours, or damaged.</summary>
    private static JournalScan Recover(string role, string path, byte[] journal, byte[] bytes)
    {
        var scan = VarstoreJournal.Replay(journal, bytes.Length, bytes);
        if (scan.State == JournalState.Foreign)
        {
            throw new UsageException(
                $"'{VarstoreJournal.PathFor(path)}' is not an emu journal for the {bytes.Length}-byte {role} file '{path}': move it away and start again");
        }

        if (scan.State == JournalState.Damaged)
        {
            throw new UsageException(
                $"'{VarstoreJournal.PathFor(path)}' is damaged at byte {journal.Length - scan.TornBytes} with valid records after it (not a torn write): replaying it could undo later writes, so neither file was changed; move the journal away to use '{path}' as it is");
        }

        return scan;
    }

    /// <summary>Appends sealed records (<see cref="VarstoreJournal.SealRecord"/>) at the end of the journal.</summary>
    public void AppendJournal(ReadOnlySpan<byte> records)
    {
        RandomAccess.Write(_journal!.SafeFileHandle, records, JournalLength);
        JournalLength += records.Length;
    }

    /// <summary>Makes the journal durable (fsync).</summary>
    public void SyncJournal() => _journal!.Flush(flushToDisk: true);

    /// <summary>Writes <paramref name="data"/> into the file at <paramref name="offset"/>.</summary>
    public void WriteFile(long offset, ReadOnlySpan<byte> data) => RandomAccess.Write(_file!.SafeFileHandle, data, offset);

    /// <summary>
    /// Makes the file durable, then starts the journal over with the next epoch: fsync the file,
    /// truncate the journal, write and fsync the new header. A crash at any point leaves either
    /// the old journal (whose records the file already holds: replay is idempotent) or an empty one.
    /// </summary>
    public void Checkpoint()
    {
        _file!.Flush(flushToDisk: true);
        RandomAccess.SetLength(_journal!.SafeFileHandle, 0);
        Epoch++;
        VarstoreJournal.WriteHeader(_header, Epoch, Bytes.Length);
        RandomAccess.Write(_journal.SafeFileHandle, _header, 0);
        JournalLength = VarstoreJournal.HeaderSize;
        SyncJournal();
    }

    /// <summary>Set when writing failed: the journal may hold operations the file lacks, so it stays for the next open.</summary>
    public bool KeepJournal { get; set; }

    /// <summary>Clean end of the run: the file durable, the journal gone.</summary>
    public void Close()
    {
        if (_closed || Snapshot || KeepJournal)
        {
            return;
        }

        _file!.Flush(flushToDisk: true);
        File.Delete(JournalPath);
        _closed = true;
    }

    /// <summary>Closes the file and the journal.</summary>
    public void Dispose()
    {
        _journal?.Dispose();
        _file?.Dispose();
    }

    /// <summary>
    /// fsync of the directory, so a newly created journal's name survives a power loss (POSIX
    /// leaves directory entries to the directory's own fsync). Best effort: not every file system
    /// lets a directory be opened.
    /// </summary>
    private static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int fd = PosixOpen(directory, 0);
        if (fd >= 0)
        {
            _ = PosixFsync(fd);
            _ = PosixClose(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int PosixOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int PosixFsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int PosixClose(int fd);
}
