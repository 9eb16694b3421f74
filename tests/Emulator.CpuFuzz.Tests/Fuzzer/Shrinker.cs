namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// Reduces a diverging case while the same divergence persists (same engine, same first
/// differing field): drops runs of items, halving the run length down to single items (as
/// delta debugging does), then sets each register to zero and the flags to their reset value
/// where that keeps it. Every attempt runs the case on QEMU again (on <c>qemuRunner</c> when
/// given, else on a QEMU of its own).
/// </summary>
public static class Shrinker
{
    public static Divergence Shrink(Divergence divergence, QemuRunner? qemuRunner = null)
    {
        var best = divergence;
        for (int chunk = Math.Max(1, best.Case.Items.Count / 2); chunk >= 1; chunk /= 2)
        {
            for (int start = 0; start < best.Case.Items.Count;)
            {
                var items = best.Case.Items.Take(start).Concat(best.Case.Items.Skip(start + chunk)).ToList();
                if (Attempt(best, best.Case.WithItems(items), qemuRunner) is { } smaller)
                {
                    best = smaller;
                }
                else
                {
                    start += chunk;
                }
            }
        }

        for (int i = 0; i < 16; i++)
        {
            if (i != 4 && best.Case.Gprs[i] != 0)
            {
                var gprs = (ulong[])best.Case.Gprs.Clone();
                gprs[i] = 0;
                best = Attempt(best, best.Case with { Gprs = gprs }, qemuRunner) ?? best;
            }
        }

        return best.Case.Flags == 2 ? best : Attempt(best, best.Case with { Flags = 2 }, qemuRunner) ?? best;
    }

    private static Divergence? Attempt(Divergence original, FuzzCase candidate, QemuRunner? qemuRunner)
    {
        var divergence = DifferentialFuzzer.Check(candidate, out _, qemuRunner);
        return divergence != null && divergence.Engine == original.Engine && FieldName(divergence) == FieldName(original)
            ? divergence
            : null;
    }

    private static string FieldName(Divergence divergence) => divergence.Fields[0].Split(':')[0].Split(' ')[0];
}
