namespace Emulator.Cli.CommandLine;

/// <summary>What each command does with its parsed arguments (<see cref="CommandDispatcher"/> fills it in), and where output goes.</summary>
public sealed record CommandActions(Stream Stdout, TextWriter Stderr)
{
    public required Func<ParsedArguments, int> Boot { get; init; }

    public required Func<ParsedArguments, int> Bench { get; init; }

    public required Func<ParsedArguments, int> Compat { get; init; }

    public required Func<ParsedArguments, int> Inspect { get; init; }

    public required Func<ParsedArguments, int> FirmwareList { get; init; }

    /// <summary>A vars subcommand (list, get, check, set, delete, convert) by name.</summary>
    public required Func<string, ParsedArguments, int> Vars { get; init; }

    public required Func<ParsedArguments, int> Compare { get; init; }

    public required Func<ParsedArguments, int> Matrix { get; init; }
}
