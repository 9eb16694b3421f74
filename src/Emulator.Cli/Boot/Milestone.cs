namespace Emulator.Cli.Boot;

/// <summary>A named point of the boot and when it was first reached (instruction index = instructions executed before it).</summary>
public sealed record Milestone(string Name, long Instruction, ulong Address, int Mode, double WallMs);
