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
    /// A failure says why in one line of its own, <c>emu: reason</c>: status 2 (bad input) ends
    /// with that line; every line on stderr is such a line (a warning before the error, such as
    /// compare's "no CODE/VARS verdict", is one too) — never a stack trace or a multi-line message.
    /// The usage text for an empty command line is one exception; the other is <c>boot</c>'s
    /// compat verdict for a mismatched pair, a report of several lines printed before it goes on
    /// (<c>--force</c>) or stops — whose error is then still the last line.
    /// </summary>
    public static void AssertOneLineOnFailure(IReadOnlyList<string> args, int status, string stderr)
    {
        if (status == 0 || args.Count == 0)
        {
            return;
        }

        string[] lines = stderr.Length == 0 ? [] : stderr.TrimEnd('\n').Split('\n');
        bool verdictFirst = args[0] == "boot";
        bool oneLineEach = lines.All(l => verdictFirst || l.StartsWith("emu: ", StringComparison.Ordinal))
            && (status != 2 || (lines.Length > 0 && lines[^1].StartsWith("emu: ", StringComparison.Ordinal)));
        if (!oneLineEach || stderr.Contains("   at ", StringComparison.Ordinal) || stderr.Contains("Unhandled exception", StringComparison.Ordinal))
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
    public static byte[] Input(string name) => File.ReadAllBytes(InRepository(Path.Combine("tests", "Emulator.Fuzz.Tests", "Inputs", name)));

    /// <summary>The path of a pinned fixture (firmware-fixtures/cache), for commands that take a file name and only read it.</summary>
    public static string FixturePath(string name) => InRepository(Path.Combine("firmware-fixtures", "cache", name));

    private static string InRepository(string relative)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, relative);
            if (File.Exists(path))
            {
                return path;
            }
        }

        Assert.Fail($"{relative} missing (fixtures: run firmware-fixtures/fetch.sh)");
        return string.Empty;
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
