using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Emulator.Fuzz.Tests.Support;

/// <summary>
/// A fuzz input stored as the edits that turn a pinned fixture (or a part of one) into it, so the
/// corpus holds a few lines of text instead of a copy of a firmware binary. The text form, one
/// item per line, applied top to bottom ('#' starts a comment):
/// <code>
/// base: OVMF_CODE.fd            the fixture (firmware-fixtures/cache)
/// inflate: 0x94 0x171524        optional: decode the EDK II LZMA payload at this offset/length
/// slice: 0x0 0xE0000            optional: keep only this range
/// 0x1F0: 00ffffff               overwrite bytes at this offset (hex, any number of lines)
/// insert 0x2A0: deadbeef        insert bytes at this offset
/// length: 0x1000                optional: truncate to this length
/// sha256: …                     of the result, so a changed fixture is noticed
/// </code>
/// Offsets are those of the result: edits are listed in increasing offset order.
/// </summary>
public sealed class CorpusPatch
{
    private const int BytesPerLine = 32;

    // A resynchronisation needs this many equal bytes, so a chance match in erased flash (all
    // 0xFF) rarely cuts an edit short; a wrong guess only makes the patch longer, never wrong.
    private const int ResyncBytes = 16;
    private const int ResyncWindow = 4096;

    private readonly List<Edit> _edits;

    private CorpusPatch(SeedOrigin origin, List<Edit> edits, int? length, string? sha256)
    {
        Origin = origin;
        _edits = edits;
        Length = length;
        Sha256 = sha256;
    }

    public SeedOrigin Origin { get; }

    public int? Length { get; }

    public string? Sha256 { get; }

    /// <summary>The edits from <paramref name="origin"/>'s bytes to <paramref name="input"/>.</summary>
    public static CorpusPatch Create(SeedOrigin origin, byte[] input)
    {
        byte[] seed = origin.Materialize();
        var edits = new List<Edit>();
        int i = 0, j = 0;
        while (i < input.Length)
        {
            if (j >= seed.Length)
            {
                edits.Add(new Edit(i, input[i..], Insert: true));
                i = input.Length;
                break;
            }

            int same = input.AsSpan(i).CommonPrefixLength(seed.AsSpan(j));
            i += same;
            j += same;
            if (i == input.Length || j == seed.Length)
            {
                continue;
            }

            (int changed, bool inserted) = Resynchronise(input, i, seed, j);
            edits.Add(new Edit(i, input[i..(i + changed)], inserted));
            i += changed;
            j += inserted ? 0 : changed;
        }

        int built = i + (seed.Length - j);
        return new CorpusPatch(origin, edits, built > input.Length ? input.Length : null, Hash(input));
    }

    public static CorpusPatch Parse(string text)
    {
        string? fixture = null;
        Range32? inflate = null, slice = null;
        int? length = null;
        string? sha256 = null;
        var edits = new List<Edit>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Split('#')[0].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            int colon = line.IndexOf(':');
            if (colon < 0)
            {
                throw new FormatException($"corpus patch line without ':': {line}");
            }

            string key = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "base": fixture = value; break;
                case "inflate": inflate = ParseRange(value); break;
                case "slice": slice = ParseRange(value); break;
                case "length": length = ParseNumber(value); break;
                case "sha256": sha256 = value.ToLowerInvariant(); break;
                default:
                    bool insert = key.StartsWith("insert ", StringComparison.Ordinal);
                    edits.Add(new Edit(ParseNumber(insert ? key["insert ".Length..] : key), Convert.FromHexString(value), insert));
                    break;
            }
        }

        return new CorpusPatch(
            new SeedOrigin(fixture ?? throw new FormatException("corpus patch without 'base:'"), inflate, slice),
            edits, length, sha256);
    }

    /// <summary>The input the patch describes; checks the recorded SHA-256 when there is one.</summary>
    public byte[] Apply()
    {
        var bytes = new List<byte>(Origin.Materialize());
        foreach (Edit edit in _edits)
        {
            if (edit.Insert)
            {
                bytes.InsertRange(edit.Offset, edit.Bytes);
                continue;
            }

            for (int k = 0; k < edit.Bytes.Length; k++)
            {
                bytes[edit.Offset + k] = edit.Bytes[k];
            }
        }

        if (Length is int length)
        {
            bytes.RemoveRange(length, bytes.Count - length);
        }

        byte[] result = [.. bytes];
        if (Sha256 is not null && Hash(result) != Sha256)
        {
            throw new InvalidDataException($"corpus patch against {Origin.Fixture} gives a different input (sha256 {Hash(result)}, recorded {Sha256}): has the pinned fixture changed?");
        }

        return result;
    }

    public string ToText(IEnumerable<string> comments)
    {
        var text = new StringBuilder();
        foreach (string comment in comments)
        {
            text.Append("# ").AppendLine(comment.ReplaceLineEndings(" "));
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"base: {Origin.Fixture}");
        if (Origin.Inflate is { } inflate)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"inflate: {inflate}");
        }

        if (Origin.Slice is { } slice)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"slice: {slice}");
        }

        foreach (Edit edit in _edits)
        {
            for (int at = 0; at < edit.Bytes.Length; at += BytesPerLine)
            {
                // Each line of an insertion inserts after the one before, so the lines rebuild it.
                string key = edit.Insert ? "insert " : string.Empty;
                byte[] chunk = edit.Bytes[at..Math.Min(edit.Bytes.Length, at + BytesPerLine)];
                text.AppendLine(CultureInfo.InvariantCulture, $"{key}0x{edit.Offset + at:X}: {Convert.ToHexStringLower(chunk)}");
            }
        }

        if (Length is int length)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"length: 0x{length:X}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"sha256: {Sha256}");
        return text.ToString();
    }

    public static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// How many bytes from <paramref name="i"/> differ before input and seed agree again, and
    /// whether they replace seed bytes or were inserted (the mutators flip, overwrite and insert).
    /// </summary>
    private static (int Changed, bool Inserted) Resynchronise(byte[] input, int i, byte[] seed, int j)
    {
        for (int k = 1; k <= ResyncWindow && i + k <= input.Length; k++)
        {
            if (j + k <= seed.Length && Agree(input, i + k, seed, j + k))
            {
                return (k, false);
            }

            if (Agree(input, i + k, seed, j))
            {
                return (k, true);
            }
        }

        int rest = Math.Min(ResyncWindow, input.Length - i);
        return (rest, j + rest > seed.Length);
    }

    private static bool Agree(byte[] input, int i, byte[] seed, int j)
    {
        int wanted = Math.Min(ResyncBytes, input.Length - i);
        return seed.Length - j >= wanted && input.AsSpan(i, wanted).SequenceEqual(seed.AsSpan(j, wanted));
    }

    private static Range32 ParseRange(string value)
    {
        string[] parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2 ? new Range32(ParseNumber(parts[0]), ParseNumber(parts[1])) : throw new FormatException($"expected 'offset length', got '{value}'");
    }

    private static int ParseNumber(string value) =>
        value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? int.Parse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : int.Parse(value, CultureInfo.InvariantCulture);

    private readonly record struct Edit(int Offset, byte[] Bytes, bool Insert);
}
