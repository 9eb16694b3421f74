namespace Emulator.Storage.Qcow2;

/// <summary>
/// The L2 tables an image read last, least recently used evicted first, within a byte budget
/// (QEMU keeps a cache of L2 tables too, qcow2-cache.c, 1 MiB by default before 3.1 and up to
/// 32 MiB since; emu's budget is per image of a chain). At least one table is kept whatever its
/// size, so a 2 MiB-cluster image (2 MiB tables) still caches the table it is reading.
/// </summary>
internal sealed class L2TableCache(long budgetBytes)
{
    private readonly Dictionary<long, (ulong[] Table, long LastUse)> _tables = [];
    private long _clock;

    /// <summary>The table at host offset <paramref name="offset"/>, loaded by <paramref name="load"/> when absent.</summary>
    public ulong[] Get(long offset, Func<long, ulong[]> load)
    {
        _clock++;
        if (_tables.TryGetValue(offset, out var hit))
        {
            _tables[offset] = (hit.Table, _clock);
            return hit.Table;
        }

        ulong[] table = load(offset);
        long tableBytes = table.Length * 8L;
        while (_tables.Count > 0 && (_tables.Count + 1) * tableBytes > budgetBytes)
        {
            long oldest = _tables.MinBy(t => t.Value.LastUse).Key;
            _tables.Remove(oldest);
        }

        _tables[offset] = (table, _clock);
        return table;
    }
}
