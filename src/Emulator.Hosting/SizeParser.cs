namespace Emulator.Hosting;

/// <summary>Parses sizes the way QEMU's -m does: a number with an optional K/M/G/T suffix; no suffix means MiB.</summary>
public static class SizeParser
{
    /// <summary>Parses <paramref name="text"/> as QEMU's <c>-m</c> does; a one-line <see cref="UsageException"/> otherwise.</summary>
    public static ulong ParseMemory(string text)
    {
        string t = text.Trim();
        if (t.Length == 0)
        {
            throw new UsageException("memory size is empty");
        }

        ulong multiplier = 1UL << 20;
        char last = char.ToUpperInvariant(t[^1]);
        if (char.IsLetter(last))
        {
            multiplier = last switch
            {
                'B' => 1,
                'K' => 1UL << 10,
                'M' => 1UL << 20,
                'G' => 1UL << 30,
                'T' => 1UL << 40,
                _ => throw new UsageException($"memory size '{text}' has an unknown suffix (use K, M, G or T)"),
            };
            t = t[..^1];
        }

        if (!ulong.TryParse(t, out ulong n) || n == 0 || n > (1UL << 44) / multiplier)
        {
            throw new UsageException($"memory size '{text}' is not a valid size (e.g. 256M, 2G)");
        }

        return n * multiplier;
    }
}
