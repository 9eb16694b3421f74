using Emulator.Hosting.Compare;

namespace Emulator.Hosting.Tests.Compare;

/// <summary>The console diff compare prints: LCS alignment, folded common runs, CR and ESC handling.</summary>
[Trait("Category", "Unit")]
public class ConsoleLineDiffTests
{
    [Fact]
    public void IdenticalTextIsSameWithNoLines()
    {
        var d = ConsoleLineDiff.Compare("a\r\nb\r\n", "a\r\nb\r\n");
        Assert.True(d.Same);
        Assert.Empty(d.Lines);
    }

    [Fact]
    public void OneChangedLineInTheMiddleKeepsTwoLinesOfContextEachSide()
    {
        string b = string.Join("\r\n", Enumerable.Range(0, 20).Select(i => $"line {i}"));
        string c = b.Replace("line 10", "LINE 10", StringComparison.Ordinal).Replace("line 15", "line 15\r\n\x1b[0mextra", StringComparison.Ordinal);

        var d = ConsoleLineDiff.Compare(b, c);

        Assert.False(d.Same);
        Assert.Equal(20, d.BaselineLines);
        Assert.Equal(21, d.CandidateLines);
        Assert.Equal(
            [
                "@@ 8 common line(s) @@", "  line 8", "  line 9", "- line 10", "+ LINE 10", "  line 11", "  line 12",
                "  line 13", "  line 14", "  line 15", "+ \\e[0mextra", "  line 16", "  line 17", "@@ 2 common line(s) @@",
            ],
            d.Lines);
    }

    [Fact]
    public void OnlyAnEmptySideIsAllAddedOrAllRemoved()
    {
        var d = ConsoleLineDiff.Compare(string.Empty, "x\ny");
        Assert.Equal(["+ x", "+ y"], d.Lines);
    }
}
