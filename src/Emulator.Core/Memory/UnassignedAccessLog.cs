namespace Emulator.Core.Memory;

/// <summary>
/// Counts accesses that hit nothing (unassigned memory or ports), once per address, so a missing
/// device shows up in the run report instead of failing silently.
/// </summary>
public sealed class UnassignedAccessLog
{
    /// <summary>At most this many distinct addresses are kept; later ones only bump <see cref="Dropped"/>.</summary>
    public const int MaxEntries = 4096;

    private readonly Dictionary<(UnassignedSpace Space, ulong Address, bool Write), UnassignedAccess> _entries = new();

    public long Dropped { get; private set; }

    public IReadOnlyCollection<UnassignedAccess> Entries => _entries.Values;

    public void Record(UnassignedSpace space, ulong address, int size, bool write, long instruction)
    {
        var key = (space, address, write);
        if (_entries.TryGetValue(key, out var entry))
        {
            entry.Count++;
            return;
        }

        if (_entries.Count >= MaxEntries)
        {
            Dropped++;
            return;
        }

        _entries[key] = new UnassignedAccess(space, address, size, write, instruction);
    }

    /// <summary>The log as plain records, for a machine snapshot (it is part of what the run reports).</summary>
    public UnassignedLogState SaveState() =>
        new([.. _entries.Values.Select(e => new UnassignedAccessRecord(e.Space, e.Address, e.Size, e.Write, e.FirstInstruction, e.Count))], Dropped);

    public void RestoreState(UnassignedLogState state)
    {
        _entries.Clear();
        foreach (var e in state.Entries)
        {
            _entries[(e.Space, e.Address, e.Write)] = new UnassignedAccess(e.Space, e.Address, e.Size, e.Write, e.FirstInstruction) { Count = e.Count };
        }

        Dropped = state.Dropped;
    }
}

/// <summary>One saved entry of the unassigned-access log.</summary>
public sealed record UnassignedAccessRecord(UnassignedSpace Space, ulong Address, int Size, bool Write, long FirstInstruction, long Count);

/// <summary>The saved unassigned-access log: its entries in insertion order and the count of those dropped.</summary>
public sealed record UnassignedLogState(IReadOnlyList<UnassignedAccessRecord> Entries, long Dropped);

public enum UnassignedSpace
{
    Memory,
    Port,
}

/// <summary>One address that was accessed while nothing was mapped there.</summary>
public sealed class UnassignedAccess(UnassignedSpace space, ulong address, int size, bool write, long firstInstruction)
{
    public UnassignedSpace Space { get; } = space;

    public ulong Address { get; } = address;

    public int Size { get; } = size;

    public bool Write { get; } = write;

    /// <summary>The instruction index of the first access.</summary>
    public long FirstInstruction { get; } = firstInstruction;

    public long Count { get; internal set; } = 1;
}
