using Emulator.Core.Cpu;
using Emulator.Core.Machine;
using Emulator.Hosting.Serial;
using Microsoft.Extensions.Logging;

namespace Emulator.Hosting.Gdb;

/// <summary>
/// The run's history under gdb, for reverse execution (<c>reverse-stepi</c>, <c>reverse-continue</c>,
/// and gdb's <c>reverse-step</c>/<c>-next</c>/<c>-finish</c> built on them). emu is deterministic,
/// so history is not recorded instruction by instruction: it is a few whole-machine snapshots
/// (checkpoints) and the list of the run's segments — each stretch the guest ran between two
/// stops, with what shaped it. Going to an earlier point restores the nearest checkpoint before
/// it and runs forward again, segment by segment, exactly as the run went.
///
/// Exactly means the same blocks: the run loop takes timer events between blocks, and blocks end
/// before breakpoints and where a run stopped, so a segment is replayed with the breakpoints gdb
/// had set during it, the code cache dropped where the run dropped it (gdb's breakpoint changes
/// do), interrupts held as gdb's steps held them, and stopped where the run stopped (at the
/// instruction count, or after an interrupt's delivery: <see cref="Cpu.RunToBlockStart"/>). Each
/// segment's end state is fingerprinted and checked on replay: a replay that differs is reported,
/// never passed off as history. Breakpoints set later are found in replayed code with an
/// instruction observer (<see cref="Cpu.InstructionObserver"/>), which keeps the blocks.
///
/// While history is replayed the host hears nothing new (<see cref="ReplayGate"/>: console, serial
/// and debug-console output go nowhere, input comes from the log; the flash chips' listeners —
/// the varstore file, the write log — are not told): the files hold the furthest point the run
/// reached, the frontier, and the run goes on from there once replay gets back to it.
/// </summary>
internal sealed class GdbHistory : IDisposable
{
    /// <summary>Instructions run forward between periodic checkpoints (a reverse step replays at most this many).</summary>
    public const long CheckpointInterval = 100_000_000;

    /// <summary>A stop gets a checkpoint when the last one is at least this many instructions back.</summary>
    public const long StopCheckpointSpacing = 5_000_000;

    /// <summary>Checkpoints kept; beyond, the one whose removal leaves the smallest gap goes.</summary>
    public const int MaxCheckpoints = 16;

    /// <summary>The checkpoints' RAM images together stay below this (a guest with gigabytes in use keeps fewer).</summary>
    public const ulong MaxCheckpointBytes = 2UL << 30;

    private readonly PcMachine _machine;
    private readonly ReplayGate _gate;
    private readonly Func<IReadOnlyCollection<ulong>> _breakpoints;
    private readonly Action<bool> _suspendWatchpoints;
    private readonly ILogger _log;
    private readonly List<Checkpoint> _checkpoints = [];
    private readonly List<Segment> _segments = [];
    private long _flushesSeen;
    private long _segmentsRecorded;

    /// <param name="machine">The machine whose run this is.</param>
    /// <param name="gate">The host's serial input and output.</param>
    /// <param name="breakpoints">gdb's breakpoints now (the CPU holds them while not replaying).</param>
    /// <param name="suspendWatchpoints">Takes gdb's watchpoints off the CPU (true) and puts them back (false) around a replay.</param>
    /// <param name="log">Checkpoints and replays, at debug level.</param>
    public GdbHistory(PcMachine machine, ReplayGate gate, Func<IReadOnlyCollection<ulong>> breakpoints, Action<bool> suspendWatchpoints, ILogger log)
    {
        _log = log;
        _machine = machine;
        _gate = gate;
        _breakpoints = breakpoints;
        _suspendWatchpoints = suspendWatchpoints;
    }

    private Cpu Cpu => _machine.Cpu;

    /// <summary>Where the guest is in its history: instructions retired.</summary>
    public long Position => Cpu.InstructionCount;

    /// <summary>The furthest point the run reached; the host's files hold it.</summary>
    public long Frontier { get; private set; }

    /// <summary>The earliest point reverse execution reaches (the first checkpoint), or -1 with no history.</summary>
    public long Start => _checkpoints.Count > 0 ? _checkpoints[0].Instruction : -1;

    /// <summary>True when the guest stands before the frontier (what follows is replay, not a new run).</summary>
    public bool InPast => _checkpoints.Count > 0 && Position < Frontier;

    /// <summary>True while a replay runs (breakpoint hits then belong to the replay, not to gdb).</summary>
    public bool Replaying { get; private set; }

    /// <summary>Checkpoints held, and their RAM images' bytes (for <c>monitor history</c>).</summary>
    public (int Count, ulong Bytes, int Segments) Size =>
        (_checkpoints.Count, (ulong)_checkpoints.Sum(c => (long)c.Snapshot.Ram.StoredBytes), _segments.Count);

    /// <summary>
    /// Runs the guest forward from the frontier up to <paramref name="limit"/>, recording what it
    /// does; <paramref name="holdInterrupts"/> for gdb's steps. A checkpoint is taken first when
    /// history is empty or the last one is far enough back, and every
    /// <see cref="CheckpointInterval"/> instructions on the way.
    /// </summary>
    public StopReason RunLive(long limit, bool holdInterrupts)
    {
        if (_checkpoints.Count == 0 || Position - _checkpoints[^1].Instruction >= StopCheckpointSpacing)
        {
            TakeCheckpoint();
        }

        while (true)
        {
            long start = Position;
            long stopAt = Math.Min(limit, _checkpoints[^1].Instruction + CheckpointInterval);
            bool flushed = Cpu.CodeCacheFlushes != _flushesSeen;
            var breakpoints = _breakpoints().Order().ToArray();
            Cpu.HoldInterrupts = holdInterrupts;
            StopReason reason;
            try
            {
                reason = _machine.Run(stopAt);
            }
            finally
            {
                Cpu.HoldInterrupts = false;
            }

            _segments.Add(new Segment(_segmentsRecorded++, start, Position, breakpoints, holdInterrupts, flushed, Fingerprint()));
            _flushesSeen = Cpu.CodeCacheFlushes;
            Frontier = Position;
            if (reason != StopReason.InstructionLimit || Position != stopAt || stopAt >= limit)
            {
                return reason;
            }

            TakeCheckpoint();
        }
    }

    /// <summary>
    /// Goes to the point <paramref name="target"/> instructions into the run (clamped to history);
    /// false when it is before the start. With <paramref name="landAt"/>, the point where the
    /// next instruction is there: a breakpoint on an interrupt handler's first instruction is hit
    /// after the delivery, at the same instruction count as the instruction before it.
    /// </summary>
    public bool GoTo(long target, ulong? landAt = null)
    {
        bool inHistory = target >= Start;
        target = Math.Clamp(target, Start, Frontier);
        Replay(CheckpointBefore(target), target, null, null, landAt);
        return inHistory;
    }

    /// <summary>
    /// The last point before <paramref name="before"/> where the instruction about to run is at
    /// one of <paramref name="addresses"/> (linear), searching back one checkpoint interval at a
    /// time; the guest is left there, or at the start of history when there is none (null).
    /// </summary>
    public long? FindBackward(long before, IReadOnlyCollection<ulong> addresses)
    {
        var wanted = addresses.ToHashSet();
        for (int k = CheckpointBefore(before - 1); k >= 0 && addresses.Count > 0; k--)
        {
            long end = Math.Min(before, k + 1 < _checkpoints.Count ? _checkpoints[k + 1].Instruction : Frontier);
            (long At, ulong Rip)? last = null;
            long limit = before;
            Replay(k, end, wanted, (at, rip) =>
            {
                if (at < limit)
                {
                    last = (at, rip);
                }
            });
            if (last is { } hit)
            {
                GoTo(hit.At, hit.Rip);
                return hit.At;
            }

            before = _checkpoints[k].Instruction;
        }

        GoTo(Start);
        return null;
    }

    /// <summary>
    /// The first point after <paramref name="after"/> and before the frontier where the
    /// instruction about to run is at one of <paramref name="addresses"/>; the guest is left
    /// there, or at the frontier when there is none (null), from where the run goes on live.
    /// </summary>
    public long? FindForward(long after, IReadOnlyCollection<ulong> addresses)
    {
        var wanted = addresses.ToHashSet();
        for (int k = CheckpointBefore(after); k < _checkpoints.Count; k++)
        {
            long end = k + 1 < _checkpoints.Count ? _checkpoints[k + 1].Instruction : Frontier;
            (long At, ulong Rip)? first = null;
            if (addresses.Count > 0)
            {
                Replay(k, end, wanted, (at, rip) =>
                {
                    if (first == null && at > after)
                    {
                        first = (at, rip);
                    }
                });
            }

            if (first is { } hit)
            {
                GoTo(hit.At, hit.Rip);
                return hit.At;
            }
        }

        GoTo(Frontier);
        return null;
    }

    /// <summary>
    /// Before the first step back from the frontier: a checkpoint there, so going back to the
    /// frontier is one restore, and a replay that went wrong can always be undone (<see cref="Recover"/>).
    /// </summary>
    public void KeepFrontier()
    {
        if (!InPast && _checkpoints.Count > 0 && _checkpoints[^1].Instruction != Position)
        {
            TakeCheckpoint();
        }
    }

    /// <summary>After a replay that diverged: back to the frontier's checkpoint, and history forgotten.</summary>
    public void Recover()
    {
        if (_checkpoints.Count > 0 && _checkpoints[^1].Instruction == Frontier)
        {
            var last = _checkpoints[^1];
            _machine.Restore(last.Snapshot);
            _gate.Reads = last.InputReads;
            _flushesSeen = Cpu.CodeCacheFlushes;
        }

        Clear();
    }

    /// <summary>Forgets all history (gdb changed the machine, or left): the next run forward starts it again.</summary>
    public void Clear()
    {
        foreach (var c in _checkpoints)
        {
            c.Snapshot.Dispose();
        }

        _checkpoints.Clear();
        _segments.Clear();
        Frontier = 0;
    }

    public void Dispose() => Clear();

    private int CheckpointBefore(long target)
    {
        int k = _checkpoints.FindLastIndex(c => c.Instruction <= target);
        return Math.Max(k, 0);
    }

    /// <summary>
    /// Restores checkpoint <paramref name="k"/> and replays the recorded segments from it up to
    /// <paramref name="target"/>, host muted, gdb's breakpoints and watchpoints off. With
    /// <paramref name="wanted"/>, <paramref name="hit"/> is told each point (instructions retired)
    /// where the instruction about to run is at one of those addresses. A segment run with all of
    /// them set could only stop at them, so its hits are its ends and it replays at full speed;
    /// the others run under an instruction observer.
    /// </summary>
    private void Replay(int k, long target, HashSet<ulong>? wanted, Action<long, ulong>? hit, ulong? landAt = null)
    {
        var checkpoint = _checkpoints[k];
        var cpu = Cpu;
        var started = System.Diagnostics.Stopwatch.StartNew();
        int observedSegments = 0;
        var installed = _breakpoints().ToHashSet();
        Replaying = true;
        _gate.Replaying = true;
        MuteFlash(true);
        _suspendWatchpoints(true);
        var pacers = (cpu.Pacer, _machine.WaitSkipper.Pacer);
        (cpu.Pacer, _machine.WaitSkipper.Pacer) = (null, null);
        try
        {
            int first = _segments.FindIndex(s => s.Number >= checkpoint.FirstSegment);
            // The checkpoint's code-cache shape comes back with it, after the breakpoints are set
            // (setting them drops the code cache). A checkpoint at the frontier has no segment after it.
            Install(installed, first >= 0 ? _segments[first].Breakpoints : installed.ToArray());
            _machine.Restore(checkpoint.Snapshot);
            _gate.Reads = checkpoint.InputReads;
            for (int i = Math.Max(first, 0); first >= 0 && i < _segments.Count && Position < target; i++)
            {
                var s = _segments[i];
                if (i > first)
                {
                    Install(installed, s.Breakpoints);
                    if (s.FlushedBefore)
                    {
                        cpu.FlushCodeCache();
                    }
                }

                bool observed = wanted != null && !wanted.IsSubsetOf(s.Breakpoints);
                observedSegments += observed ? 1 : 0;
                cpu.InstructionObserver = observed ? c => Observe(c, wanted!, hit!) : null;
                ReportHitHere(wanted, hit, observed);
                ReplaySegment(s, Math.Min(target, s.End));
                ReportHitHere(wanted, hit, observed);
            }

            if (landAt is { } rip && Position == target && cpu.LinearRip != rip)
            {
                cpu.RunToBlockStart();
            }
        }
        finally
        {
            cpu.InstructionObserver = null;
            cpu.HoldInterrupts = false;
            Install(installed, _breakpoints().ToArray());
            (cpu.Pacer, _machine.WaitSkipper.Pacer) = pacers;
            _suspendWatchpoints(false);
            MuteFlash(false);
            _gate.Replaying = false;
            Replaying = false;
            _flushesSeen = cpu.CodeCacheFlushes;
            _log.LogDebug(
                "replayed from the checkpoint at instruction {From:N0} to {To:N0} in {Ms} ms ({Observed} segments observed)",
                checkpoint.Instruction, Position, started.ElapsedMilliseconds, observedSegments);
        }
    }

    private static void Observe(Cpu cpu, HashSet<ulong> wanted, Action<long, ulong> hit)
    {
        if (wanted.Contains(cpu.LinearRip))
        {
            hit(cpu.InstructionCount, cpu.LinearRip);
        }
    }

    /// <summary>At a segment's ends (where an unobserved segment can hit): tells <paramref name="hit"/> when the next instruction is wanted.</summary>
    private void ReportHitHere(HashSet<ulong>? wanted, Action<long, ulong>? hit, bool observed)
    {
        if (!observed && wanted != null && wanted.Contains(Cpu.LinearRip))
        {
            hit!(Position, Cpu.LinearRip);
        }
    }

    private void ReplaySegment(Segment s, long until)
    {
        var cpu = Cpu;
        cpu.HoldInterrupts = s.HoldInterrupts;
        _machine.Run(until);
        if (until == s.End && Fingerprint() != s.EndState)
        {
            // The run stopped after delivering an interrupt (a breakpoint at its handler, a
            // module starting there): no instruction count names that point.
            cpu.RunToBlockStart();
        }

        if (Position != until || (until == s.End && Fingerprint() != s.EndState))
        {
            throw new GdbReplayException(
                $"replaying history diverged at instruction {Position:N0} (expected {until:N0}{(until == s.End ? " and the state the run had there" : string.Empty)})");
        }
    }

    private void TakeCheckpoint()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        _checkpoints.Add(new Checkpoint(Position, _machine.SaveSnapshot(), _gate.Reads, _segmentsRecorded));
        _log.LogDebug(
            "checkpoint at instruction {At:N0}: {Bytes:N0} bytes of RAM in {Ms} ms",
            Position, _checkpoints[^1].Snapshot.Ram.StoredBytes, started.ElapsedMilliseconds);
        while (_checkpoints.Count > MaxCheckpoints || (_checkpoints.Count > 2 && Size.Bytes > MaxCheckpointBytes))
        {
            // Keep the first (the start of history) and the last; drop the one whose neighbours are closest.
            int drop = Enumerable.Range(1, _checkpoints.Count - 2)
                .MinBy(i => _checkpoints[i + 1].Instruction - _checkpoints[i - 1].Instruction);
            _checkpoints[drop].Snapshot.Dispose();
            _checkpoints.RemoveAt(drop);
        }

        // Segments before the first checkpoint can never be replayed.
        _segments.RemoveAll(s => s.Number < _checkpoints[0].FirstSegment);
    }

    /// <summary>Sets the CPU's share of gdb's breakpoints to <paramref name="wanted"/> (<paramref name="installed"/> is what it holds).</summary>
    private void Install(HashSet<ulong> installed, IReadOnlyCollection<ulong> wanted)
    {
        foreach (ulong at in installed.Except(wanted).ToList())
        {
            Cpu.RemoveBreakpoint(at);
            installed.Remove(at);
        }

        foreach (ulong at in wanted.Where(installed.Add))
        {
            Cpu.AddBreakpoint(at);
        }
    }

    private void MuteFlash(bool muted)
    {
        foreach (var chip in _machine.FlashChips)
        {
            chip.ListenersMuted = muted;
        }
    }

    /// <summary>The state a segment ended in, as one number: instruction count, RIP, RFLAGS and the general registers.</summary>
    private ulong Fingerprint()
    {
        var cpu = Cpu;
        var hash = new HashCode();
        hash.Add(cpu.InstructionCount);
        hash.Add(cpu.LinearRip);
        hash.Add(cpu.RFlagsValue);
        for (int i = 0; i < 16; i++)
        {
            hash.Add(cpu.GetGpr(i));
        }

        return ((ulong)cpu.LinearRip << 32) ^ (uint)hash.ToHashCode();
    }

    /// <summary>A snapshot of the machine, the input reads made by then, and the number of the first segment run after it.</summary>
    private sealed record Checkpoint(long Instruction, MachineSnapshot Snapshot, long InputReads, long FirstSegment);

    /// <summary>A stretch the run went between two stops (numbered in order), and what shaped its blocks.</summary>
    private sealed record Segment(long Number, long Start, long End, ulong[] Breakpoints, bool HoldInterrupts, bool FlushedBefore, ulong EndState);
}

/// <summary>A replay that did not retrace the run (an emulator fault: the run is deterministic); gdb is told, history is dropped.</summary>
internal sealed class GdbReplayException(string message) : Exception(message);
