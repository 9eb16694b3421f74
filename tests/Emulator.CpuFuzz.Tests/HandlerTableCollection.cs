namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// The classes that run emu's CPU: one of them replaces a handler in the process-wide dispatch
/// table (<see cref="BrokenHandlerTests"/>), so none of them runs alongside it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HandlerTableCollection
{
    public const string Name = "emu's handler table";
}
