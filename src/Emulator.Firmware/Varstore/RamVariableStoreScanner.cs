using System.Buffers.Binary;
using static Emulator.Firmware.Varstore.VarstoreLayout;

namespace Emulator.Firmware.Varstore;

/// <summary>
/// Finds the variable driver's stores in a window of guest RAM by their VARIABLE_STORE_HEADER
/// (VariableFormat.h): the signature gEfiAuthenticatedVariableGuid or gEfiVariableGuid, Format
/// VARIABLE_STORE_FORMATTED, State VARIABLE_STORE_HEALTHY, a Size that fits the window. The
/// volatile store is the pool VariableCommonInitialize (MdeModulePkg/Universal/Variable/RuntimeDxe/
/// Variable.c) fills with 0xFF and heads so; the flash store's copies in RAM
/// (VariableNonVolatile.c InitRealNonVolatileVariableStore's cache, VariableSmmRuntimeDxe.c's runtime
/// caches) carry the same header and are told apart by their records (<see cref="RamVariableStoreKind"/>).
/// Records are read with <see cref="VariableRecordWalker"/>, so a store found here reads exactly like
/// a varstore file.
/// </summary>
public static class RamVariableStoreScanner
{
    /// <summary>No OVMF store comes near this (PcdVariableStoreSize is at most 0x80000): a larger Size is not a store header.</summary>
    public const int MaxStoreSize = 16 << 20;

    private static readonly byte[][] Signatures = [VariableGuids.AuthenticatedVariableStore.ToByteArray(), VariableGuids.VariableStore.ToByteArray()];

    /// <summary>
    /// Every store whose header starts in <paramref name="window"/> (guest-physical
    /// <paramref name="windowBase"/>) and whose Size ends inside it, in address order.
    /// </summary>
    public static List<RamVariableStore> Scan(ReadOnlySpan<byte> window, ulong windowBase)
    {
        var found = new List<RamVariableStore>();
        foreach (byte[] signature in Signatures)
        {
            for (int from = 0; from < window.Length;)
            {
                int hit = window[from..].IndexOf(signature);
                if (hit < 0)
                {
                    break;
                }

                int at = from + hit;
                from = at + 1;
                if (Read(window, at) is { } image)
                {
                    found.Add(new RamVariableStore(windowBase + (ulong)at, image));
                    from = at + image.StoreSize;
                }
            }
        }

        found.Sort((a, b) => a.Address.CompareTo(b.Address));
        return found;
    }

    /// <summary>
    /// The live volatile store among <paramref name="stores"/>: in an SMM build the variable
    /// driver's own store lies in SMRAM and the one in normal RAM is VariableSmmRuntimeDxe's
    /// runtime cache of it, so one in SMRAM wins; then the one holding the most live variables
    /// (a stale copy left in freed pool by a reclaim holds fewer), then the lowest address.
    /// Null when no store holds volatile variables (the driver has not started).
    /// </summary>
    public static RamVariableStore? SelectVolatile(IEnumerable<RamVariableStore> stores, Func<ulong, bool> inSmram) =>
        stores.Where(s => s.Kind == RamVariableStoreKind.Volatile)
            .OrderByDescending(s => inSmram(s.Address))
            .ThenByDescending(s => s.Image.LiveVariables.Count())
            .ThenBy(s => s.Address)
            .FirstOrDefault();

    /// <summary>The store whose header is at <paramref name="at"/>, or null when the header is not a healthy store's.</summary>
    private static VarstoreImage? Read(ReadOnlySpan<byte> window, int at)
    {
        if (window.Length - at < StoreHeaderSize)
        {
            return null;
        }

        uint size = BinaryPrimitives.ReadUInt32LittleEndian(window[(at + StoreSize)..]);
        if (size < StoreHeaderSize || size > MaxStoreSize || size > window.Length - at
            || window[at + StoreFormat] != StoreFormatted || window[at + StoreState] != StoreHealthy)
        {
            return null;
        }

        var image = new VarstoreImage(window.Slice(at, (int)size).ToArray())
        {
            StoreOffset = 0,
            StoreGuid = new Guid(window.Slice(at, 16)),
            StoreSize = (int)size,
            StoreFormat = StoreFormatted,
            StoreState = StoreHealthy,
        };
        var findings = new VarstoreFindings();
        VariableRecordWalker.Walk(image, image.Bytes.Span, findings);
        image.Issues = findings.Issues;
        return image;
    }
}
