using System.Globalization;

namespace Emulator.Hosting.Compare;

/// <summary>
/// The comparison for people: side-by-side columns on stdout, and a Markdown summary for a pull
/// request. Neither carries wall times, so the same two runs always print the same text.
/// </summary>
public static class ComparisonText
{
    /// <summary>Console diff lines shown in the Markdown summary before it is cut (the JSON has all).</summary>
    public const int MarkdownDiffLines = 200;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Writes <paramref name="c"/> as the side-by-side text <c>emu compare</c> prints, headed by the two runs' names.</summary>
    public static void WriteSideBySide(TextWriter o, Comparison c, string baseline, string candidate)
    {
        o.WriteLine($"baseline:  {baseline}");
        o.WriteLine($"candidate: {candidate}");
        o.WriteLine($"verdict:   {Verdict(c)} (threshold {Num(c.ThresholdPercent)}%)");
        foreach (string r in c.Regressions)
        {
            o.WriteLine($"  ! {r}");
        }

        o.WriteLine();
        o.WriteLine($"{"",-34} {"baseline",24} | {"candidate",-24}".TrimEnd());
        Row(o, "stop", c.Stop.Baseline, c.Stop.Candidate, string.Empty);
        Row(o, "instructions", N(c.Instructions.Baseline), N(c.Instructions.Candidate), Change(c.Instructions.Baseline, c.Instructions.Candidate));
        Row(o, "guest exceptions", N(c.Exceptions.Baseline), N(c.Exceptions.Candidate), string.Empty);
        if (c.Smm is { } smm)
        {
            Row(o, "SMIs", N(smm.Entries.Baseline), N(smm.Entries.Candidate), string.Empty);
            Row(o, "instructions in SMM", N(smm.Instructions.Baseline), N(smm.Instructions.Candidate), Change(smm.Instructions.Baseline, smm.Instructions.Candidate));
            Row(o, "flash writes from SMM / refused", $"{N(smm.FlashWritesFromSmm.Baseline)} / {N(smm.RejectedFlashWrites.Baseline)}", $"{N(smm.FlashWritesFromSmm.Candidate)} / {N(smm.RejectedFlashWrites.Candidate)}", string.Empty);
        }
        o.WriteLine();
        o.WriteLine("milestones (instruction index, virtual ms)");
        foreach (var m in c.Milestones)
        {
            Row(
                o,
                "  " + m.Name + ReportComparer.BootSuffix(m.Boot),
                m.BaselineInstruction is long bi ? $"{N(bi)} {Ms(m.BaselineVirtualMs)}" : "-",
                m.CandidateInstruction is long ci ? $"{N(ci)} {Ms(m.CandidateVirtualMs)}" : "-",
                m.Status == "same" ? "same" : $"{m.Status} {ReportComparer.FormatPercent(m.ChangePercent)}");
        }

        o.WriteLine();
        var mods = c.Modules;
        o.WriteLine($"modules: {mods.Common} in both, {mods.Removed.Count} removed, {mods.Added.Count} added, {mods.Changed.Count} ran more than {Num(c.ThresholdPercent)}% more or fewer instructions inside");
        foreach (var m in mods.Removed)
        {
            o.WriteLine($"  - {m.Name}{ReportComparer.BootSuffix(m.Boot)}");
        }

        foreach (var m in mods.Added)
        {
            o.WriteLine($"  + {m.Name}{ReportComparer.BootSuffix(m.Boot)}");
        }

        foreach (var m in mods.Changed)
        {
            Row(o, $"  ~ {m.Name}{ReportComparer.BootSuffix(m.Boot)}", N(m.BaselineInstructions ?? 0), N(m.CandidateInstructions ?? 0), ReportComparer.FormatPercent(m.ChangePercent));
        }

        o.WriteLine();
        o.WriteLine("flash writes (bytes programmed, 4 KiB blocks erased)");
        foreach (var f in c.Flash)
        {
            Row(o, $"  unit {f.Unit}{(f.ReadOnly ? " (read-only)" : string.Empty)}", $"{N(f.BytesProgrammed.Baseline)} B {N(f.BlocksErased.Baseline)} blk", $"{N(f.BytesProgrammed.Candidate)} B {N(f.BlocksErased.Candidate)} blk", f.Changed ? "changed" : "same");
        }

        foreach (var p in c.FlashPhases)
        {
            Row(o, $"  up to {p.UpTo}{ReportComparer.BootSuffix(p.Boot)}", $"{N(p.BytesProgrammed.Baseline)} B {N(p.BlocksErased.Baseline)} blk", $"{N(p.BytesProgrammed.Candidate)} B {N(p.BlocksErased.Candidate)} blk", p.Changed ? "changed" : "same");
        }

        var v = c.Variables;
        o.WriteLine();
        o.WriteLine($"variables at the end: {v.Same} same, {v.Changed.Count} changed, {v.Removed.Count} removed, {v.Added.Count} added{(v.BaselineHasStore && v.CandidateHasStore ? string.Empty : " (a run has no varstore)")}");
        foreach (var x in VariableLines(v))
        {
            o.WriteLine("  " + x);
        }

        o.WriteLine();
        WriteList(o, "unassigned accesses", c.Unassigned);
        WriteList(o, "unimplemented instructions", c.Unimplemented);
        if (c.Compat is { } compat)
        {
            o.WriteLine();
            o.WriteLine("the baseline's varstore given to the candidate's code:");
            foreach (string line in compat.Lines)
            {
                o.WriteLine("  " + line);
            }
        }

        o.WriteLine();
        o.WriteLine(c.Console.Same ? $"console output: same ({c.Console.BaselineLines} lines)" : $"console output: differs ({c.Console.BaselineLines} lines | {c.Console.CandidateLines} lines)");
        foreach (string line in c.Console.Lines)
        {
            o.WriteLine("  " + line);
        }
    }

    /// <summary>Writes <paramref name="c"/> as Markdown (<c>emu compare --markdown</c>).</summary>
    public static void WriteMarkdown(TextWriter o, Comparison c, string baseline, string candidate)
    {
        o.WriteLine($"## Firmware comparison: {Verdict(c)}");
        o.WriteLine();
        o.WriteLine($"Baseline `{baseline}`, candidate `{candidate}`, threshold {Num(c.ThresholdPercent)}%.");
        o.WriteLine();
        foreach (string r in c.Regressions)
        {
            o.WriteLine($"- **regression**: {r}");
        }

        if (c.Regressions.Count > 0)
        {
            o.WriteLine();
        }

        o.WriteLine("| | baseline | candidate | change |");
        o.WriteLine("|---|---:|---:|---|");
        o.WriteLine($"| stop | {c.Stop.Baseline} | {c.Stop.Candidate} | {(c.Stop.Baseline == c.Stop.Candidate ? "same" : "changed")} |");
        o.WriteLine($"| instructions | {N(c.Instructions.Baseline)} | {N(c.Instructions.Candidate)} | {Change(c.Instructions.Baseline, c.Instructions.Candidate)} |");
        if (c.Smm is { } smm)
        {
            o.WriteLine($"| SMIs / instructions in SMM | {N(smm.Entries.Baseline)} / {N(smm.Instructions.Baseline)} | {N(smm.Entries.Candidate)} / {N(smm.Instructions.Candidate)} | {(smm.Changed ? "changed" : "same")} |");
        }
        foreach (var m in c.Milestones)
        {
            o.WriteLine($"| `{m.Name}`{ReportComparer.BootSuffix(m.Boot)} | {(m.BaselineInstruction is long bi ? $"{N(bi)} ({Ms(m.BaselineVirtualMs)})" : "—")} | {(m.CandidateInstruction is long ci ? $"{N(ci)} ({Ms(m.CandidateVirtualMs)})" : "—")} | {(m.Status == "same" ? "same" : $"{m.Status} {ReportComparer.FormatPercent(m.ChangePercent)}")} |");
        }

        foreach (var f in c.Flash.Where(f => !f.ReadOnly))
        {
            o.WriteLine($"| flash unit {f.Unit} programmed / erased | {N(f.BytesProgrammed.Baseline)} B / {N(f.BlocksErased.Baseline)} | {N(f.BytesProgrammed.Candidate)} B / {N(f.BlocksErased.Candidate)} | {(f.Changed ? "changed" : "same")} |");
        }

        foreach (var p in c.FlashPhases)
        {
            o.WriteLine($"| flash writes up to `{p.UpTo}`{ReportComparer.BootSuffix(p.Boot)} | {N(p.BytesProgrammed.Baseline)} B / {N(p.BlocksErased.Baseline)} | {N(p.BytesProgrammed.Candidate)} B / {N(p.BlocksErased.Candidate)} | {(p.Changed ? "changed" : "same")} |");
        }

        o.WriteLine();
        var mods = c.Modules;
        o.WriteLine($"- modules: {mods.Common} in both; removed: {Names(mods.Removed.Select(m => m.Name))}; added: {Names(mods.Added.Select(m => m.Name))}; instruction count changed by more than {Num(c.ThresholdPercent)}%: {Names(mods.Changed.Select(m => $"{m.Name} {ReportComparer.FormatPercent(m.ChangePercent)}"))}");
        var v = c.Variables;
        o.WriteLine($"- variables at the end: {v.Same} same, {v.Changed.Count} changed, {v.Removed.Count} removed, {v.Added.Count} added");
        foreach (var x in VariableLines(v))
        {
            o.WriteLine($"  - `{x}`");
        }

        o.WriteLine($"- unassigned accesses: {c.Unassigned.Added.Count} new, {c.Unassigned.Removed.Count} gone; unimplemented instructions: new {Names(c.Unimplemented.Added)}, gone {Names(c.Unimplemented.Removed)}");
        if (c.Compat is { } compat)
        {
            o.WriteLine($"- the baseline's varstore on the candidate's code: {compat.Lines.FirstOrDefault()}");
        }

        o.WriteLine($"- console output: {(c.Console.Same ? $"same ({c.Console.BaselineLines} lines)" : $"differs ({c.Console.BaselineLines} / {c.Console.CandidateLines} lines)")}");
        if (!c.Console.Same)
        {
            o.WriteLine();
            o.WriteLine("```diff");
            foreach (string line in c.Console.Lines.Take(MarkdownDiffLines))
            {
                o.WriteLine(line.Replace("```", "` ` `", StringComparison.Ordinal));
            }

            if (c.Console.Lines.Count > MarkdownDiffLines)
            {
                o.WriteLine($"@@ {c.Console.Lines.Count - MarkdownDiffLines} more diff line(s) in the JSON @@");
            }

            o.WriteLine("```");
        }
    }

    private static IEnumerable<string> VariableLines(VariableChanges v) =>
        v.Removed.Select(x => $"- {x.Name} {x.Guid} {Describe(x.Baseline!)}")
            .Concat(v.Added.Select(x => $"+ {x.Name} {x.Guid} {Describe(x.Candidate!)}"))
            .Concat(v.Changed.Select(x => $"~ {x.Name} {x.Guid} {Describe(x.Baseline!)} -> {Describe(x.Candidate!)}"));

    private static string Describe(Reporting.VariableInfo v) => $"{v.Attributes} {v.DataSize} B sha256 {v.Sha256[..Math.Min(12, v.Sha256.Length)]}";

    private static void WriteList(TextWriter o, string what, ListChanges l)
    {
        o.WriteLine(l.Any ? $"{what}: {l.Removed.Count} only in the baseline, {l.Added.Count} only in the candidate" : $"{what}: same");
        foreach (string x in l.Removed)
        {
            o.WriteLine("  - " + x);
        }

        foreach (string x in l.Added)
        {
            o.WriteLine("  + " + x);
        }
    }

    private static string Verdict(Comparison c) => c.Verdict switch
    {
        "regression" => $"REGRESSION ({c.Regressions.Count})",
        "different" => "different, no regression",
        _ => "same",
    };

    private static void Row(TextWriter o, string label, string b, string c, string change) =>
        o.WriteLine($"{label,-34} {b,24} | {c,-24} {change}".TrimEnd());

    private static string Names(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list.Take(10)) + (list.Count > 10 ? $", ... ({list.Count})" : string.Empty);
    }

    private static string Change(long b, long c) => b == c ? "same" : ReportComparer.FormatPercent(b == 0 ? null : Math.Round((c - b) * 100.0 / b, 2));

    private static string N(long v) => v.ToString("N0", Invariant);

    private static string Num(double v) => v.ToString("0.##", Invariant);

    private static string Ms(double? ms) => ms is double v ? v.ToString("F3", Invariant) + " ms" : "-";
}
