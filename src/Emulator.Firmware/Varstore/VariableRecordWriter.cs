using System.Buffers.Binary;
using System.Text;
using static Emulator.Firmware.Varstore.VarstoreLayout;

namespace Emulator.Firmware.Varstore;

/// <summary>Builds the bytes of one variable record in a store's format (VariableFormat.h).</summary>
internal static class VariableRecordWriter
{
    /// <summary>The aligned size the record will take in the store.</summary>
    public static int AlignedSize(bool authenticated, string name, int dataSize)
    {
        int nameSize = (name.Length + 1) * 2;
        return Align4((authenticated ? AuthHeaderSize : PlainHeaderSize) + nameSize + dataSize);
    }

    /// <summary>
    /// Header (State as given) and body (name, NUL, data). The authentication fields
    /// (monotonic count, time stamp, public key index) are copied from <paramref name="source"/>
    /// when converting, and zero for a new variable without time-based authentication.
    /// </summary>
    public static (byte[] Header, byte[] Body) Build(bool authenticated, byte state, string name, Guid vendor, VariableAttributes attributes, ReadOnlySpan<byte> data, VariableRecord? source = null)
    {
        int headerSize = authenticated ? AuthHeaderSize : PlainHeaderSize;
        int nameSize = (name.Length + 1) * 2;
        var header = new byte[headerSize];
        BinaryPrimitives.WriteUInt16LittleEndian(header, StartId);
        header[RecordState] = state;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(RecordAttributes), (uint)attributes);
        if (authenticated)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(AuthMonotonicCount), source?.MonotonicCount ?? 0);
            source?.TimeStamp.Span.CopyTo(header.AsSpan(AuthTimeStamp));
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(AuthPubKeyIndex), source?.PubKeyIndex ?? 0);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(AuthNameSize), (uint)nameSize);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(AuthDataSize), (uint)data.Length);
            vendor.TryWriteBytes(header.AsSpan(AuthVendorGuid));
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(PlainNameSize), (uint)nameSize);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(PlainDataSize), (uint)data.Length);
            vendor.TryWriteBytes(header.AsSpan(PlainVendorGuid));
        }

        // The data follows the name directly (ALIGNMENT is 1 on x86, VariableFormat.h); the bytes
        // up to the next 4-byte boundary stay erased flash, as the firmware leaves them.
        var body = new byte[nameSize + data.Length];
        Encoding.Unicode.GetBytes(name, body);
        data.CopyTo(body.AsSpan(nameSize));
        return (header, body);
    }
}
