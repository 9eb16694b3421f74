namespace Emulator.Cli;

/// <summary>
/// What the process is attached to: stdin (for live console input) and whether stdin and
/// stderr are terminals (raw mode, wall-clock pacing, the status line). The real process gets
/// <see cref="FromProcess"/>; in-process callers such as tests get <see cref="None"/>, so a run
/// never reads the test runner's stdin or draws on its terminal.
/// </summary>
public sealed record HostConsole(Func<Stream>? OpenStdin, bool StdinIsTerminal, bool StderrIsTerminal)
{
    public static readonly HostConsole None = new(null, false, false);

    public static HostConsole FromProcess() =>
        new(Console.OpenStandardInput, !Console.IsInputRedirected, !Console.IsErrorRedirected);
}
