using System.Text;
using Emulator.Hosting.Serial;

namespace Emulator.Hosting.Tests.Serial;

/// <summary>The console's screen model: what a VT100-style terminal would show for the bytes OVMF prints.</summary>
[Trait("Category", "Unit")]
public class TerminalScreenTests
{
    private const string Esc = "\x1b";

    [Fact]
    public void TextGoesWhereTheCursorIsAndCrLfStartsTheNextLine()
    {
        var screen = Feed("UEFI Interactive Shell v2.2\r\nEDK II\r\nShell> ");

        Assert.Equal((TerminalScreen.DefaultRows, TerminalScreen.DefaultColumns), (screen.Rows, screen.Columns));
        Assert.Equal(["UEFI Interactive Shell v2.2", "EDK II", "Shell>"], screen.Text().Take(3));
        Assert.All(screen.Text().Skip(3), line => Assert.Equal(string.Empty, line));
        Assert.Equal((2, 7), screen.Cursor);
    }

    [Fact]
    public void ABootManagerStyleMenuIsDrawnByPositioningTheCursor()
    {
        // As the form browser draws: clear, colours, a frame of box-drawing characters (UTF-8 on
        // OVMF's VT-UTF8 terminal), items written at their cells, then the highlight moved by
        // rewriting two items with other attributes.
        var screen = Feed(
            $"{Esc}[2J{Esc}[01;01H{Esc}[0m{Esc}[37m{Esc}[40m" +
            $"{Esc}[02;05H┌──────────────────┐" +
            $"{Esc}[03;05H│{Esc}[03;24H│" +
            $"{Esc}[04;05H│{Esc}[04;24H│" +
            $"{Esc}[05;05H└──────────────────┘" +
            $"{Esc}[03;07H{Esc}[1m{Esc}[37m{Esc}[46mUEFI Shell{Esc}[0m" +
            $"{Esc}[04;07HEFI Floppy" +
            $"{Esc}[03;07H{Esc}[0m{Esc}[37m{Esc}[40mUEFI Shell" +
            $"{Esc}[04;07H{Esc}[1m{Esc}[46mEFI Network{Esc}[0m" +
            $"{Esc}[25;03H^v=Move Highlight");

        var text = screen.Text();
        Assert.Equal(string.Empty, text[0]);
        Assert.Equal("    ┌──────────────────┐", text[1]);
        Assert.Equal("    │ UEFI Shell       │", text[2]);
        Assert.Equal("    │ EFI Network      │", text[3]);
        Assert.Equal("    └──────────────────┘", text[4]);
        Assert.Equal("  ^v=Move Highlight", text[24]);
        Assert.Equal((24, 19), screen.Cursor);
    }

    [Fact]
    public void RelativeMovesBackspaceAndTabStayOnTheScreen()
    {
        var screen = Feed($"abc\bX{Esc}[5B{Esc}[2Cy{Esc}[9A{Esc}[99Dz\tT");

        var text = screen.Text();
        Assert.Equal("zbX     T", text[0]);
        Assert.Equal("     y", text[5]);
    }

    [Fact]
    public void EraseInLineAndInDisplayClearTheirParts()
    {
        string fill = string.Concat(Enumerable.Range(0, 3).Select(r => $"{Esc}[{r + 1};1H0123456789"));

        Assert.Equal(["0123", "0123456789", "0123456789"], Feed(fill + $"{Esc}[1;5H{Esc}[K").Text().Take(3));
        Assert.Equal(["     56789", "0123456789"], Feed(fill + $"{Esc}[1;5H{Esc}[1K").Text().Take(2));
        Assert.Equal([string.Empty, "0123456789"], Feed(fill + $"{Esc}[1;5H{Esc}[2K").Text().Take(2));
        Assert.Equal(["0123456789", "01", string.Empty], Feed(fill + $"{Esc}[2;3H{Esc}[J").Text().Take(3));
        Assert.Equal([string.Empty, "   3456789", "0123456789"], Feed(fill + $"{Esc}[2;3H{Esc}[1J").Text().Take(3));
        Assert.All(Feed(fill + $"{Esc}[2J").Text(), line => Assert.Equal(string.Empty, line));
    }

    [Fact]
    public void ALineFeedOnTheBottomLineScrolls()
    {
        var screen = Feed(string.Concat(Enumerable.Range(1, 26).Select(i => $"line {i}\r\n")));

        var text = screen.Text();
        Assert.Equal("line 3", text[0]);
        Assert.Equal("line 26", text[23]);
        Assert.Equal(string.Empty, text[24]);
    }

    [Fact]
    public void AFullWidthLineWrapsOnlyWhenTheNextCharacterComes()
    {
        string full = new('=', 80);

        Assert.Equal([full, "next"], Feed(full + "\r\nnext").Text().Take(2));
        Assert.Equal([full, "+"], Feed(full + "+").Text().Take(2));
    }

    [Fact]
    public void TheSizeFollowsTheTerminalDriversModes()
    {
        var screen = Feed($"{Esc}[8;31;100t");
        Assert.Equal((31, 100), (screen.Rows, screen.Columns));

        screen.Write(Encoding.ASCII.GetBytes($"{Esc}[=3h"));
        Assert.Equal((25, 80), (screen.Rows, screen.Columns));

        // Older TerminalDxe announces every mode as ESC [ = 3 h: a position beyond the screen grows it.
        screen.Write(Encoding.ASCII.GetBytes($"{Esc}[50;01Hbottom"));
        Assert.Equal((50, 80), (screen.Rows, screen.Columns));
        Assert.Equal("bottom", screen.Text()[49]);

        screen.Write(Encoding.ASCII.GetBytes($"{Esc}[999;999H"));
        Assert.Equal((TerminalScreen.MaxRows, TerminalScreen.MaxColumns), (screen.Rows, screen.Columns));
    }

    [Fact]
    public void BytesThatAreNotUtf8ShowAsReplacementCharacters()
    {
        var screen = new TerminalScreen();
        screen.Write([(byte)'a', 0xC4, (byte)'b', 0xFF, 0xE2, 0x94, 0x80, 0x00, 0x07]);

        Assert.Equal("a\uFFFDb\uFFFD─", screen.Text()[0]);
    }

    private static TerminalScreen Feed(string text)
    {
        var screen = new TerminalScreen();
        screen.Write(Encoding.UTF8.GetBytes(text));
        return screen;
    }
}
