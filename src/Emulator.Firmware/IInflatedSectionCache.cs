namespace Emulator.Firmware;

/// <summary>
/// Keeps the output of compressed sections between parses, so a build booted again skips the
/// decompression: OVMF's FVMAIN_COMPACT inflates 1.5 MiB of LZMA into 13 MiB, ~0.1 s of the
/// ~0.15 s a parse takes, and the parse sits between process start and the reset vector (the
/// CODE/VARS check needs it). Keyed by the compressed bytes themselves, so any change to the
/// image is a miss. <see cref="FirmwareImage.Parse(byte[], IInflatedSectionCache?)"/> consults it.
/// </summary>
public interface IInflatedSectionCache
{
    /// <summary>The inflated bytes of <paramref name="compressed"/> (the whole section payload), exactly <paramref name="length"/> long, or null on a miss.</summary>
    byte[]? Find(ReadOnlySpan<byte> compressed, long length);

    /// <summary>Remembers that <paramref name="compressed"/> inflates to <paramref name="inflated"/>; failures are the cache's own business.</summary>
    void Store(ReadOnlySpan<byte> compressed, byte[] inflated);
}
