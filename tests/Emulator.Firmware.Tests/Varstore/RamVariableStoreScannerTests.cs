using System.Buffers.Binary;
using Emulator.Firmware.Varstore;

namespace Emulator.Firmware.Tests.Varstore;

/// <summary>The RAM scan on synthetic RAM images: stores built as VariableCommonInitialize and the NV cache lay them out.</summary>
[Trait("Category", "Unit")]
public class RamVariableStoreScannerTests
{
    private const VariableAttributes Volatile = VariableAttributes.BootServiceAccess | VariableAttributes.RuntimeAccess;
    private const VariableAttributes NonVolatile = Volatile | VariableAttributes.NonVolatile;

    [Fact]
    public void FindsTheVolatileStoreAndItsSecureBootBytesBesideAnNvCopy()
    {
        var ram = Ram(0x100000);
        WriteStore(ram, 0x20008, 0x4000, true, [("PK", VariableGuids.EfiGlobalVariable, NonVolatile, [1, 2, 3])]);
        WriteStore(ram, 0x60010, 0x4000, true,
        [
            ("SetupMode", VariableGuids.EfiGlobalVariable, Volatile, [0]),
            ("SecureBoot", VariableGuids.EfiGlobalVariable, Volatile, [1]),
            ("VendorKeys", VariableGuids.EfiGlobalVariable, Volatile, [0]),
        ]);

        var stores = RamVariableStoreScanner.Scan(ram, 0x1000_0000);

        Assert.Equal([0x1002_0008UL, 0x1006_0010UL], stores.Select(s => s.Address));
        Assert.Equal([RamVariableStoreKind.NonVolatile, RamVariableStoreKind.Volatile], stores.Select(s => s.Kind));
        var chosen = Assert.IsType<RamVariableStore>(RamVariableStoreScanner.SelectVolatile(stores, _ => false));
        Assert.Equal(0x1006_0010UL, chosen.Address);
        Assert.Equal(1, chosen.GlobalByte("SecureBoot"));
        Assert.Equal(0, chosen.GlobalByte("SetupMode"));
        Assert.Null(chosen.GlobalByte("AuditMode"));
    }

    [Fact]
    public void AStoreInSmramWinsOverTheRuntimeCacheAndAPlainStoreIsFound()
    {
        var ram = Ram(0x100000);
        WriteStore(ram, 0x10000, 0x2000, false, [("SecureBoot", VariableGuids.EfiGlobalVariable, Volatile, [0]), ("SetupMode", VariableGuids.EfiGlobalVariable, Volatile, [1]), ("X", VariableGuids.EfiGlobalVariable, Volatile, [9])]);
        WriteStore(ram, 0xF0000, 0x2000, true, [("SecureBoot", VariableGuids.EfiGlobalVariable, Volatile, [1])]);

        var stores = RamVariableStoreScanner.Scan(ram, 0);

        Assert.False(stores[0].Image.IsAuthenticated);
        Assert.Equal(0, RamVariableStoreScanner.SelectVolatile(stores, _ => false)!.GlobalByte("SecureBoot"));
        Assert.Equal(1, RamVariableStoreScanner.SelectVolatile(stores, a => a >= 0xF0000)!.GlobalByte("SecureBoot"));
    }

    [Theory]
    [InlineData("format")]
    [InlineData("state")]
    [InlineData("size-past-ram")]
    [InlineData("size-huge")]
    [InlineData("cut")]
    public void HeadersThatAreNotAHealthyStoreAreSkipped(string damage)
    {
        var ram = Ram(0x40000);
        int at = damage == "cut" ? 0x40000 - 20 : 0x1000;
        if (damage == "cut")
        {
            VariableGuids.AuthenticatedVariableStore.TryWriteBytes(ram.AsSpan(at));
        }
        else
        {
            WriteStore(ram, at, 0x1000, true, [("SecureBoot", VariableGuids.EfiGlobalVariable, Volatile, [1])]);
        }

        switch (damage)
        {
            case "format": ram[at + 20] = 0x5B; break;
            case "state": ram[at + 21] = 0xFF; break;
            case "size-past-ram": BinaryPrimitives.WriteUInt32LittleEndian(ram.AsSpan(at + 16), 0x40000); break;
            case "size-huge": BinaryPrimitives.WriteUInt32LittleEndian(ram.AsSpan(at + 16), uint.MaxValue); break;
        }

        Assert.Empty(RamVariableStoreScanner.Scan(ram, 0));
    }

    [Fact]
    public void RecordsRunningPastTheStoreEndTheWalkWithoutThrowing()
    {
        var ram = Ram(0x10000);
        WriteStore(ram, 0x100, 0x200, true, [("SecureBoot", VariableGuids.EfiGlobalVariable, Volatile, [1])]);
        BinaryPrimitives.WriteUInt32LittleEndian(ram.AsSpan(0x100 + 28 + 40), 0x10000);

        var store = Assert.Single(RamVariableStoreScanner.Scan(ram, 0));

        Assert.Equal(RamVariableStoreKind.Empty, store.Kind);
        Assert.Null(RamVariableStoreScanner.SelectVolatile([store], _ => false));
    }

    /// <summary>RAM of zeros with some code-like noise holding the GUID bytes (as a driver's .data does) but no store header after them.</summary>
    private static byte[] Ram(int size)
    {
        var ram = new byte[size];
        VariableGuids.AuthenticatedVariableStore.TryWriteBytes(ram.AsSpan(0x80));
        VariableGuids.VariableStore.TryWriteBytes(ram.AsSpan(0x90));
        return ram;
    }

    /// <summary>Variable.c VariableCommonInitialize: the store and what follows filled with 0xFF, the header, then the records in order.</summary>
    private static void WriteStore(byte[] ram, int at, int size, bool authenticated, (string Name, Guid Vendor, VariableAttributes Attributes, byte[] Data)[] records)
    {
        ram.AsSpan(at, size).Fill(0xFF);
        (authenticated ? VariableGuids.AuthenticatedVariableStore : VariableGuids.VariableStore).TryWriteBytes(ram.AsSpan(at));
        BinaryPrimitives.WriteUInt32LittleEndian(ram.AsSpan(at + 16), (uint)size);
        ram[at + 20] = 0x5A;
        ram[at + 21] = 0xFE;
        ram.AsSpan(at + 22, 6).Clear();
        int offset = at + 28;
        foreach (var r in records)
        {
            var (header, body) = VariableRecordWriter.Build(authenticated, VariableState.Added, r.Name, r.Vendor, r.Attributes, r.Data);
            header.CopyTo(ram, offset);
            body.CopyTo(ram, offset + header.Length);
            offset += VariableRecordWriter.AlignedSize(authenticated, r.Name, r.Data.Length);
        }
    }
}
