using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Emulator.Cli;
using Emulator.Fuzz.Tests.Support;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// The run report as <c>compare</c> reads it (ReportFile, RunReport, then the comparison and its
/// text, Markdown and JSON output): a damaged or hand-edited report against a real one, in both
/// orders, gives a comparison or one line with status 2 — never an exception — and leaves both
/// reports as they were. The seed is a real report (<c>emu boot --until banner --report</c>, the
/// module list shortened), damaged byte-wise and, so the reader's checks after the JSON parse are
/// reached, value-wise: a value replaced by null, another type, an edge number or a long string,
/// a property removed, an array emptied or an element repeated.
/// </summary>
[Trait("Category", "Fuzz")]
public class ReportFuzzTests
{
    private const string Target = "report";

    private static readonly byte[] Seed = CliProperties.Input("report-banner.json");

    private static readonly JsonNode?[] Replacements =
    [
        null, 0, -1, long.MaxValue, long.MinValue, ulong.MaxValue, 1e308, -1e-308, 0.5, true, "", "x", "0x", "0xFFFFFFFFFFFFFFFFFF", "-1",
        "00000000-0000-0000-0000-000000000000", new string('\n', 3000), new string('A', 100_000), "\u001b[2J\r\n", 2, 999999999,
    ];

    [Fact]
    public void BytewiseDamagedReports() => CommandLineFuzz.RunCostly($"{Target}-bytes", 150, Mutations.Of(Seed), Compare, _ => false);

    [Fact]
    public void ValuewiseDamagedReports() => CommandLineFuzz.RunCostly($"{Target}-values", 150, ValueMutations(), Compare, _ => false);

    /// <summary>Found cases: values the JSON reader leaves null though the report never has them null (a NullReferenceException in the comparison, once).</summary>
    [Theory]
    [MemberData(nameof(Corpus))]
    public void CorpusEntries(string file) => FuzzRun.Once(Target, FuzzRun.ReadCorpus(Target, file), Compare, _ => false);

    public static TheoryData<string> Corpus() => FuzzRun.CorpusFiles(Target);

    [Fact]
    public void SeedComparesWithItself()
    {
        using var dir = new CliProperties.ScratchDirectory();
        File.WriteAllBytes(dir.File("a.json"), Seed);
        Assert.Equal(0, CommandDispatcher.Run(["compare", dir.File("a.json"), dir.File("a.json")], new MemoryStream(), new StringWriter()));
    }

    /// <summary>No run has a negative count: one in a report would wrap the differences (long.MinValue to long.MaxValue read as 0 %).</summary>
    [Fact]
    public void NegativeCountsAreRefused()
    {
        var root = JsonNode.Parse(Seed)!;
        root["milestones"]![4]!["instruction"] = long.MinValue;
        using var dir = new CliProperties.ScratchDirectory();
        File.WriteAllBytes(dir.File("a.json"), Seed);
        File.WriteAllBytes(dir.File("b.json"), JsonSerializer.SerializeToUtf8Bytes(root));
        using var stderr = new StringWriter();
        Assert.Equal(2, CommandDispatcher.Run(["compare", dir.File("a.json"), dir.File("b.json")], new MemoryStream(), stderr));
        Assert.EndsWith("'milestones[4].instruction' is negative", stderr.ToString().TrimEnd(), StringComparison.Ordinal);
    }

    /// <summary><c>emu compare</c> in-process, the damaged report on each side, every output written.</summary>
    private static void Compare(byte[] report)
    {
        using var dir = new CliProperties.ScratchDirectory();
        string damaged = dir.File("damaged.json"), real = dir.File("real.json");
        File.WriteAllBytes(damaged, report);
        File.WriteAllBytes(real, Seed);
        string? before = CliProperties.Digest(damaged);
        foreach (var (baseline, candidate) in new[] { (damaged, real), (real, damaged) })
        {
            string[] args = ["compare", baseline, candidate, "--json", dir.File("out.json"), "--markdown", dir.File("out.md")];
            using var stdout = new MemoryStream();
            using var stderr = new StringWriter();
            int status = CommandDispatcher.Run(args, stdout, stderr);
            CliProperties.AssertOneLineOnFailure(args, status, stderr.ToString());
        }

        CliProperties.AssertUnchanged(damaged, before);
    }

    /// <summary>1–4 value-level changes to the seed's JSON tree, each at a node picked by index (document order).</summary>
    private static Gen<byte[]> ValueMutations() =>
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, 5], Gen.Int[0, Replacements.Length - 1]).Array[1, 4].Select(changes =>
        {
            var root = JsonNode.Parse(Seed)!;
            foreach (var (at, kind, value) in changes)
            {
                var nodes = Descendants(root).ToList();
                Change(nodes[at % nodes.Count], kind, value);
            }

            return JsonSerializer.SerializeToUtf8Bytes(root);
        });

    private static void Change(JsonNode node, int kind, int value)
    {
        JsonNode? replacement = Replacements[value]?.DeepClone();
        switch (kind, node.Parent)
        {
            case (0 or 1 or 2, JsonObject parent):
                parent[node.GetPropertyName()] = replacement;
                break;
            case (0 or 1 or 2, JsonArray parent):
                parent[node.GetElementIndex()] = replacement;
                break;
            case (3, JsonObject parent):
                parent.Remove(node.GetPropertyName());
                break;
            case (4, _) when node is JsonArray array:
                array.Clear();
                break;
            case (5, JsonArray parent):
                parent.Insert(node.GetElementIndex(), node.DeepClone());
                break;
            default:
                // The root, or a change that does not apply to this node: another type instead.
                if (node.Parent is JsonObject p)
                {
                    p[node.GetPropertyName()] = node is JsonArray ? new JsonObject() : new JsonArray();
                }

                break;
        }
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        {
            foreach (var d in Descendants(child))
            {
                yield return d;
            }
        }
    }
}
