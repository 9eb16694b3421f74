namespace Emulator.Core.Cpu;

/// <summary>What a host watchpoint reacts to (gdb's Z2 write, Z3 read, Z4 access).</summary>
public enum WatchKind
{
    Write = 1,
    Read = 2,
    Access = 3,
}

/// <summary>A debugger's data watchpoint on the linear bytes [<see cref="Linear"/>, <see cref="Linear"/> + <see cref="Length"/>).</summary>
public readonly record struct HostWatchpoint(ulong Linear, ulong Length, WatchKind Kind);

/// <summary>The access that hit a <see cref="HostWatchpoint"/>: the first watched byte it touched, and whether it wrote.</summary>
public readonly record struct HostWatchHit(HostWatchpoint Watchpoint, ulong Address, bool Write);

/// <summary>
/// Watchpoints a debugger sets, outside the guest's own DR0–DR7 (which they never change): they
/// ride on the data-breakpoint path of Cpu.Debug.cs — the TLB keeps watched pages off the host
/// pointers, so every access to them reaches the slow path's check — and a hit stops the run after
/// the instruction (<see cref="StopReason.Breakpoint"/>, <see cref="HostWatchHit"/> set), as QEMU's
/// gdbstub reports a watchpoint once the access is done. Blocks stay compiled: only accesses to the
/// watched pages slow down.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>The <see cref="StopDetail"/> of a run stopped by a host watchpoint.</summary>
    public const string HostWatchStopDetail = "host watchpoint";

    private readonly List<HostWatchpoint> _hostWatchpoints = [];

    /// <summary>The first watchpoint hit since the caller last cleared it (the run stopped after that instruction).</summary>
    public HostWatchHit? LastHostWatchHit { get; set; }

    /// <summary>The watchpoints set now.</summary>
    public IReadOnlyList<HostWatchpoint> HostWatchpoints => _hostWatchpoints;

    /// <summary>Watches <paramref name="watchpoint"/>'s bytes from the next access on.</summary>
    public void AddHostWatchpoint(HostWatchpoint watchpoint)
    {
        if (watchpoint.Length == 0)
        {
            throw new ArgumentException("a watchpoint covers at least one byte", nameof(watchpoint));
        }

        _hostWatchpoints.Add(watchpoint);
        DebugRegistersChanged();
    }

    /// <summary>Removes one watchpoint equal to <paramref name="watchpoint"/>; false when none was set.</summary>
    public bool RemoveHostWatchpoint(HostWatchpoint watchpoint)
    {
        if (!_hostWatchpoints.Remove(watchpoint))
        {
            return false;
        }

        DebugRegistersChanged();
        return true;
    }

    private bool HostPageWatched(ulong page, bool reads)
    {
        foreach (var w in _hostWatchpoints)
        {
            bool kind = reads ? (w.Kind & WatchKind.Read) != 0 : (w.Kind & WatchKind.Write) != 0;
            if (kind && w.Linear <= page + 0xFFF && page <= w.Linear + w.Length - 1)
            {
                return true;
            }
        }

        return false;
    }

    private void CheckHostWatchpoints(ulong linear, int size, bool write)
    {
        foreach (var w in _hostWatchpoints)
        {
            bool kind = write ? (w.Kind & WatchKind.Write) != 0 : (w.Kind & WatchKind.Read) != 0;
            if (kind && linear <= w.Linear + w.Length - 1 && w.Linear <= linear + (ulong)size - 1)
            {
                LastHostWatchHit ??= new HostWatchHit(w, Math.Max(linear, w.Linear), write);
                RequestStop(StopReason.Breakpoint, HostWatchStopDetail);
                return;
            }
        }
    }
}
