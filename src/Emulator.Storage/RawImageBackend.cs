using Emulator.Core.Storage;
using Emulator.Storage.Host;
using Microsoft.Win32.SafeHandles;

namespace Emulator.Storage;

/// <summary>How a raw image file is opened: QEMU's <c>-drive file=F,format=raw</c> with its options.</summary>
public enum RawImageMode
{
    /// <summary>Guest writes go to the file (QEMU's default).</summary>
    ReadWrite,
    /// <summary><c>readonly=on</c>: writes are refused with an I/O error the guest sees.</summary>
    ReadOnly,
    /// <summary><c>snapshot=on</c>: writes land in memory and are dropped at the end; the file is opened read-only and never changes.</summary>
    Snapshot,
}

/// <summary>
/// A raw disk or CD image file (QEMU block/raw-format.c over block/file-posix.c). The file is
/// stat'ed before it is opened: it must be a regular file (a FIFO or device is refused by name, so
/// nothing blocks), not empty, and a whole number of 512-byte sectors. QEMU 7.2 accepts any size
/// for raw — its block layer rounds the length up to a sector (block.c refresh_total_sectors,
/// DIV_ROUND_UP), reads the tail as zeros and grows the file when the guest writes the last sector
/// (measured with qemu-io 7.2.22 on a 1000-byte file: virtual size 1024, a write of sector 1 left
/// a 1024-byte file); emu refuses such a file instead, so a guest never changes an image's size.
/// A writable image is opened with an exclusive advisory lock (flock), a read-only one with a shared
/// lock, as QEMU's image locking keeps two VMs from writing one image.
/// </summary>
public sealed class RawImageBackend : IBlockBackend
{
    public const int SectorSize = 512;

    private readonly FileStream _file;
    private readonly SparseOverlay? _overlay;

    private RawImageBackend(FileStream file, RawImageMode mode)
    {
        _file = file;
        Length = file.Length;
        Mode = mode;
        _overlay = mode == RawImageMode.Snapshot ? new SparseOverlay(Length) : null;
    }

    public long Length { get; }

    public RawImageMode Mode { get; }

    public bool ReadOnly => Mode == RawImageMode.ReadOnly;

    /// <summary>Memory held by <c>snapshot=on</c> writes (0 otherwise).</summary>
    public long OverlayBytes => _overlay?.BytesHeld ?? 0;

    /// <summary>Opens <paramref name="path"/>; a file that cannot be used throws <see cref="StorageException"/> with one line naming it.</summary>
    public static RawImageBackend Open(string path, RawImageMode mode)
    {
        string what = $"disk image '{path}'";
        var file = ImageFile.Open(path, what, write: mode == RawImageMode.ReadWrite);
        if (file.Length % SectorSize != 0)
        {
            long size = file.Length;
            file.Dispose();
            throw new StorageException(
                $"{what} is {size} bytes, not a whole number of {SectorSize}-byte sectors (QEMU would pad the last sector and grow the file on a write; emu never changes an image's size: 'truncate -s %{SectorSize} FILE' pads it)");
        }

        return new RawImageBackend(file, mode);
    }

    public void Read(long offset, Span<byte> destination)
    {
        BlockRange.Check(Length, offset, destination.Length);
        if (_overlay != null)
        {
            _overlay.Read(offset, destination, ReadFile);
        }
        else
        {
            ReadFile(offset, destination);
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        if (ReadOnly)
        {
            throw new BlockBackendException("the medium is read-only (readonly=on)");
        }

        BlockRange.Check(Length, offset, source.Length);
        if (_overlay != null)
        {
            _overlay.Write(offset, source, ReadFile);
            return;
        }

        try
        {
            RandomAccess.Write(_file.SafeFileHandle, source, offset);
        }
        catch (IOException e)
        {
            throw new BlockBackendException($"write of {source.Length} bytes at {offset} failed: {e.Message}", e);
        }
    }

    /// <summary>fsync(2) for a writable image; nothing to make durable otherwise (snapshot writes are dropped by design).</summary>
    public void Flush()
    {
        if (Mode != RawImageMode.ReadWrite)
        {
            return;
        }

        try
        {
            _file.Flush(flushToDisk: true);
        }
        catch (IOException e)
        {
            throw new BlockBackendException($"flush failed: {e.Message}", e);
        }
    }

    public void Dispose() => _file.Dispose();

    private void ReadFile(long offset, Span<byte> destination) => HostRead.Exactly(_file.SafeFileHandle, offset, destination, "image file");

    internal static string KindName(FileKind kind) => kind switch
    {
        FileKind.Directory => "a directory",
        FileKind.Fifo => "a FIFO",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        FileKind.SymbolicLink => "a symbolic link",
        _ => "not a file emu reads",
    };
}

/// <summary>Positional reads that fill the span or say why not.</summary>
internal static class HostRead
{
    /// <summary>Reads all of <paramref name="destination"/> at <paramref name="offset"/>; a file that ends early or fails gives <see cref="BlockBackendException"/> (an I/O error for the guest).</summary>
    public static void Exactly(SafeFileHandle handle, long offset, Span<byte> destination, string what)
    {
        int done = 0;
        try
        {
            while (done < destination.Length)
            {
                int n = RandomAccess.Read(handle, destination[done..], offset + done);
                if (n == 0)
                {
                    throw new BlockBackendException($"the {what} ends at {offset + done}, inside a read (did it shrink?)");
                }

                done += n;
            }
        }
        catch (IOException e)
        {
            throw new BlockBackendException($"read of the {what} at {offset + done} failed: {e.Message}", e);
        }
    }
}
