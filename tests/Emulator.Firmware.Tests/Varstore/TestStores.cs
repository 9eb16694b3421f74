using System.Buffers.Binary;

namespace Emulator.Firmware.Tests.Varstore;

/// <summary>Stores and volumes the varstore tests build themselves.</summary>
internal static class TestStores
{
    public static readonly Guid Vendor = new("3F6C1C1A-5E0B-4A57-9D2A-0B1D6E5A7C11");

    /// <summary>A well-formed firmware volume of another kind (FFS2 file system, random content): not a varstore.</summary>
    public static byte[] ForeignVolume(int length)
    {
        var bytes = new byte[length];
        new Random(1234).NextBytes(bytes);
        bytes.AsSpan(0, 0x48).Clear();
        FirmwareGuids.FirmwareFileSystem2.TryWriteBytes(bytes.AsSpan(0x10));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(0x20), (ulong)length);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0x28), 0x4856465F);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0x2C), 0x0004FEFF);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x30), 0x48);
        bytes[0x37] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0x38), (uint)(length / 0x1000));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0x3C), 0x1000);
        ushort sum = 0;
        for (int i = 0; i < 0x48; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i));
        }

        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x32), (ushort)-sum);
        return bytes;
    }
}
