using Emulator.Core.Storage;
using Emulator.Storage.Host;
using Emulator.Storage.Qcow2;

namespace Emulator.Storage;

/// <summary>The format of a disk image file (QEMU's <c>format=</c>).</summary>
public enum DiskImageFormat
{
    /// <summary>The bytes are the disk.</summary>
    Raw,
    /// <summary>QEMU's copy-on-write format (docs/interop/qcow2.txt).</summary>
    Qcow2,
}

/// <summary>
/// Opens a disk image in its format: given (<c>format=raw</c>, <c>format=qcow2</c>) or probed.
/// QEMU probes a file given without <c>format=</c> (block.c find_image_format: each driver's
/// bdrv_probe scores the first bytes) and warns when it guesses raw; of its formats emu knows
/// qcow2 (qcow2_probe: the magic "QFI\xfb" and a version of at least 2 — emu checks the version
/// when it opens the image) and raw, the fallback.
/// </summary>
public static class DiskImage
{
    /// <summary>The file's format by its first bytes: qcow2 with the magic, raw otherwise (and for a file that cannot be read: opening it says why).</summary>
    public static DiskImageFormat Probe(string path)
    {
        if (FileStatus.OfPath(path) is not { Kind: FileKind.Regular, Errno: 0 })
        {
            return DiskImageFormat.Raw;
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            Span<byte> start = stackalloc byte[4];
            return RandomAccess.Read(file.SafeFileHandle, start, 0) == 4 && Qcow2Header.HasMagic(start) ? DiskImageFormat.Qcow2 : DiskImageFormat.Raw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return DiskImageFormat.Raw;
        }
    }

    /// <summary>Opens <paramref name="path"/> as <paramref name="format"/> (null: probed); a refusal is a one-line <see cref="StorageException"/>.</summary>
    public static IBlockBackend Open(string path, DiskImageFormat? format, RawImageMode mode) =>
        (format ?? Probe(path)) == DiskImageFormat.Qcow2 ? Qcow2Backend.Open(path, mode) : RawImageBackend.Open(path, mode);

    /// <summary>The report's name of a backend's format: "raw", "qcow2", or null for a folder.</summary>
    public static string? FormatName(IBlockBackend backend) => backend switch
    {
        Qcow2Backend => "qcow2",
        RawImageBackend => "raw",
        _ => null,
    };
}
