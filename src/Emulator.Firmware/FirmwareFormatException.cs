namespace Emulator.Firmware;

/// <summary>
/// Raised when bytes that should hold a firmware structure do not. The message names the
/// structure that is wrong and the offset where it was expected, relative to the buffer being
/// parsed (the image for top-level content, a decompressed section payload for nested content).
/// </summary>
public sealed class FirmwareFormatException : Exception
{
    public FirmwareFormatException(string problem, long offset)
        : base($"{problem} at offset 0x{offset:X}")
    {
        Offset = offset;
    }

    public FirmwareFormatException(string problem, long offset, Exception innerException)
        : base($"{problem} at offset 0x{offset:X}", innerException)
    {
        Offset = offset;
    }

    public long Offset { get; }
}
