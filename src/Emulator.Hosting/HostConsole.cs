namespace Emulator.Hosting;

/// <summary>
/// What the process is attached to: stdin (for live console input) and whether stdin and
/// stderr are terminals (raw mode, wall-clock pacing, the status line). The real process gets
/// <see cref="FromProcess"/>; in-process callers such as tests get <see cref="None"/>, so a run
/// never reads the test runner's stdin or draws on its terminal.
/// </summary>
public sealed record HostConsole(Func<Stream>? OpenStdin, bool StdinIsTerminal, bool StderrIsTerminal)
{
    /// <summary>No stdin and no terminals: for harnesses and tests.</summary>
    public static readonly HostConsole None = new(null, false, false);

    /// <summary>This process's stdin (raw, unbuffered) and whether stdin and stderr are terminals.</summary>
    public static HostConsole FromProcess() =>
        new(OpenRawStdin, !Console.IsInputRedirected, !Console.IsErrorRedirected);

    /// <summary>
    /// File descriptor 0 as it is, unbuffered. Not Console.OpenStandardInput: on a terminal .NET
    /// reads that through its own line editor (echoing, and holding every byte until Enter), so a
    /// lone ESC at the firmware's countdown would never arrive.
    /// </summary>
    private static Stream OpenRawStdin() =>
        new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
}
