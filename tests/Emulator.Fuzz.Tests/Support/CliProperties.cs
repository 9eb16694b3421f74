using System.Security.Cryptography;

namespace Emulator.Fuzz.Tests.Support;

/// <summary>
/// What every emu command owes a user who gives it a bad file or argument: a failure is one
/// line on stderr (docs/testing.md, "Fuzzing"), never a stack trace; the input files keep their
/// bytes. Violations throw <see cref="FuzzFailure"/>, which no target lists as expected.
/// </summary>
public static class CliProperties
{
    /// <summary>
    /// Status 2 (bad input) comes with exactly one line; status 1 (ran, answer no — e.g. <c>vars
    /// check</c> on a damaged store, whose report goes to stdout) with at most one. The usage text
    /// for an empty command line is the one exception.
    /// </summary>
    public static void AssertOneLineOnFailure(IReadOnlyList<string> args, int status, string stderr)
    {
        if (status == 0 || args.Count == 0)
        {
            return;
        }

        string[] lines = stderr.TrimEnd('\n').Split('\n');
        bool oneLine = status == 2 ? lines.Length == 1 && lines[0].Length > 0 : lines.Length <= 1;
        if (!oneLine || stderr.Contains("   at ", StringComparison.Ordinal))
        {
            throw new FuzzFailure($"exit status {status} with {lines.Length} line(s) on stderr for [{string.Join(' ', args)}]: {stderr}");
        }
    }

    /// <summary>The SHA-256 of a file, or null when it does not exist (to check that a command left it as it was).</summary>
    public static string? Digest(string path) =>
        File.Exists(path) ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) : null;

    public static void AssertUnchanged(string path, string? before)
    {
        if (Digest(path) != before)
        {
            throw new FuzzFailure($"the command changed its input file '{Path.GetFileName(path)}'");
        }
    }

    /// <summary>A seed input kept in tests/Emulator.Fuzz.Tests/Inputs (small files made by emu itself, no firmware).</summary>
    public static byte[] Input(string name)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "tests", "Emulator.Fuzz.Tests", "Inputs", name);
            if (File.Exists(path))
            {
                return File.ReadAllBytes(path);
            }
        }

        Assert.Fail($"seed input {name} missing from tests/Emulator.Fuzz.Tests/Inputs");
        return [];
    }

    /// <summary>A directory of its own under the temporary directory, removed with its files on dispose.</summary>
    public sealed class ScratchDirectory : IDisposable
    {
        public ScratchDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "emu-fuzz-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
