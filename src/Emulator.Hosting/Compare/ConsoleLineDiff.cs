namespace Emulator.Hosting.Compare;

/// <summary>
/// A line diff of two console transcripts (longest common subsequence). Lines split at LF; a
/// trailing CR is dropped (OVMF ends lines with CR LF) and escape characters are shown as
/// <c>\e</c>: nothing else is normalised, so a changed date or build string shows as a change.
/// Common lines further than <see cref="Context"/> from a change are folded into one "@@" line.
/// </summary>
internal static class ConsoleLineDiff
{
    public const int Context = 2;

    /// <summary>Above this many cells the middle is reported as replaced rather than aligned (a 4 MiB transcript is allowed).</summary>
    private const long MaxCells = 4_000_000;

    public static ConsoleDiff Compare(string baseline, string candidate)
    {
        string[] b = Lines(baseline);
        string[] c = Lines(candidate);
        if (b.AsSpan().SequenceEqual(c))
        {
            return new ConsoleDiff(true, b.Length, c.Length, []);
        }

        var ops = Align(b, c);
        return new ConsoleDiff(false, b.Length, c.Length, Fold(ops));
    }

    public static string[] Lines(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            lines[i] = lines[i].TrimEnd('\r').Replace("\x1b", "\\e", StringComparison.Ordinal);
        }

        return lines;
    }

    private static List<(char Op, string Line)> Align(string[] b, string[] c)
    {
        int prefix = 0;
        while (prefix < b.Length && prefix < c.Length && b[prefix] == c[prefix])
        {
            prefix++;
        }

        int suffix = 0;
        while (suffix < b.Length - prefix && suffix < c.Length - prefix && b[^(suffix + 1)] == c[^(suffix + 1)])
        {
            suffix++;
        }

        var ops = new List<(char, string)>();
        ops.AddRange(b.Take(prefix).Select(l => (' ', l)));
        string[] mb = b[prefix..^suffix];
        string[] mc = c[prefix..^suffix];
        if ((long)mb.Length * mc.Length > MaxCells)
        {
            ops.AddRange(mb.Select(l => ('-', l)));
            ops.AddRange(mc.Select(l => ('+', l)));
        }
        else
        {
            ops.AddRange(Lcs(mb, mc));
        }

        ops.AddRange(b.Skip(b.Length - suffix).Select(l => (' ', l)));
        return ops;
    }

    private static List<(char, string)> Lcs(string[] b, string[] c)
    {
        // lengths[i, j]: the longest common subsequence of b[i..] and c[j..].
        var lengths = new int[b.Length + 1, c.Length + 1];
        for (int i = b.Length - 1; i >= 0; i--)
        {
            for (int j = c.Length - 1; j >= 0; j--)
            {
                lengths[i, j] = b[i] == c[j] ? lengths[i + 1, j + 1] + 1 : Math.Max(lengths[i + 1, j], lengths[i, j + 1]);
            }
        }

        var ops = new List<(char, string)>();
        int x = 0, y = 0;
        while (x < b.Length || y < c.Length)
        {
            if (x < b.Length && y < c.Length && b[x] == c[y])
            {
                ops.Add((' ', b[x++]));
                y++;
            }
            else if (x < b.Length && (y == c.Length || lengths[x + 1, y] >= lengths[x, y + 1]))
            {
                // Removals first on a tie, as diff(1) prints a changed line.
                ops.Add(('-', b[x++]));
            }
            else
            {
                ops.Add(('+', c[y++]));
            }
        }

        return ops;
    }

    private static List<string> Fold(List<(char Op, string Line)> ops)
    {
        var lines = new List<string>();
        for (int i = 0; i < ops.Count; i++)
        {
            if (ops[i].Op != ' ')
            {
                lines.Add($"{ops[i].Op} {ops[i].Line}");
                continue;
            }

            int end = i;
            while (end < ops.Count && ops[end].Op == ' ')
            {
                end++;
            }

            // Keep Context lines after the previous change and before the next one; folding a
            // single line would not shorten anything.
            int keepHead = i == 0 ? 0 : Context;
            int keepTail = end == ops.Count ? 0 : Context;
            if (end - i > keepHead + keepTail + 1)
            {
                lines.AddRange(ops.Skip(i).Take(keepHead).Select(o => "  " + o.Line));
                lines.Add($"@@ {end - i - keepHead - keepTail} common line(s) @@");
                lines.AddRange(ops.Skip(end - keepTail).Take(keepTail).Select(o => "  " + o.Line));
            }
            else
            {
                lines.AddRange(ops.Skip(i).Take(end - i).Select(o => "  " + o.Line));
            }

            i = end - 1;
        }

        return lines;
    }
}
