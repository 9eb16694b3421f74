namespace Emulator.Core.Storage;

/// <summary>The bounds rule every <see cref="IBlockBackend"/> applies to a transfer, in one place.</summary>
public static class BlockRange
{
    /// <summary>Throws <see cref="BlockBackendException"/> unless <paramref name="length"/> bytes at <paramref name="offset"/> lie inside a <paramref name="mediumLength"/>-byte medium.</summary>
    public static void Check(long mediumLength, long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > mediumLength - length)
        {
            throw new BlockBackendException($"access of {length} bytes at {offset} is outside the {mediumLength}-byte medium");
        }
    }
}
