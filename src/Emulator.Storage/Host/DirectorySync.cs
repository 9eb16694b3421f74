using System.Runtime.InteropServices;

namespace Emulator.Storage.Host;

/// <summary>
/// fsync(2) of a directory, so a file renamed into it survives a power loss, not only a crash of
/// emu: rename(2) changes the directory, and POSIX makes that change durable only when the
/// directory itself is synced (the step libvirt and SQLite take after an atomic replace). .NET
/// has no API for it (File.OpenHandle refuses a directory), hence libc's open/fsync/close (the same calls on every
/// Linux architecture).
/// </summary>
public static partial class DirectorySync
{
    private const int ReadOnly = 0; // O_RDONLY opens a directory too; O_DIRECTORY's value differs between architectures

    /// <summary>Best effort: a file system that cannot sync a directory (or Windows, where a rename is journaled) is left as it is.</summary>
    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int fd = Open(directory, ReadOnly);
        if (fd < 0)
        {
            return;
        }

        _ = FSync(fd);
        _ = Close(fd);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
