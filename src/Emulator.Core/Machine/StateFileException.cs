namespace Emulator.Core.Machine;

/// <summary>A state file that cannot be restored (truncated, damaged, another format version, not a state file): the message is one line for the user.</summary>
public sealed class StateFileException(string message) : Exception(message);
