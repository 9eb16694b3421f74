namespace Emulator.Firmware;

/// <summary>State shared by one parse: collected diagnostics and limits that keep hostile input bounded.</summary>
internal sealed class ParseContext(IInflatedSectionCache? cache = null)
{
    // Nesting beyond this is not produced by any real build; a deeper tree is a crafted loop.
    private const int MaxDepth = 16;

    // Caps the total inflated size so a crafted LZMA header cannot make us allocate without bound:
    // ten times what an OVMF code image inflates (FVMAIN_COMPACT: 0xCE0090 bytes, ~13 MiB), and
    // decoding this much takes one to two seconds.
    private const long MaxTotalDecompressedBytes = 128L * 1024 * 1024;

    private readonly List<string> _diagnostics = [];
    private long _decompressedBytes;

    public int Depth { get; private set; }

    /// <summary>Where inflated sections of earlier parses are kept, or null.</summary>
    public IInflatedSectionCache? Cache { get; } = cache;

    public IReadOnlyList<string> Diagnostics => _diagnostics;

    public void Report(string message) => _diagnostics.Add(message);

    /// <summary>Enters one level of nesting; returns false (and reports) when the limit is reached.</summary>
    public bool TryEnter(string what)
    {
        if (Depth >= MaxDepth)
        {
            Report($"{what}: nesting deeper than {MaxDepth} levels ignored");
            return false;
        }

        Depth++;
        return true;
    }

    public void Leave() => Depth--;

    /// <summary>Reserves room for a decompressed buffer; returns false when the budget is spent.</summary>
    public bool TryReserveDecompressed(long bytes)
    {
        if (bytes < 0 || bytes > MaxTotalDecompressedBytes - _decompressedBytes)
        {
            return false;
        }

        _decompressedBytes += bytes;
        return true;
    }
}
