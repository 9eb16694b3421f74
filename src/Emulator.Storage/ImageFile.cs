using Emulator.Storage.Host;

namespace Emulator.Storage;

/// <summary>
/// Opens an image file the way every image backend needs it opened: stat'ed first, so a missing
/// file, a directory, a FIFO (which would block), a device or a socket is refused by name, and an
/// empty file too; then opened with an advisory lock — exclusive for a writer, shared for a
/// reader — as QEMU's image locking keeps two VMs from writing one image.
/// </summary>
internal static class ImageFile
{
    /// <summary>Opens <paramref name="path"/> (<paramref name="what"/> names it in every message); a file that cannot be used throws <see cref="StorageException"/>.</summary>
    public static FileStream Open(string path, string what, bool write)
    {
        var (kind, size, errno) = FileStatus.OfPath(path);
        if (errno != 0)
        {
            throw new StorageException(errno == 2 ? $"{what} does not exist" : $"{what} cannot be examined (errno {errno})");
        }

        if (kind != FileKind.Regular)
        {
            throw new StorageException($"{what} is {RawImageBackend.KindName(kind)}, not a regular file");
        }

        if (size == 0)
        {
            throw new StorageException($"{what} is empty");
        }

        try
        {
            var file = new FileStream(path, FileMode.Open, write ? FileAccess.ReadWrite : FileAccess.Read,
                write ? FileShare.None : FileShare.Read, bufferSize: 0);
            if (file.Length != size)
            {
                file.Dispose();
                throw new StorageException($"{what} changed size while it was being opened");
            }

            return file;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StorageException(write ? $"{what} cannot be opened for writing (permission denied): use readonly=on or snapshot=on" : $"{what} cannot be read (permission denied)", e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new StorageException($"{what} cannot be opened: {e.Message} (is another emu or QEMU using it?)", e);
        }
    }
}
