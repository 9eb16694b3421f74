using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Emulator.Storage.Host;

/// <summary>The kind of file stat(2) reports (its S_IFMT bits).</summary>
public enum FileKind
{
    /// <summary>A regular file.</summary>
    Regular,
    /// <summary>A directory.</summary>
    Directory,
    /// <summary>A named pipe.</summary>
    Fifo,
    /// <summary>A character device.</summary>
    CharacterDevice,
    /// <summary>A block device.</summary>
    BlockDevice,
    /// <summary>A socket.</summary>
    Socket,
    /// <summary>A symbolic link (only <see cref="FileStatus.OfLink"/> reports one).</summary>
    SymbolicLink,
    /// <summary>Anything else, or a path that cannot be examined.</summary>
    Other,
}

/// <summary>
/// stat(2) and fstat(2) as .NET itself calls them: through the runtime's own System.Native
/// (dotnet/runtime src/native/libs/System.Native/pal_io.h, <c>SystemNative_Stat</c>/<c>SystemNative_FStat</c>),
/// because no public API tells a FIFO or a device from an empty regular file (FileInfo calls both
/// "Normal" with length 0) and opening a FIFO blocks until a writer comes. Only the struct's first
/// fields are read — <c>int32 Flags; int32 Mode; uint32 Uid; uint32 Gid; int64 Size</c>, at the same
/// offsets since .NET Core 1.0 — and Mode's type bits are the PAL's S_IF* values, POSIX's own.
/// </summary>
public static partial class FileStatus
{
    // Larger than the whole FileStatus struct of any runtime version (15 fields of at most 8 bytes).
    private const int BufferSize = 256;
    private const int ModeOffset = 4;
    private const int SizeOffset = 16;

    private const int TypeMask = 0xF000;

    /// <summary>Follows symbolic links, like stat(2): a link to a regular file is a regular file.</summary>
    public static (FileKind Kind, long Size, int Errno) OfPath(string path)
    {
        byte[] status = new byte[BufferSize];
        return Stat(path, status) == 0 ? Decode(status) : (FileKind.Other, 0, Marshal.GetLastPInvokeError());
    }

    /// <summary>Does not follow symbolic links, like lstat(2): a link is <see cref="FileKind.SymbolicLink"/>.</summary>
    public static (FileKind Kind, long Size, int Errno) OfLink(string path)
    {
        byte[] status = new byte[BufferSize];
        return LStat(path, status) == 0 ? Decode(status) : (FileKind.Other, 0, Marshal.GetLastPInvokeError());
    }

    public static (FileKind Kind, long Size, int Errno) OfHandle(SafeFileHandle handle)
    {
        byte[] status = new byte[BufferSize];
        return FStat(handle, status) == 0 ? Decode(status) : (FileKind.Other, 0, Marshal.GetLastPInvokeError());
    }

    /// <summary>access(2) with W_OK: the calling user may create and delete entries there (read-only mounts and procfs say no even to root).</summary>
    public static bool IsWritable(string path) => Access(path, 2) == 0;

    private static (FileKind, long, int) Decode(byte[] status)
    {
        int mode = BitConverter.ToInt32(status, ModeOffset);
        var kind = (mode & TypeMask) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            0xA000 => FileKind.SymbolicLink,
            _ => FileKind.Other,
        };
        return (kind, BitConverter.ToInt64(status, SizeOffset), 0);
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, [Out] byte[] status);

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_LStat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LStat(string path, [Out] byte[] status);

    [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_FStat", SetLastError = true)]
    private static partial int FStat(SafeFileHandle fd, [Out] byte[] status);
}
