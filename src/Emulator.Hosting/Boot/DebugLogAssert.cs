using System.Text;

namespace Emulator.Hosting.Boot;

/// <summary>
/// Keeps the last <c>ASSERT</c> line a DEBUG build wrote to its debug console, so a hang can say
/// why the firmware stopped: edk2's DebugAssert (MdePkg/Library/BaseDebugLibSerialPort, and
/// OVMF's PlatformDebugLibIoPort) prints "ASSERT [Module] File(Line): Expression" and then, with
/// DEBUG_PROPERTY_ASSERT_DEADLOOP_ENABLED set as OVMF sets it, spins in CpuDeadLoop.
/// </summary>
internal sealed class DebugLogAssert
{
    /// <summary>Longer lines are cut: the report keeps one line, not a log.</summary>
    private const int MaxLine = 240;

    private readonly StringBuilder _line = new();

    /// <summary>The last complete ASSERT line, or null before the first.</summary>
    public string? LastAssert { get; private set; }

    /// <summary>Wraps a debug console output so every byte is also seen here.</summary>
    public Action<byte> Tee(Action<byte> output) => b =>
    {
        Add(b);
        output(b);
    };

    public void Add(byte b)
    {
        if (b == (byte)'\n' || b == (byte)'\r')
        {
            string line = _line.ToString().Trim();
            if (line.StartsWith("ASSERT", StringComparison.Ordinal))
            {
                LastAssert = line;
            }

            _line.Clear();
        }
        else if (_line.Length < MaxLine && b >= 0x20 && b < 0x7F)
        {
            _line.Append((char)b);
        }
    }
}
