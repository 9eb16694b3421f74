namespace Emulator.Hosting;

/// <summary>Bad input or usage: printed as one line on stderr, exit status 2.</summary>
public sealed class UsageException(string message) : Exception(message)
{
    /// <summary>
    /// <paramref name="message"/> as one line: messages quote what the user gave (arguments, file
    /// names, values from files), which may hold line breaks or other control characters; those
    /// are shown as escapes (\n, \x1b) so the error stays one line on the terminal and in logs.
    /// </summary>
    public static string OneLine(string message) =>
        string.Concat(message.TrimEnd('\n', '\r').Select(c => c switch
        {
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\t",
            _ when char.IsControl(c) => $"\\x{(int)c:x2}",
            _ => c.ToString(),
        }));
}
