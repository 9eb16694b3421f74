namespace Emulator.Cli.Vars;

/// <summary>The store is fine but holds no such variable: one line on stderr, exit status 1.</summary>
public sealed class VariableNotFoundException(string message) : Exception(message);
