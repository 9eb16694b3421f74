using System.Text;
using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Serial;
using Emulator.Hosting;

namespace Emulator.Boot.Tests;

/// <summary>The console transcript, the escapes of typed text, and scripted input delivered as the guest reads.</summary>
[Trait("Category", "Fixture")]
public class ConsoleScriptTests
{
    [Fact]
    public void EscapesDecodeToBytes()
    {
        Assert.Equal("ver\r\n\t\x1b\\A"u8.ToArray(), TextEscapes.Decode("--send", @"ver\r\n\t\e\\\x41"));
    }

    [Theory]
    [InlineData(@"oops\q", "unknown escape")]
    [InlineData(@"end\", "at the end")]
    [InlineData(@"\x4", "unknown escape")]
    [InlineData("caf\u20ac", "single-byte")]
    public void BadEscapesAreUsageErrors(string text, string message)
    {
        var e = Assert.Throws<UsageException>(() => TextEscapes.Decode("--send", text));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TranscriptStripsEscapeSequencesForMatching()
    {
        var t = new ConsoleTranscript();
        int matchedAt = -1;
        t.WatchFor("Press ESC in 5", 0, end => matchedAt = end);
        Print(t, "\x1b[05;01HPress \x1b[1m\x1b[37m\x1b[40mESC\x1b[0m in 5 seconds");

        Assert.Equal("Press ESC in 5".Length, matchedAt);
        Assert.Equal("Press ESC in 5 seconds", t.Text);
        Assert.StartsWith("\x1b[05;01H", t.RawText, StringComparison.Ordinal);
    }

    [Fact]
    public void AWatchForTextAlreadyPrintedMatchesAtOnceButOnlyAfterItsStart()
    {
        var t = new ConsoleTranscript();
        Print(t, "Shell> ver\r\nShell> ");
        var ends = new List<int>();
        t.WatchFor("Shell>", 0, ends.Add);
        t.WatchFor("Shell>", 6, ends.Add);
        t.WatchFor("Shell>", t.TextLength, ends.Add);
        Assert.Equal([6, 18], ends);

        Print(t, "Shell>");
        Assert.Equal([6, 18, 25], ends);
    }

    [Fact]
    public void ScriptTypesOnlyAfterEachExpectation()
    {
        var t = new ConsoleTranscript();
        var script = new SerialScript(
            [Send("a"), Expect("go>"), Send("bc"), Expect("go>"), Send("d")],
            t);
        bool finished = false;
        script.Finished += () => finished = true;

        Assert.Equal('a', script.Next());
        Assert.Equal(-1, script.Next());
        Print(t, "ready, go");
        Assert.Equal(-1, script.Next());
        Print(t, ">");
        Assert.Equal('b', script.Next());
        Assert.Equal('c', script.Next());

        // The second expectation needs a new "go>" after the first one's match.
        Assert.Equal(-1, script.Next());
        Print(t, "go>");
        Assert.False(finished);
        Assert.Equal('d', script.Next());
        Assert.True(finished);
        Assert.True(script.Done);
        Assert.Equal(-1, script.Next());
    }

    [Fact]
    public void OptionsKeepTheOrderOfInputSteps()
    {
        var o = BootOptionsParser.Parse(["--code", "c.fd", "--serial-input", "x", "--expect", "A", "--send", "y", "--expect", "B"]);
        Assert.Equal(
            [("--serial-input", "x"), ("--expect", "A"), ("--send", "y"), ("--expect", "B")],
            o.SerialSteps);
    }

    [Theory]
    [InlineData("--expect", "-")]
    [InlineData("--pace", "sometimes")]
    [InlineData("--rtc-start", "yesterday")]
    public void BadConsoleOptionsAreRejected(string option, string value)
    {
        var r = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code2M), option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("emu: ", r.Stderr, StringComparison.Ordinal);
    }

    private static SerialScript.Step Send(string text) => new(Encoding.ASCII.GetBytes(text), null);

    private static SerialScript.Step Expect(string text) => new(null, text);

    private static void Print(ConsoleTranscript t, string text)
    {
        foreach (char c in text)
        {
            t.Append((byte)c);
        }
    }
}
