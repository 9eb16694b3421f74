using System.Diagnostics;
using System.Security.Cryptography;
using CsCheck;

namespace Emulator.Fuzz.Tests.Support;

/// <summary>
/// Runs one parser ("target") over generated inputs with the properties every parser owes hostile
/// input: it returns or throws one of the exception types it documents for bad input (the caller
/// turns those into a one-line error), within a bounded time and allocation, and it leaves the
/// input bytes untouched.
///
/// By default the inputs come from a fixed seed (<see cref="DefaultIterations"/> of them), so a CI
/// run is short and the same every time. <c>EMU_FUZZ_SECONDS=N</c> turns each target into a
/// campaign of N seconds of random seeds through CsCheck's <c>Sample</c>, which shrinks a failing
/// input; a failing input (fixed-seed or campaign) is written under <c>found/</c> beside the test
/// binaries so it can be promoted into <c>Corpus/TARGET/</c>, where <see cref="CorpusFiles"/> turns
/// it into a regression test.
/// </summary>
public static class FuzzRun
{
    public const int DefaultIterations = 300;

    /// <summary>Wall time one input may take: generous for a loaded CI machine, far below a hang.</summary>
    public static readonly TimeSpan PerInputLimit = TimeSpan.FromSeconds(10);

    /// <summary>Bytes one input may make the parser allocate (the real code images inflate ~13 MiB of LZMA).</summary>
    public const long PerInputAllocationLimit = 512L << 20;

    public static int? CampaignSeconds =>
        int.TryParse(Environment.GetEnvironmentVariable("EMU_FUZZ_SECONDS"), out int s) && s > 0 ? s : null;

    public static int Iterations => EnvironmentIterations ?? DefaultIterations;

    private static int? EnvironmentIterations =>
        int.TryParse(Environment.GetEnvironmentVariable("EMU_FUZZ_ITERATIONS"), out int n) && n > 0 ? n : null;

    /// <summary>
    /// Runs <paramref name="target"/> over inputs from <paramref name="gen"/>. <paramref name="expected"/>
    /// says which exceptions are the target's documented answer to bad input. <paramref name="options"/>
    /// tightens or loosens the defaults for one target (see <see cref="FuzzOptions"/>).
    /// </summary>
    public static void Run(string name, Gen<byte[]> gen, Action<byte[]> target, Func<Exception, bool> expected, FuzzOptions? options = null)
    {
        options ??= FuzzOptions.Default;
        if (CampaignSeconds is int seconds)
        {
            // Sample shrinks a failure and hands the smallest failing input to print, which saves it.
            long inputs = 0;
            var clock = Stopwatch.StartNew();
            gen.Sample(input => { inputs++; Once(name, input, target, expected, options); }, time: seconds, threads: 1,
                print: input => Save(name, gen, input, FailureOf(name, input, target, expected, options), "campaign (shrunk)"));

            // A passing campaign leaves a line saying how much it tried (xunit v2 shows no output of a passing test).
            Directory.CreateDirectory(FoundDirectory);
            File.AppendAllText(Path.Combine(FoundDirectory, "campaigns.log"),
                $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z {name}: {inputs} inputs in {clock.Elapsed.TotalSeconds:F0} s, no failure{Environment.NewLine}");
            return;
        }

        // Each target has its own PCG stream, so adding a target does not change another's inputs.
        uint stream = BitConverter.ToUInt32(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)));
        int count = EnvironmentIterations ?? options.Iterations ?? DefaultIterations;
        for (int i = 0; i < count; i++)
        {
            var pcg = new PCG(stream, (ulong)i);
            byte[] input = gen.Generate(pcg, null, out _);
            try
            {
                Once(name, input, target, expected, options);
            }
            catch (Exception e)
            {
                string how = $"iteration {i} (PCG stream {stream}, seed {i})";
                throw new FuzzFailure($"{name}: {how} failed; input saved as {Save(name, gen, input, e.Message, how)}", e);
            }
        }
    }

    /// <summary>One input through the target with every property checked; throws on a violation.</summary>
    public static void Once(string name, byte[] input, Action<byte[]> target, Func<Exception, bool> expected, FuzzOptions? options = null)
    {
        long allocationLimit = options?.AllocationLimit ?? PerInputAllocationLimit;
        byte[] copy = (byte[])input.Clone();
        Exception? thrown = null;
        long allocated = 0;
        var worker = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                target(input);
            }
            catch (Exception e)
            {
                thrown = e;
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, maxStackSize: 16 << 20) { IsBackground = true, Name = "fuzz " + name };
        var clock = Stopwatch.StartNew();
        worker.Start();
        if (!worker.Join(PerInputLimit))
        {
            throw new FuzzFailure($"{name}: still running after {PerInputLimit.TotalSeconds} s on a {input.Length}-byte input (a hang or an unbounded loop)");
        }

        if (thrown is not null && !expected(thrown))
        {
            throw new FuzzFailure($"{name}: unexpected {thrown.GetType().Name} on a {input.Length}-byte input: {thrown.Message}", thrown);
        }

        if (allocated > allocationLimit)
        {
            throw new FuzzFailure($"{name}: allocated {allocated >> 20} MiB for a {input.Length}-byte input (limit {allocationLimit >> 20} MiB)");
        }

        if (!copy.AsSpan().SequenceEqual(input))
        {
            throw new FuzzFailure($"{name}: the parser modified its input ({clock.ElapsedMilliseconds} ms)");
        }
    }

    /// <summary>
    /// Every entry of Corpus/TARGET/ (raw inputs and <c>.patch</c> files, see <see cref="CorpusPatch"/>),
    /// for a [Theory] that replays found cases through <see cref="Replay"/>. A target without entries
    /// yet gets the one row <see cref="NoEntries"/> (xunit fails a theory with no data), which
    /// replays the empty input, something every parser must also answer properly.
    /// </summary>
    public static TheoryData<string> CorpusFiles(string name)
    {
        var data = new TheoryData<string>();
        foreach (string file in CorpusEntries(name))
        {
            data.Add(file);
        }

        if (data.Count == 0)
        {
            data.Add(NoEntries);
        }

        return data;
    }

    /// <summary>The row <see cref="CorpusFiles"/> gives for an empty corpus; it reads as the empty input.</summary>
    public const string NoEntries = "(no entries: the empty input)";

    public static IEnumerable<string> CorpusEntries(string name)
    {
        string dir = Path.Combine(CorpusDirectory, name);
        return Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir).Select(Path.GetFileName).OfType<string>().Where(f => !f.StartsWith('.')).Order(StringComparer.Ordinal)
            : [];
    }

    public static string CorpusDirectory => Path.Combine(AppContext.BaseDirectory, "Corpus");

    /// <summary>The input a corpus entry holds: a <c>.patch</c> applied to its fixture, or the raw file.</summary>
    public static byte[] ReadCorpus(string name, string file)
    {
        if (file == NoEntries)
        {
            Assert.Empty(CorpusEntries(name));
            return [];
        }

        string path = Path.Combine(CorpusDirectory, name, file);
        return file.EndsWith(".patch", StringComparison.Ordinal)
            ? CorpusPatch.Parse(File.ReadAllText(path)).Apply()
            : File.ReadAllBytes(path);
    }

    /// <summary>One corpus entry through <see cref="Once"/> (the [Theory] body of a target's corpus replay).</summary>
    public static void Replay(string name, string file, Action<byte[]> target, Func<Exception, bool> expected, FuzzOptions? options = null) =>
        Once($"{name}/{file}", ReadCorpus(name, file), target, expected, options);

    /// <summary>Where a fixed-seed or campaign failure is kept: found/RUN/ beside the test binaries.</summary>
    public static string FoundDirectory => Path.Combine(AppContext.BaseDirectory, "found");

    /// <summary>
    /// Saves a failing input under found/RUN/: as a <c>.patch</c> against its fixture when the
    /// generator mutated a seed from <see cref="Seeds"/> (firmware binaries are never committed),
    /// otherwise as the raw bytes. Returns the path.
    /// </summary>
    private static string Save(string name, Gen<byte[]> gen, byte[] input, string failure, string how)
    {
        string dir = Path.Combine(FoundDirectory, name);
        Directory.CreateDirectory(dir);
        string stem = Path.Combine(dir, CorpusPatch.Hash(input)[..16]);
        if (Mutations.SeedOf(gen) is { } seed && Seeds.OriginOf(seed) is { } origin)
        {
            string text = CorpusPatch.Create(origin, input).ToText([$"fuzz run {name}, {how}", failure]);

            // Written only when it rebuilds the input: a patch that does not is worse than a big file.
            if (CorpusPatch.Parse(text).Apply().AsSpan().SequenceEqual(input))
            {
                File.WriteAllText(stem + ".patch", text);
                return stem + ".patch";
            }
        }

        File.WriteAllBytes(stem + ".bin", input);
        return stem + ".bin";
    }

    private static string FailureOf(string name, byte[] input, Action<byte[]> target, Func<Exception, bool> expected, FuzzOptions options)
    {
        try
        {
            Once(name, input, target, expected, options);
            return "passed when run again (a flaky or load-dependent failure)";
        }
        catch (FuzzFailure e)
        {
            return e.Message;
        }
    }
}

/// <summary>Per-target departures from the defaults of <see cref="FuzzRun"/>.</summary>
/// <param name="Iterations">Fixed-seed inputs (an expensive target runs fewer); <c>EMU_FUZZ_ITERATIONS</c> overrides it.</param>
/// <param name="AllocationLimit">Bytes one input may make the target allocate, when the parser promises a tighter bound.</param>
public sealed record FuzzOptions(int? Iterations = null, long? AllocationLimit = null)
{
    public static readonly FuzzOptions Default = new();
}

public sealed class FuzzFailure(string message, Exception? inner = null) : Exception(message, inner);
