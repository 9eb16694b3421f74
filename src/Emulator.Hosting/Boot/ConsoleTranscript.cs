using System.Text;

namespace Emulator.Hosting.Boot;

/// <summary>
/// Everything the guest printed on the serial console, kept twice: the raw bytes (for the report,
/// capped at <see cref="MaxRawBytes"/>) and a plain-text view with ANSI escape sequences removed,
/// which is what patterns are matched against — OVMF colours and positions its text with CSI
/// sequences (<c>ESC [ 1 m</c>, <c>ESC [ 05 ; 01 H</c>), so "Press ESC in 5 seconds" only
/// appears contiguously once they are stripped. Bytes are read as Latin-1: the console text
/// the firmware prints is ASCII.
/// </summary>
internal sealed class ConsoleTranscript
{
    public const int MaxRawBytes = 4 << 20;

    private readonly MemoryStream _raw = new();
    private readonly StringBuilder _text = new();
    private readonly List<Watch> _watches = [];
    private EscapeState _escape;

    private enum EscapeState
    {
        None,
        Escape,
        ControlSequence,
    }

    /// <summary>Bytes printed in all (also those beyond the raw cap).</summary>
    public long BytesPrinted { get; private set; }

    public bool Truncated => BytesPrinted > _raw.Length;

    /// <summary>The printed text without escape sequences (and without NUL and carriage returns kept as they are).</summary>
    public string Text => _text.ToString();

    public int TextLength => _text.Length;

    /// <summary>The raw console output (up to <see cref="MaxRawBytes"/>), decoded as Latin-1.</summary>
    public string RawText => Encoding.Latin1.GetString(_raw.GetBuffer(), 0, (int)_raw.Length);

    /// <summary>
    /// Calls <paramref name="matched"/> once, when <paramref name="pattern"/> has been printed
    /// after text position <paramref name="from"/>; the argument is the position just past the match.
    /// </summary>
    public void WatchFor(string pattern, int from, Action<int> matched)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        var watch = new Watch(pattern, from, matched);
        int found = _text.ToString(from, _text.Length - from).IndexOf(pattern, StringComparison.Ordinal);
        if (found >= 0)
        {
            matched(from + found + pattern.Length);
            return;
        }

        _watches.Add(watch);
    }

    /// <summary>Counts bytes printed beyond the raw cap by a run this one continues (a restored state).</summary>
    public void CountUnkept(long bytes) => BytesPrinted += bytes;

    public void Append(byte b)
    {
        BytesPrinted++;
        if (_raw.Length < MaxRawBytes)
        {
            _raw.WriteByte(b);
        }

        char c = (char)b;
        switch (_escape)
        {
            case EscapeState.Escape:
                _escape = c == '[' ? EscapeState.ControlSequence : EscapeState.None;
                return;
            case EscapeState.ControlSequence:
                // ECMA-48: parameter and intermediate bytes 0x20–0x3F, final byte 0x40–0x7E.
                if (c is >= '@' and <= '~')
                {
                    _escape = EscapeState.None;
                }

                return;
        }

        if (c == '\x1b')
        {
            _escape = EscapeState.Escape;
            return;
        }

        if (c == '\0')
        {
            return;
        }

        _text.Append(c);
        if (_watches.Count > 0)
        {
            Check(c);
        }
    }

    private void Check(char last)
    {
        for (int i = 0; i < _watches.Count; i++)
        {
            var w = _watches[i];
            string p = w.Pattern;
            if (p[^1] != last || _text.Length - w.From < p.Length || !EndsWith(p))
            {
                continue;
            }

            _watches.RemoveAt(i);
            i--;
            w.Matched(_text.Length);
        }
    }

    private bool EndsWith(string pattern)
    {
        int start = _text.Length - pattern.Length;
        for (int i = 0; i < pattern.Length; i++)
        {
            if (_text[start + i] != pattern[i])
            {
                return false;
            }
        }

        return true;
    }

    private sealed record Watch(string Pattern, int From, Action<int> Matched);
}
