using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Compare;

/// <summary>
/// What changed between two run reports (issue 6), and which of the changes are regressions.
/// Regressions (exit 1): the baseline ended well (until, powerOff, reset) and the candidate did not;
/// a milestone or module the baseline reached is missing; a milestone reached later by more than
/// the threshold (instruction index, relative); unimplemented instructions or guest exceptions the
/// baseline did not have; the baseline's varstore does not fit the candidate's code. Everything
/// else that differs (console text, variables, flash writes, unassigned accesses, earlier
/// milestones, new modules, modules whose instruction count changed) is reported as a difference and leaves the exit status at 0.
/// </summary>
public sealed record Comparison
{
    /// <summary><c>same</c>, <c>different</c> or <c>regression</c>.</summary>
    public required string Verdict { get; init; }

    /// <summary>The relative change of a milestone's instruction index that counts as a regression, in percent.</summary>
    public required double ThresholdPercent { get; init; }

    /// <summary>Why the verdict is <c>regression</c>: one line each.</summary>
    public required IReadOnlyList<string> Regressions { get; init; }

    /// <summary>The two stop reasons.</summary>
    public required Side<string> Stop { get; init; }

    /// <summary>The two instruction counts.</summary>
    public required Side<long> Instructions { get; init; }

    /// <summary>The two guest exception counts.</summary>
    public required Side<long> Exceptions { get; init; }

    /// <summary>SMM in both runs; null when neither run entered SMM or had a flash write refused (a report without the figures reads as zeros).</summary>
    public SmmChange? Smm { get; init; }

    /// <summary>Every milestone either run reached, with both instruction indices and virtual times.</summary>
    public required IReadOnlyList<MilestoneChange> Milestones { get; init; }

    /// <summary>Modules started by one run only, or at a different index.</summary>
    public required ModuleChanges Modules { get; init; }

    /// <summary>The consoles' first differing lines, with context.</summary>
    public required ConsoleDiff Console { get; init; }

    /// <summary>Each flash unit's bytes programmed and blocks erased in both runs.</summary>
    public required IReadOnlyList<FlashChange> Flash { get; init; }

    /// <summary>Writes to the writable chip(s) per boot phase, named by the milestone that ends it ("end": after the last one); phases with no writes in either run are left out.</summary>
    public required IReadOnlyList<FlashPhase> FlashPhases { get; init; }

    /// <summary>Variables added, removed or changed between the two runs' final varstores.</summary>
    public required VariableChanges Variables { get; init; }

    /// <summary>Unassigned addresses accessed by one run only.</summary>
    public required ListChanges Unassigned { get; init; }

    /// <summary>Unimplemented instructions met by one run only.</summary>
    public required ListChanges Unimplemented { get; init; }

    /// <summary>The baseline's resulting varstore given to the candidate's code (on-the-spot runs only).</summary>
    public CompatChange? Compat { get; init; }

    /// <summary>Whether anything differs at all.</summary>
    public bool HasDifferences =>
        Stop.Baseline != Stop.Candidate || Instructions.Baseline != Instructions.Candidate || Exceptions.Baseline != Exceptions.Candidate || Smm is { Changed: true }
        || Milestones.Any(m => m.Status != "same") || Modules.Any || !Console.Same || Flash.Any(f => f.Changed) || FlashPhases.Any(f => f.Changed)
        || Variables.Any || Unassigned.Any || Unimplemented.Any || Compat is { Compatible: false };
}

/// <summary>A value in the baseline run and in the candidate run.</summary>
public sealed record Side<T>(T Baseline, T Candidate);

/// <summary>A milestone by name and boot: status same, moved (beyond the threshold), later, lost, new; change in instructions (percent of the baseline's index).</summary>
public sealed record MilestoneChange(string Name, int Boot, string Status, long? BaselineInstruction, long? CandidateInstruction, double? BaselineVirtualMs, double? CandidateVirtualMs, double? ChangePercent);

/// <summary>A module by display name (UI name, else GUID) and boot; for a changed one, the instructions that ran inside its image in each run.</summary>
public sealed record ModuleRef(string Name, Guid Guid, int Boot, long? BaselineInstructions = null, long? CandidateInstructions = null, double? ChangePercent = null);

/// <summary>Modules only one run started, and those in both whose instruction count (inside the image) changed by more than the threshold.</summary>
public sealed record ModuleChanges(IReadOnlyList<ModuleRef> Added, IReadOnlyList<ModuleRef> Removed, IReadOnlyList<ModuleRef> Changed, int Common)
{
    /// <summary>Whether any module differs.</summary>
    public bool Any => Added.Count + Removed.Count + Changed.Count > 0;
}

/// <summary>A line diff of the console output: lines prefixed "  " (both), "- " (baseline only), "+ " (candidate only), "@@" (skipped common lines).</summary>
public sealed record ConsoleDiff(bool Same, int BaselineLines, int CandidateLines, IReadOnlyList<string> Lines);

/// <summary>SMM in both runs: SMIs taken, instructions in SMM, flash writes from SMM, refused non-SMM flash writes.</summary>
public sealed record SmmChange(Side<long> Entries, Side<long> Instructions, Side<long> FlashWritesFromSmm, Side<long> RejectedFlashWrites)
{
    /// <summary>Whether any figure differs.</summary>
    public bool Changed =>
        Entries.Baseline != Entries.Candidate || Instructions.Baseline != Instructions.Candidate
        || FlashWritesFromSmm.Baseline != FlashWritesFromSmm.Candidate || RejectedFlashWrites.Baseline != RejectedFlashWrites.Candidate;

    /// <summary>The change of two reports, or null when neither has anything to show.</summary>
    public static SmmChange? Of(SmmInfo? baseline, SmmInfo? candidate)
    {
        var b = baseline ?? new SmmInfo(0, 0, 0, 0);
        var c = candidate ?? new SmmInfo(0, 0, 0, 0);
        if (b == new SmmInfo(0, 0, 0, 0) && c == b)
        {
            return null;
        }

        return new(new(b.Entries, c.Entries), new(b.Instructions, c.Instructions), new(b.FlashWritesFromSmm, c.FlashWritesFromSmm), new(b.RejectedFlashWrites, c.RejectedFlashWrites));
    }
}

/// <summary>One flash unit in both runs: bytes programmed and blocks erased.</summary>
public sealed record FlashChange(int Unit, bool ReadOnly, Side<long> BytesProgrammed, Side<long> BlocksErased)
{
    /// <summary>Whether the counts differ.</summary>
    public bool Changed => BytesProgrammed.Baseline != BytesProgrammed.Candidate || BlocksErased.Baseline != BlocksErased.Candidate;
}

/// <summary>Flash writes in both runs up to a milestone (<paramref name="UpTo"/> in boot <paramref name="Boot"/>).</summary>
public sealed record FlashPhase(string UpTo, int Boot, Side<long> BytesProgrammed, Side<long> BlocksErased)
{
    /// <summary>Whether the counts differ.</summary>
    public bool Changed => BytesProgrammed.Baseline != BytesProgrammed.Candidate || BlocksErased.Baseline != BlocksErased.Candidate;
}

/// <summary>A variable present in either run's final varstore (null on the side that lacks it).</summary>
public sealed record VariableChange(string Name, Guid Guid, VariableInfo? Baseline, VariableInfo? Candidate);

/// <summary>How the final varstores differ: whether each run had one, and the variables added, removed, changed and unchanged.</summary>
public sealed record VariableChanges(bool BaselineHasStore, bool CandidateHasStore, IReadOnlyList<VariableChange> Added, IReadOnlyList<VariableChange> Removed, IReadOnlyList<VariableChange> Changed, int Same)
{
    /// <summary>Whether the varstores differ.</summary>
    public bool Any => BaselineHasStore != CandidateHasStore || Added.Count + Removed.Count + Changed.Count > 0;
}

/// <summary>Entries (one line each) only the baseline or only the candidate has.</summary>
public sealed record ListChanges(IReadOnlyList<string> Added, IReadOnlyList<string> Removed)
{
    /// <summary>Whether the lists differ.</summary>
    public bool Any => Added.Count + Removed.Count > 0;
}

/// <summary>The CODE/VARS verdict for the baseline's varstore on the candidate's code: compatible or not, and the explanation lines.</summary>
public sealed record CompatChange(bool Compatible, IReadOnlyList<string> Lines);

/// <summary>Compares two run reports (<c>emu compare</c>, <c>emu matrix</c>).</summary>
public static class ReportComparer
{
    /// <summary>Stop reasons that mean the run did what it was asked (boot's exit 0).</summary>
    private static readonly HashSet<string> GoodStops = ["until", "powerOff", "reset"];

    /// <summary>The comparison of baseline <paramref name="b"/> and candidate <paramref name="c"/>: a milestone reached later by more than <paramref name="thresholdPercent"/> percent is a regression; <paramref name="compat"/> is carried into the result.</summary>
    public static Comparison Compare(RunReport b, RunReport c, double thresholdPercent, CompatChange? compat = null)
    {
        var regressions = new List<string>();
        if (GoodStops.Contains(b.Stop.Reason) && !GoodStops.Contains(c.Stop.Reason))
        {
            regressions.Add($"the run stopped with '{c.Stop.Reason}' at {c.Stop.Address} (baseline: '{b.Stop.Reason}')");
        }

        var milestones = CompareMilestones(b, c, thresholdPercent, regressions);
        var modules = CompareModules(b, c, thresholdPercent);
        if (modules.Removed.Count > 0)
        {
            regressions.Add($"{modules.Removed.Count} module(s) the baseline started never started: {string.Join(", ", modules.Removed.Take(8).Select(m => m.Name))}{(modules.Removed.Count > 8 ? ", ..." : string.Empty)}");
        }

        var unimplemented = Diff(b.Unimplemented, c.Unimplemented, u => $"{u.Code} ({u.Mnemonic})");
        if (unimplemented.Added.Count > 0)
        {
            regressions.Add($"new unimplemented instruction(s): {string.Join(", ", unimplemented.Added)}");
        }

        if (c.Exceptions > b.Exceptions)
        {
            regressions.Add($"{c.Exceptions} guest exception(s) (baseline: {b.Exceptions})");
        }

        if (compat is { Compatible: false })
        {
            regressions.Add("the baseline's varstore does not fit the candidate's code");
        }

        var comparison = new Comparison
        {
            Verdict = "same",
            ThresholdPercent = thresholdPercent,
            Regressions = regressions,
            Stop = new(b.Stop.Reason, c.Stop.Reason),
            Instructions = new(b.Instructions, c.Instructions),
            Exceptions = new(b.Exceptions, c.Exceptions),
            Smm = SmmChange.Of(b.Smm, c.Smm),
            Milestones = milestones,
            Modules = modules,
            Console = ConsoleLineDiff.Compare(b.Console?.Output ?? string.Empty, c.Console?.Output ?? string.Empty),
            Flash = CompareFlash(b, c),
            FlashPhases = ComparePhases(b, c),
            Variables = CompareVariables(b.Variables, c.Variables),
            Unassigned = Diff(b.Unassigned, c.Unassigned, u => $"{u.Space} {u.Address} size {u.Size} {(u.Write ? "write" : "read")}"),
            Unimplemented = unimplemented,
            Compat = compat,
        };
        return comparison with { Verdict = regressions.Count > 0 ? "regression" : comparison.HasDifferences ? "different" : "same" };
    }

    private static double? Percent(long baseline, long candidate) =>
        baseline == 0 ? (candidate == 0 ? 0 : null) : Math.Round((candidate - baseline) * 100.0 / baseline, 2);

    private static List<MilestoneChange> CompareMilestones(RunReport b, RunReport c, double threshold, List<string> regressions)
    {
        var candidate = FirstOf(c.Milestones, m => (m.Name, m.Boot));
        var baseline = FirstOf(b.Milestones, m => (m.Name, m.Boot));
        var result = new List<MilestoneChange>();
        foreach (var (key, bm) in baseline)
        {
            if (!candidate.TryGetValue(key, out var cm))
            {
                result.Add(new(key.Name, key.Boot, "lost", bm.Instruction, null, bm.VirtualMs, null, null));
                regressions.Add($"milestone '{key.Name}'{BootSuffix(key.Boot)} not reached (baseline: instruction {bm.Instruction:N0}, {bm.VirtualMs:F3} virtual ms)");
                continue;
            }

            double? change = Percent(bm.Instruction, cm.Instruction);
            string status = cm.Instruction == bm.Instruction ? "same" : change is double p && Math.Abs(p) <= threshold ? "within" : cm.Instruction > bm.Instruction ? "later" : "earlier";
            if (status == "later")
            {
                regressions.Add($"milestone '{key.Name}'{BootSuffix(key.Boot)} later by {FormatPercent(change)} (instruction {bm.Instruction:N0} -> {cm.Instruction:N0}; threshold {threshold}%)");
            }

            result.Add(new(key.Name, key.Boot, status, bm.Instruction, cm.Instruction, bm.VirtualMs, cm.VirtualMs, change));
        }

        result.AddRange(candidate.Where(kv => !baseline.ContainsKey(kv.Key))
            .Select(kv => new MilestoneChange(kv.Key.Name, kv.Key.Boot, "new", null, kv.Value.Instruction, null, kv.Value.VirtualMs, null)));
        return result;
    }

    private static ModuleChanges CompareModules(RunReport b, RunReport c, double threshold)
    {
        var baseline = FirstOf(b.Modules, m => (m.Guid, m.Boot));
        var candidate = FirstOf(c.Modules, m => (m.Guid, m.Boot));
        var removed = baseline.Where(kv => !candidate.ContainsKey(kv.Key)).Select(kv => Ref(kv.Value)).ToList();
        var added = candidate.Where(kv => !baseline.ContainsKey(kv.Key)).Select(kv => Ref(kv.Value)).ToList();
        var changed = new List<ModuleRef>();
        int common = 0;
        foreach (var (key, bm) in baseline)
        {
            if (candidate.TryGetValue(key, out var cm))
            {
                common++;
                if (Percent(bm.Instructions, cm.Instructions) is not double p || Math.Abs(p) > threshold)
                {
                    changed.Add(Ref(bm) with { BaselineInstructions = bm.Instructions, CandidateInstructions = cm.Instructions, ChangePercent = Percent(bm.Instructions, cm.Instructions) });
                }
            }
        }

        return new(added, removed, changed, common);
    }

    private static ModuleRef Ref(ModuleInfo m) => new(m.Name ?? m.Guid.ToString(), m.Guid, m.Boot);

    private static List<FlashChange> CompareFlash(RunReport b, RunReport c)
    {
        // The first chip of each unit, as for modules: a hand-edited report may repeat one.
        var candidate = FirstOf(c.Machine.Flash, f => f.Unit);
        return b.Machine.Flash.Select(f => candidate.TryGetValue(f.Unit, out var cf)
                ? new FlashChange(f.Unit, f.ReadOnly, new(f.BytesProgrammed, cf.BytesProgrammed), new(f.BlocksErased, cf.BlocksErased))
                : new FlashChange(f.Unit, f.ReadOnly, new(f.BytesProgrammed, 0), new(f.BlocksErased, 0)))
            .Concat(c.Machine.Flash.Where(f => !b.Machine.Flash.Any(bf => bf.Unit == f.Unit))
                .Select(f => new FlashChange(f.Unit, f.ReadOnly, new(0, f.BytesProgrammed), new(0, f.BlocksErased))))
            .ToList();
    }

    private static List<FlashPhase> ComparePhases(RunReport b, RunReport c)
    {
        var baseline = Phases(b);
        var candidate = Phases(c);
        return baseline.Keys.Concat(candidate.Keys.Where(k => !baseline.ContainsKey(k)))
            .Select(k => (Key: k, B: baseline.GetValueOrDefault(k), C: candidate.GetValueOrDefault(k)))
            .Where(p => p.B != default || p.C != default)
            .Select(p => new FlashPhase(p.Key.Name, p.Key.Boot, new(p.B.Bytes, p.C.Bytes), new(p.B.Blocks, p.C.Blocks)))
            .ToList();
    }

    /// <summary>The writable chips' writes between consecutive milestones (the report carries running totals), and after the last.</summary>
    private static Dictionary<(string Name, int Boot), (long Bytes, long Blocks)> Phases(RunReport r)
    {
        var result = new Dictionary<(string, int), (long, long)>();
        (long bytes, long blocks) previous = (0, 0);
        foreach (var m in r.Milestones)
        {
            result.TryAdd((m.Name, m.Boot), (m.FlashBytesProgrammed - previous.bytes, m.FlashBlocksErased - previous.blocks));
            previous = (m.FlashBytesProgrammed, m.FlashBlocksErased);
        }

        var writable = r.Machine.Flash.Where(f => !f.ReadOnly).ToList();
        result[("end", 0)] = (writable.Sum(f => f.BytesProgrammed) - previous.bytes, writable.Sum(f => f.BlocksErased) - previous.blocks);
        return result;
    }

    private static VariableChanges CompareVariables(IReadOnlyList<VariableInfo>? b, IReadOnlyList<VariableInfo>? c)
    {
        var baseline = FirstOf(b ?? [], v => (v.Guid, v.Name));
        var candidate = FirstOf(c ?? [], v => (v.Guid, v.Name));
        var changed = baseline.Where(kv => candidate.TryGetValue(kv.Key, out var cv) && cv != kv.Value)
            .Select(kv => new VariableChange(kv.Key.Name, kv.Key.Guid, kv.Value, candidate[kv.Key])).ToList();
        return new(
            b != null,
            c != null,
            candidate.Where(kv => !baseline.ContainsKey(kv.Key)).Select(kv => new VariableChange(kv.Key.Name, kv.Key.Guid, null, kv.Value)).ToList(),
            baseline.Where(kv => !candidate.ContainsKey(kv.Key)).Select(kv => new VariableChange(kv.Key.Name, kv.Key.Guid, kv.Value, null)).ToList(),
            changed,
            baseline.Count(kv => candidate.TryGetValue(kv.Key, out var cv) && cv == kv.Value));
    }

    private static ListChanges Diff<T>(IEnumerable<T> b, IEnumerable<T> c, Func<T, string> key)
    {
        var baseline = b.Select(key).Distinct().ToList();
        var candidate = c.Select(key).Distinct().ToList();
        return new(candidate.Except(baseline).ToList(), baseline.Except(candidate).ToList());
    }

    /// <summary>The first entry per key, in the report's order (a milestone or module can recur after a reset: the boot is part of the key).</summary>
    private static Dictionary<TKey, T> FirstOf<T, TKey>(IEnumerable<T> items, Func<T, TKey> key)
        where TKey : notnull
    {
        var result = new Dictionary<TKey, T>();
        foreach (var item in items)
        {
            result.TryAdd(key(item), item);
        }

        return result;
    }

    /// <summary>" (boot N)" for a milestone of a later boot, nothing for boot 0.</summary>
    public static string BootSuffix(int boot) => boot == 0 ? string.Empty : $" (boot {boot})";

    /// <summary>A relative change as "+5.2%" (null: n/a).</summary>
    public static string FormatPercent(double? p) => p is double v ? (v > 0 ? "+" : string.Empty) + v.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) + "%" : "n/a";
}
