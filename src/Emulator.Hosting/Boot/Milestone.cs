namespace Emulator.Hosting.Boot;

/// <summary>
/// A named point of the boot and when it was first reached in boot <paramref name="Boot"/> (0 from
/// power-on, one more after each machine reset): instruction index (instructions executed before
/// it, counted from power-on), wall time since the run started, and virtual time in nanoseconds;
/// for <c>idle</c>, the lines the console's screen showed then; for <c>loader</c>, the image started.
/// </summary>
public sealed record Milestone(string Name, long Instruction, ulong Address, int Mode, double WallMs, long VirtualNs, int Boot = 0, IReadOnlyList<string>? Screen = null, LoadedImage? Image = null);
