namespace Emulator.Hosting.Serial;

/// <summary>
/// What a terminal on the serial console would show: a grid of characters fed with the bytes the
/// guest prints, interpreting the subset of VT100/ANSI (ECMA-48) that EDK II's TerminalDxe emits —
/// printable text (UTF-8: OVMF's console is a VT-UTF8 terminal, its box drawing arrives as
/// U+25xx), CR, LF, BS, TAB, <c>ESC [ row ; col H</c> (and <c>f</c>), cursor moves <c>A B C D</c>,
/// erase <c>J</c> and <c>K</c>, and scrolling at the bottom line; attributes (<c>m</c>) and modes
/// other than the size are ignored. A character written in the last column wraps only when the
/// next one comes, as on a VT100, so a full-width line does not scroll.
///
/// The size is what the firmware's text mode is: 80x25 at first and after <c>ESC [ = 3 h</c>
/// (TerminalDxe's SetMode string, the PC ANSI 80x25 mode); the xterm resize <c>ESC [ 8 ; rows ;
/// cols t</c> that newer TerminalDxe sends for modes other than 0 sets it; and since older
/// TerminalDxe (edk2 before 2025.02) sends the same <c>ESC [ = 3 h</c> for every mode, a cursor
/// position beyond the screen grows it to that row or column (the firmware addresses only cells
/// of its mode; BDS's setup pages run 80x50 on a serial-only machine). Sizes are capped at
/// <see cref="MaxRows"/> by <see cref="MaxColumns"/>.
/// </summary>
internal sealed class TerminalScreen
{
    public const int DefaultColumns = 80;
    public const int DefaultRows = 25;
    public const int MaxColumns = 255;
    public const int MaxRows = 255;

    private const int MaxParameters = 8;
    private const int TabStop = 8;

    private readonly List<char[]> _lines = [];
    private readonly int[] _parameters = new int[MaxParameters];
    private State _state;
    private int _parameterCount;
    private char _private;
    private int _column;
    private int _row;
    private bool _wrapPending;
    private int _utf8Remaining;
    private int _utf8Value;

    public TerminalScreen()
    {
        Resize(DefaultRows, DefaultColumns);
    }

    private enum State
    {
        Text,
        Escape,
        ControlSequence,
    }

    public int Columns { get; private set; }

    public int Rows => _lines.Count;

    /// <summary>The cursor, zero-based.</summary>
    public (int Row, int Column) Cursor => (_row, _column);

    /// <summary>The screen's lines, top to bottom, trailing spaces trimmed.</summary>
    public IReadOnlyList<string> Text() => _lines.Select(l => new string(l).TrimEnd(' ')).ToList();

    public void Write(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            Write(b);
        }
    }

    public void Write(byte b)
    {
        switch (_state)
        {
            case State.Escape:
                // ESC [ opens a control sequence; other escapes (ESC c, ESC 7 ...) take one byte and are ignored.
                _state = b == '[' ? State.ControlSequence : State.Text;
                _parameterCount = 0;
                _private = '\0';
                Array.Clear(_parameters);
                return;
            case State.ControlSequence:
                ControlSequenceByte(b);
                return;
        }

        if (_utf8Remaining > 0 && (b & 0xC0) == 0x80)
        {
            _utf8Value = (_utf8Value << 6) | (b & 0x3F);
            if (--_utf8Remaining == 0)
            {
                Print(_utf8Value is >= 0x80 and <= 0xFFFF ? (char)_utf8Value : '\uFFFD');
            }

            return;
        }

        if (_utf8Remaining > 0)
        {
            // A sequence cut short: what came shows as one replacement character.
            _utf8Remaining = 0;
            Print('\uFFFD');
        }

        switch (b)
        {
            case 0x1B:
                _state = State.Escape;
                break;
            case (byte)'\r':
                _column = 0;
                _wrapPending = false;
                break;
            case (byte)'\n':
                LineFeed();
                break;
            case (byte)'\b':
                _column = Math.Max(0, _column - 1);
                _wrapPending = false;
                break;
            case (byte)'\t':
                _column = Math.Min(Columns - 1, ((_column / TabStop) + 1) * TabStop);
                break;
            case < 0x20 or 0x7F:
                break;
            case < 0x80:
                Print((char)b);
                break;
            case >= 0xC2 and <= 0xDF:
                (_utf8Remaining, _utf8Value) = (1, b & 0x1F);
                break;
            case >= 0xE0 and <= 0xEF:
                (_utf8Remaining, _utf8Value) = (2, b & 0x0F);
                break;
            case >= 0xF0 and <= 0xF4:
                (_utf8Remaining, _utf8Value) = (3, b & 0x07);
                break;
            default:
                Print('\uFFFD');
                break;
        }
    }

    private void ControlSequenceByte(byte b)
    {
        // ECMA-48 5.4: parameter bytes 0x30–0x3F (digits, ';', private markers such as '=' and '?'),
        // intermediate bytes 0x20–0x2F, then one final byte 0x40–0x7E.
        if (b is >= (byte)'0' and <= (byte)'9')
        {
            _parameterCount = Math.Max(_parameterCount, 1);
            ref int p = ref _parameters[_parameterCount - 1];
            p = Math.Min(9999, (p * 10) + (b - '0'));
        }
        else if (b == ';')
        {
            _parameterCount = Math.Min(MaxParameters, Math.Max(_parameterCount, 1) + 1);
        }
        else if (b is (byte)'=' or (byte)'?' or (byte)'<' or (byte)'>')
        {
            _private = (char)b;
        }
        else if (b is >= 0x40 and <= 0x7E)
        {
            _state = State.Text;
            Execute((char)b);
        }
        else if (b is not (>= 0x20 and <= 0x2F))
        {
            // Anything else (a control byte) aborts the sequence.
            _state = State.Text;
        }
    }

    private void Execute(char final)
    {
        int first = Parameter(0, 1);
        switch (final)
        {
            case 'H' or 'f' when _private == '\0':
                MoveTo(Parameter(0, 1) - 1, Parameter(1, 1) - 1);
                break;
            case 'A':
                MoveTo(_row - first, _column);
                break;
            case 'B':
                MoveTo(_row + first, _column);
                break;
            case 'C':
                MoveTo(_row, _column + first);
                break;
            case 'D':
                MoveTo(_row, _column - first);
                break;
            case 'J':
                EraseDisplay(Parameter(0, 0));
                break;
            case 'K':
                EraseLine(_row, Parameter(0, 0));
                break;
            case 'h' when _private == '=' && Parameter(0, 0) == 3:
                Resize(DefaultRows, DefaultColumns);
                break;
            case 't' when _private == '\0' && Parameter(0, 0) == 8:
                Resize(Parameter(1, Rows), Parameter(2, Columns));
                break;
        }
    }

    /// <summary>Parameter <paramref name="index"/>; absent or 0 means <paramref name="absent"/> for counts and positions (ECMA-48 defaults).</summary>
    private int Parameter(int index, int absent) =>
        index < _parameterCount && _parameters[index] != 0 ? _parameters[index] : absent;

    /// <summary>Cursor to a zero-based cell; beyond the screen it grows (see the class summary), before it it stops at the edge.</summary>
    private void MoveTo(int row, int column)
    {
        if (row >= Rows || column >= Columns)
        {
            Resize(Math.Max(Rows, row + 1), Math.Max(Columns, column + 1));
        }

        _row = Math.Clamp(row, 0, Rows - 1);
        _column = Math.Clamp(column, 0, Columns - 1);
        _wrapPending = false;
    }

    private void Print(char c)
    {
        if (_wrapPending)
        {
            _column = 0;
            LineFeed();
        }

        _lines[_row][_column] = c;
        if (_column == Columns - 1)
        {
            _wrapPending = true;
        }
        else
        {
            _column++;
        }
    }

    private void LineFeed()
    {
        _wrapPending = false;
        if (_row < Rows - 1)
        {
            _row++;
            return;
        }

        // Scrolling: the top line leaves, a blank one enters at the bottom.
        char[] top = _lines[0];
        _lines.RemoveAt(0);
        Array.Fill(top, ' ');
        _lines.Add(top);
    }

    private void EraseDisplay(int mode)
    {
        switch (mode)
        {
            case 0:
                EraseLine(_row, 0);
                for (int r = _row + 1; r < Rows; r++)
                {
                    EraseLine(r, 2);
                }

                break;
            case 1:
                for (int r = 0; r < _row; r++)
                {
                    EraseLine(r, 2);
                }

                EraseLine(_row, 1);
                break;
            default:
                for (int r = 0; r < Rows; r++)
                {
                    EraseLine(r, 2);
                }

                break;
        }
    }

    /// <summary>Erase in line: 0 cursor to end, 1 start to cursor, 2 the whole line.</summary>
    private void EraseLine(int row, int mode)
    {
        char[] line = _lines[row];
        int from = mode == 0 ? _column : 0;
        int to = mode == 1 ? _column + 1 : Columns;
        Array.Fill(line, ' ', from, to - from);
    }

    private void Resize(int rows, int columns)
    {
        rows = Math.Clamp(rows, 1, MaxRows);
        columns = Math.Clamp(columns, 1, MaxColumns);
        for (int r = 0; r < _lines.Count; r++)
        {
            if (_lines[r].Length != columns)
            {
                char[] line = new char[columns];
                Array.Fill(line, ' ');
                _lines[r].AsSpan(0, Math.Min(columns, _lines[r].Length)).CopyTo(line);
                _lines[r] = line;
            }
        }

        while (_lines.Count < rows)
        {
            char[] line = new char[columns];
            Array.Fill(line, ' ');
            _lines.Add(line);
        }

        if (_lines.Count > rows)
        {
            _lines.RemoveRange(rows, _lines.Count - rows);
        }

        Columns = columns;
        _row = Math.Min(_row, rows - 1);
        _column = Math.Min(_column, columns - 1);
        _wrapPending = false;
    }
}
