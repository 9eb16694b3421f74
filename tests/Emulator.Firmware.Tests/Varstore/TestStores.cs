using System.Buffers.Binary;
using Emulator.Firmware.Varstore;

namespace Emulator.Firmware.Tests.Varstore;

/// <summary>Stores and volumes the varstore tests build themselves.</summary>
internal static class TestStores
{
    public static readonly Guid Vendor = new("3F6C1C1A-5E0B-4A57-9D2A-0B1D6E5A7C11");

    /// <summary>The FTW working block header of the 2 MB store (OVMF's layout: the block below the spare half).</summary>
    public const int Ftw2M = 0xF000;

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
        FixFvChecksum(bytes);
        return bytes;
    }

    /// <summary>Recomputes the FV header checksum, so that a test damages only the field it means to.</summary>
    public static void FixFvChecksum(byte[] bytes)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x32), 0);
        ushort sum = 0;
        for (int i = 0; i < 0x48; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i));
        }

        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x32), (ushort)-sum);
    }

    /// <summary>The 2 MB template with EmuBefore (0x64), EmuMiddle (0xB8) and EmuAfter (0x10C) set by <c>vars set</c>'s editor.</summary>
    public static byte[] ThreeRecords()
    {
        byte[] store = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        foreach (string name in new[] { "EmuBefore", "EmuMiddle", "EmuAfter" })
        {
            store = VarstoreEditor.Set(store, name, Vendor, VariableAttributes.NonVolatile | VariableAttributes.BootServiceAccess, [1, 2]).Result;
        }

        return store;
    }

    /// <summary>Recomputes the FTW working block header's CRC as FaultTolerantWriteDxe does (Crc and state byte erased).</summary>
    public static void FixFtwCrc(byte[] store, int at = Ftw2M)
    {
        byte[] header = store.AsSpan(at, 0x20).ToArray();
        header.AsSpan(16, 5).Fill(0xFF);
        BinaryPrimitives.WriteUInt32LittleEndian(store.AsSpan(at + 16), Crc32.Compute(header));
    }
}
