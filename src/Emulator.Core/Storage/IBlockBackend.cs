namespace Emulator.Core.Storage;

/// <summary>
/// What a drive reads and writes: a byte-addressed image of fixed length, QEMU's BlockBackend as
/// a device model sees it (block/block-backend.c, blk_pread/blk_pwrite/blk_flush). Devices
/// (IDE/ATAPI, AHCI, virtio-blk) transfer whole sectors; a backend checks bounds, not alignment.
/// Backends: a raw image file (read-only, read-write, or with a snapshot overlay), a host folder
/// presented as a FAT disk, an in-memory image for tests.
/// </summary>
public interface IBlockBackend : IDisposable
{
    /// <summary>Size in bytes; a multiple of 512 for every backend this project builds.</summary>
    long Length { get; }

    /// <summary>Writes are refused (QEMU's <c>readonly=on</c>, a CD-ROM, <c>fat:DIR</c> without <c>rw</c>).</summary>
    bool ReadOnly { get; }

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; the range must lie inside <see cref="Length"/>.</summary>
    void Read(long offset, Span<byte> destination);

    /// <summary>
    /// Stores <paramref name="source"/> at <paramref name="offset"/>; the range must lie inside
    /// <see cref="Length"/>. Throws <see cref="BlockBackendException"/> when <see cref="ReadOnly"/>
    /// or when the host refuses (the device turns either into a guest-visible I/O error).
    /// </summary>
    void Write(long offset, ReadOnlySpan<byte> source);

    /// <summary>Makes completed writes durable where the backend has a durable form (ATA FLUSH CACHE, virtio-blk FLUSH).</summary>
    void Flush();
}

/// <summary>A backend cannot do what was asked (read-only, out of range, host I/O error): the device reports an I/O error to the guest.</summary>
public sealed class BlockBackendException(string message, Exception? inner = null) : Exception(message, inner);
