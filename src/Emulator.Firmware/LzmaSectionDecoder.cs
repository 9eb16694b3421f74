using System.Buffers.Binary;
using System.Runtime.InteropServices;
using SharpCompress.Compressors.LZMA;

namespace Emulator.Firmware;

/// <summary>
/// Decodes the payload of an EDK II LZMA GUID_DEFINED section: 5 LZMA property bytes, the 8-byte
/// little-endian uncompressed size, then the raw LZMA stream (EDK II BaseTools LzmaCompress, the
/// "LZMA alone" layout).
/// </summary>
internal static class LzmaSectionDecoder
{
    private const int PropertiesSize = 5;
    private const int HeaderSize = PropertiesSize + 8;

    // The output is allocated up front only as far as this ratio of the compressed bytes (OVMF's
    // FVMAIN_COMPACT: 1.45 MiB inflating to 12.9 MiB, about 9); beyond it the output grows as the
    // stream really produces data, so a 256-byte payload claiming 127 MiB no longer allocates 127 MiB.
    private const int TrustedRatio = 16;
    private const int MinimumInitialOutput = 1 << 12;

    public static byte[] Decode(ReadOnlyMemory<byte> payload, ParseContext context)
    {
        ReadOnlySpan<byte> span = payload.Span;
        if (span.Length < HeaderSize)
        {
            throw new FirmwareFormatException($"LZMA header needs {HeaderSize} bytes, have {span.Length}", 0);
        }

        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(span[PropertiesSize..]);
        if (size > int.MaxValue || !context.TryReserveDecompressed((long)size))
        {
            throw new FirmwareFormatException($"LZMA uncompressed size 0x{size:X} exceeds the decompression limit", PropertiesSize);
        }

        if (context.Cache?.Find(span, (long)size) is { } cached && cached.LongLength == (long)size)
        {
            return cached;
        }

        byte[] output = Inflate(payload, (int)size);
        context.Cache?.Store(span, output);
        return output;
    }

    private static byte[] Inflate(ReadOnlyMemory<byte> payload, int size)
    {
        byte[] properties = payload.Span[..PropertiesSize].ToArray();
        int compressedLength = payload.Length - HeaderSize;
        byte[] output = new byte[(int)Math.Min(size, ((long)compressedLength * TrustedRatio) + MinimumInitialOutput)];
        try
        {
            using MemoryStream input = OpenReadOnly(payload[HeaderSize..]);
            using LzmaStream lzma = LzmaStream.Create(properties, input, compressedLength, size, leaveOpen: false);
            int filled = 0;
            while (filled < size)
            {
                if (filled == output.Length)
                {
                    Array.Resize(ref output, (int)Math.Min(size, (long)output.Length * 2));
                }

                int read = lzma.Read(output, filled, output.Length - filled);
                if (read == 0)
                {
                    throw new FirmwareFormatException($"LZMA stream ended after 0x{filled:X} of 0x{size:X} bytes", HeaderSize);
                }

                filled += read;
            }
        }
        catch (Exception ex) when (ex is not FirmwareFormatException and not OutOfMemoryException)
        {
            // The third-party decoder reports corrupt input with assorted exception types
            // (data errors, index and argument exceptions); callers only ever see ours.
            throw new FirmwareFormatException($"corrupt LZMA stream ({ex.GetType().Name}: {ex.Message})", HeaderSize, ex);
        }

        return output;
    }

    private static MemoryStream OpenReadOnly(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out ArraySegment<byte> segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
}
