namespace Emulator.Firmware.Varstore;

/// <summary>What a variable store found in RAM holds, judged by its live records' attributes.</summary>
public enum RamVariableStoreKind
{
    /// <summary>No live record: nothing tells whether it is a volatile store or a copy of the flash store.</summary>
    Empty,

    /// <summary>Live records, none NON_VOLATILE: the variable driver's volatile store (or the SMM build's runtime cache of it).</summary>
    Volatile,

    /// <summary>Some live record is NON_VOLATILE: a copy of the flash store (the driver's cache, or the runtime cache of an SMM build).</summary>
    NonVolatile,
}

/// <summary>
/// A VARIABLE_STORE_HEADER found in guest RAM (<see cref="RamVariableStoreScanner"/>), with the
/// records behind it as the shared walker reads them. <see cref="Image"/> holds a copy of the
/// store's bytes, its header at offset 0.
/// </summary>
public sealed class RamVariableStore
{
    internal RamVariableStore(ulong address, VarstoreImage image)
    {
        Address = address;
        Image = image;
        var live = image.LiveVariables.ToList();
        Kind = live.Count == 0 ? RamVariableStoreKind.Empty
            : live.Exists(r => (r.Attributes & VariableAttributes.NonVolatile) != 0) ? RamVariableStoreKind.NonVolatile
            : RamVariableStoreKind.Volatile;
    }

    /// <summary>Guest-physical address of the store header.</summary>
    public ulong Address { get; }

    public VarstoreImage Image { get; }

    public RamVariableStoreKind Kind { get; }

    /// <summary>
    /// The one-byte value of the live EFI global variable <paramref name="name"/> (SecureBoot,
    /// SetupMode, …: UINT8 each, UEFI spec 3.3), or null when the store has no such variable or
    /// its data is not one byte.
    /// </summary>
    public int? GlobalByte(string name) =>
        Image.LiveVariables.FirstOrDefault(r => r.Name == name && r.VendorGuid == VariableGuids.EfiGlobalVariable) is { DataSize: 1 } r ? r.Data.Span[0] : null;
}
