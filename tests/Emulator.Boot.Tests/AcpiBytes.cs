using System.Buffers.Binary;

namespace Emulator.Boot.Tests;

/// <summary>Reading ACPI tables dumped from guest memory: little-endian fields and the 8-bit checksum every table must make 0.</summary>
internal static class AcpiBytes
{
    public static uint U32(byte[] b, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset));

    public static int Sum(ReadOnlySpan<byte> bytes)
    {
        int sum = 0;
        foreach (byte b in bytes)
        {
            sum = (sum + b) & 0xFF;
        }

        return sum;
    }
}
