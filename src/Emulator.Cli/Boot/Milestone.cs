namespace Emulator.Cli.Boot;

/// <summary>
/// A named point of the boot and when it was first reached: instruction index (instructions
/// executed before it), wall time since the run started, and virtual time in nanoseconds.
/// </summary>
public sealed record Milestone(string Name, long Instruction, ulong Address, int Mode, double WallMs, long VirtualNs);
