namespace Emulator.Core.Storage;

/// <summary>An image held in a byte array: tests, and small synthesized media.</summary>
public sealed class MemoryBlockBackend(byte[] image, bool readOnly = false) : IBlockBackend
{
    private readonly byte[] _image = image;

    public long Length => _image.LongLength;

    public bool ReadOnly { get; } = readOnly;

    /// <summary>The image as the guest left it.</summary>
    public ReadOnlySpan<byte> Contents => _image;

    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        _image.AsSpan((int)offset, destination.Length).CopyTo(destination);
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        if (ReadOnly)
        {
            throw new BlockBackendException("the medium is read-only");
        }

        CheckRange(offset, source.Length);
        source.CopyTo(_image.AsSpan((int)offset));
    }

    public void Flush()
    {
    }

    public void Dispose()
    {
    }

    private void CheckRange(long offset, int length) => BlockRange.Check(Length, offset, length);
}
