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

    public static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("EMU_FUZZ_ITERATIONS"), out int n) && n > 0 ? n : DefaultIterations;

    /// <summary>
    /// Runs <paramref name="target"/> over inputs from <paramref name="gen"/>. <paramref name="expected"/>
    /// says which exceptions are the target's documented answer to bad input.
    /// </summary>
    public static void Run(string name, Gen<byte[]> gen, Action<byte[]> target, Func<Exception, bool> expected)
    {
        if (CampaignSeconds is int seconds)
        {
            gen.Sample(input => Once(name, input, target, expected), time: seconds, threads: 1,
                print: input => Save(name, input));
            return;
        }

        // Each target has its own PCG stream, so adding a target does not change another's inputs.
        uint stream = BitConverter.ToUInt32(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)));
        for (int i = 0; i < Iterations; i++)
        {
            var pcg = new PCG(stream, (ulong)i);
            byte[] input = gen.Generate(pcg, null, out _);
            try
            {
                Once(name, input, target, expected);
            }
            catch (Exception e)
            {
                throw new FuzzFailure($"{name}: iteration {i} (PCG stream {stream}, seed {i}) failed; input saved as {Save(name, input)}", e);
            }
        }
    }

    /// <summary>One input through the target with every property checked; throws on a violation.</summary>
    public static void Once(string name, byte[] input, Action<byte[]> target, Func<Exception, bool> expected)
    {
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

        if (allocated > PerInputAllocationLimit)
        {
            throw new FuzzFailure($"{name}: allocated {allocated >> 20} MiB for a {input.Length}-byte input (limit {PerInputAllocationLimit >> 20} MiB)");
        }

        if (!copy.AsSpan().SequenceEqual(input))
        {
            throw new FuzzFailure($"{name}: the parser modified its input ({clock.ElapsedMilliseconds} ms)");
        }
    }

    /// <summary>Every file of Corpus/TARGET/, for a [Theory] that replays found cases.</summary>
    public static TheoryData<string> CorpusFiles(string name)
    {
        var data = new TheoryData<string>();
        string dir = Path.Combine(AppContext.BaseDirectory, "Corpus", name);
        if (Directory.Exists(dir))
        {
            foreach (string file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(file));
            }
        }

        return data;
    }

    public static byte[] ReadCorpus(string name, string file) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Corpus", name, file));

    private static string Save(string name, byte[] input)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "found", name);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, Convert.ToHexStringLower(SHA256.HashData(input))[..16] + ".bin");
        File.WriteAllBytes(path, input);
        return path;
    }
}

public sealed class FuzzFailure(string message, Exception? inner = null) : Exception(message, inner);
