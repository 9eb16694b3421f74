namespace Emulator.Core.Cpu.Jit;

/// <summary>
/// A block compiled by <see cref="BlockCompiler"/>. It runs the block once, or, for a block that
/// branches back to its own start (a tight loop), again and again while the run loop would have
/// run it again: no block exit, the instruction limit and the next timer deadline not reached,
/// and at most <paramref name="maxRuns"/> runs (what is left of the run loop's slice). Returns the
/// runs made, which the run loop counts as blocks, so slices end where they end interpreted.
/// </summary>
internal delegate int CompiledBlock(Cpu cpu, DecodedOp[] ops, long instructionLimit, int maxRuns);
