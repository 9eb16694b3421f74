namespace Emulator.Cli.CommandLine;

/// <summary>Bad input or usage: printed as one line on stderr, exit status 2.</summary>
public sealed class UsageException(string message) : Exception(message);
