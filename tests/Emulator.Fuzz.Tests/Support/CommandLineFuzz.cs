using System.Security.Cryptography;
using System.Text.Json;
using CsCheck;

namespace Emulator.Fuzz.Tests.Support;

/// <summary>
/// Command lines as fuzz inputs. A parser of arguments is reached far deeper by real options
/// with damaged values than by random bytes, so the generators here start from real command
/// lines and mutate them at the token level (replace, insert, delete, swap, repeat a token) and
/// inside tokens (a <c>key=value</c> element replaced, a comma doubled, garbage characters
/// spliced in), drawing from a vocabulary of the parser's own option names and values.
///
/// A command line travels through <see cref="FuzzRun"/> as the UTF-8 JSON of its string array,
/// so the harness's input-untouched check, its found/ files and the corpora (readable JSON,
/// one array per file) all work unchanged.
/// </summary>
public static class CommandLineFuzz
{
    /// <summary>Characters that matter to the parsers (separators, escapes, signs) and a few that do not fit a byte.</summary>
    private static readonly char[] Awkward =
        [',', '=', '.', ':', '-', '@', '\\', 'x', '%', ' ', '\t', '\0', '0', '9', 'e', '_', '/', '"', 'é', '€', '\u00ff', '\u0100'];

    /// <summary>Values no parser should choke on: empty, NUL, a lone dash or at-sign, a number past every range, a directory.</summary>
    private static readonly string[] Edges = ["", "\0", "a\0b", "-", "--", "@", "@/", "0", "-1", "99999999999999999999", "/", ".", "~", "\\"];

    public static void Run(string name, Gen<string[]> gen, Action<string[]> target, Func<Exception, bool> expected) =>
        FuzzRun.Run(name, gen.Select(Encode), bytes => target(Decode(bytes)), expected);

    public static void Once(string name, byte[] encoded, Action<string[]> target, Func<Exception, bool> expected) =>
        FuzzRun.Once(name, encoded, bytes => target(Decode(bytes)), expected);

    public static byte[] Encode(string[] args) => JsonSerializer.SerializeToUtf8Bytes(args);

    public static string[] Decode(byte[] bytes) => JsonSerializer.Deserialize<string[]>(bytes) ?? [];

    /// <summary>
    /// One of <paramref name="seeds"/> with 1–6 token mutations drawn from <paramref name="vocabulary"/>,
    /// or (one time in eight) tokens of the vocabulary in any order.
    /// </summary>
    public static Gen<string[]> Of(IReadOnlyList<string[]> seeds, IReadOnlyList<string> vocabulary)
    {
        Gen<string> token = Gen.Frequency(
            (6, Gen.Int[0, vocabulary.Count - 1].Select(i => vocabulary[i])),
            (1, Garbage),
            (1, Gen.Int[0, Edges.Length - 1].Select(i => Edges[i])),
            (1, Gen.Select(Gen.Int[0, vocabulary.Count - 1], Gen.Int[0, vocabulary.Count - 1], (a, b) => vocabulary[a] + "," + vocabulary[b])));
        Gen<Func<List<string>, List<string>>> step = Gen.OneOf(
            Gen.Select(Gen.Int, token, (at, t) => Edit((l, i) => l[i] = t, at)),
            Gen.Select(Gen.Int, token, (at, t) => (Func<List<string>, List<string>>)(l =>
            {
                l.Insert(l.Count == 0 ? 0 : Math.Abs(at % (l.Count + 1)), t);
                return l;
            })),
            Gen.Select(Gen.Int, Gen.Int[0, Edges.Length - 1], (at, e) => Edit((l, i) => l[i] = Edges[e], at)),
            Gen.Int.Select(at => Edit((l, i) => l.RemoveAt(i), at)),
            Gen.Int.Select(at => Edit((l, i) => (l[i], l[(i + 1) % l.Count]) = (l[(i + 1) % l.Count], l[i]), at)),
            Gen.Int.Select(at => Edit((l, i) => l.InsertRange(i, l.Skip(i).Take(2).ToList()), at)),
            Gen.Select(Gen.Int, Within(vocabulary), (at, change) => Edit((l, i) => l[i] = change(l[i]), at)));
        Gen<string[]> mutated = Gen.Select(Gen.Int[0, seeds.Count - 1], step.Array[1, 6], (s, steps) =>
        {
            var list = seeds[s].ToList();
            foreach (var f in steps)
            {
                list = f(list);
            }

            return list.ToArray();
        });
        return Gen.Frequency((7, mutated), (1, token.Array[0, 12]));
    }

    /// <summary>Short strings of awkward characters and digits.</summary>
    public static readonly Gen<string> Garbage = Gen.Frequency(
        (3, Gen.Int[0, Awkward.Length - 1].Array[0, 12].Select(ix => new string(ix.Select(i => Awkward[i]).ToArray()))),
        (1, Gen.Char['\u0001', '\u00ff'].Array[0, 40].Select(c => new string(c))),
        (1, Gen.Int[1, 5000].Select(n => new string('9', n))));

    /// <summary>A change inside one token: a comma-separated element replaced or dropped, a character spliced in, the token cut.</summary>
    private static Gen<Func<string, string>> Within(IReadOnlyList<string> vocabulary) => Gen.OneOf(
        Gen.Select(Gen.Int, Gen.Int[0, vocabulary.Count - 1], (at, v) => (Func<string, string>)(t =>
        {
            var parts = t.Split(',');
            parts[Math.Abs(at % parts.Length)] = vocabulary[v];
            return string.Join(',', parts);
        })),
        Gen.Int.Select(at => (Func<string, string>)(t =>
        {
            var parts = t.Split(',').ToList();
            parts.RemoveAt(Math.Abs(at % parts.Count));
            return string.Join(',', parts);
        })),
        Gen.Select(Gen.Int, Garbage, (at, g) => (Func<string, string>)(t => t.Insert(Math.Abs(at % (t.Length + 1)), g))),
        Gen.Int.Select(at => (Func<string, string>)(t => t[..Math.Abs(at % (t.Length + 1))])));

    /// <summary>Applies <paramref name="change"/> at a position of a non-empty list (an empty one is left as it is).</summary>
    private static Func<List<string>, List<string>> Edit(Action<List<string>, int> change, int at) => l =>
    {
        if (l.Count > 0)
        {
            change(l, Math.Abs(at % l.Count));
        }

        return l;
    };

    /// <summary>
    /// <see cref="FuzzRun.Run"/> with a smaller default count, for targets whose one input costs
    /// much more than a parse (a whole command over a firmware image). A campaign
    /// (EMU_FUZZ_SECONDS) and EMU_FUZZ_ITERATIONS behave as for every target.
    /// </summary>
    public static void RunCostly(string name, int defaultIterations, Gen<byte[]> gen, Action<byte[]> target, Func<Exception, bool> expected) =>
        FuzzRun.Run(name, gen, target, expected, new FuzzOptions(Iterations: defaultIterations));
}
