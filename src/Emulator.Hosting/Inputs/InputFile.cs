using Emulator.Storage.Host;
using Microsoft.Win32.SafeHandles;

namespace Emulator.Hosting.Inputs;

/// <summary>
/// The one way emu reads a file the user names (issue 15). First stat(2): the path must name a
/// regular file (a symbolic link to one is fine) — a FIFO, device, directory or socket is refused
/// by name before it is opened, so nothing blocks on a FIFO or reads /dev/zero for ever; then the
/// size must suit the file's <see cref="InputRole"/>; then exactly that many bytes are read, and a
/// file that grew or shrank meanwhile is refused. Every failure is one <see cref="UsageException"/>
/// line naming the file, its role and the rule; the file is only ever opened for reading here.
/// </summary>
public static class InputFile
{
    /// <summary>Checks <paramref name="path"/> for <paramref name="role"/> without opening it; returns its size.</summary>
    public static long Check(InputRole role, string path)
    {
        long size = Stat(role, path);
        role.CheckSize(path, size);
        return size;
    }

    /// <summary>The file's bytes, after <see cref="Check"/>.</summary>
    public static byte[] Read(InputRole role, string path)
    {
        long size = Check(role, path);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return ReadOpened(role, path, handle, size);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{role.Describe(path)} cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// Reads all of a file opened after <see cref="Check"/> returned <paramref name="size"/>: the
    /// handle must still be a regular file of that size (the path may have been replaced in
    /// between), and no byte may follow it.
    /// </summary>
    public static byte[] ReadOpened(InputRole role, string path, SafeFileHandle handle, long size)
    {
        if (!OperatingSystem.IsWindows())
        {
            var (kind, now, errno) = FileStatus.OfHandle(handle);
            if (errno != 0 || kind != FileKind.Regular || now != size)
            {
                throw new UsageException($"{role.Describe(path)} changed while it was being opened: try again");
            }
        }

        byte[] bytes = new byte[size];
        int done = 0;
        while (done < bytes.Length)
        {
            int n = RandomAccess.Read(handle, bytes.AsSpan(done), done);
            if (n <= 0)
            {
                throw new UsageException($"{role.Describe(path)} shrank while it was being read: try again");
            }

            done += n;
        }

        Span<byte> beyond = stackalloc byte[1];
        if (RandomAccess.Read(handle, beyond, size) != 0)
        {
            throw new UsageException($"{role.Describe(path)} grew while it was being read: try again");
        }

        return bytes;
    }

    /// <summary>The size of the regular file <paramref name="path"/>; a one-line refusal for anything else.</summary>
    private static long Stat(InputRole role, string path)
    {
        string what = role.Describe(path);
        if (path.Length == 0 || path.Contains('\0', StringComparison.Ordinal))
        {
            throw new UsageException($"{what}: invalid path");
        }

        if (OperatingSystem.IsWindows())
        {
            // No FIFOs or devices among Windows paths that FileInfo accepts as files.
            var info = new FileInfo(path);
            return Directory.Exists(path) ? throw new UsageException($"{what} is a directory")
                : info.Exists ? info.Length
                : throw new UsageException($"{what} does not exist");
        }

        var (kind, size, errno) = FileStatus.OfPath(path);
        const int NoSuchFile = 2, NotADirectory = 20;
        if (errno is NoSuchFile or NotADirectory)
        {
            throw new UsageException($"{what} does not exist");
        }

        if (errno != 0)
        {
            throw new UsageException($"{what} cannot be read: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}");
        }

        return kind switch
        {
            FileKind.Regular => size,
            FileKind.Directory => throw new UsageException($"{what} is a directory, not a regular file"),
            _ => throw new UsageException($"{what} is not a regular file ({KindName(kind)})"),
        };
    }

    private static string KindName(FileKind kind) => kind switch
    {
        FileKind.Fifo => "a FIFO",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => "not a file emu reads",
    };
}
