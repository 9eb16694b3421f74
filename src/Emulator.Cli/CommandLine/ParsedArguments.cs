using System.CommandLine;
using System.CommandLine.Parsing;

namespace Emulator.Cli.CommandLine;

/// <summary>
/// What System.CommandLine parsed for the chosen command, read by option name: the commands ask
/// for <c>--code</c> as the user spelled it, and keep their own checks of what goes with what.
/// </summary>
public sealed class ParsedArguments(ParseResult result)
{
    private readonly Command _command = result.CommandResult.Command;

    /// <summary>The command's positional arguments that were given, in order.</summary>
    public IReadOnlyList<string> Positionals =>
        [.. _command.Arguments.SelectMany(a => result.GetResult(a)?.Tokens.Select(t => t.Value) ?? [])];

    public bool Has(string name) => result.GetResult(Find(name)) is { Implicit: false };

    /// <summary>The value as given (for a repeatable option, the last one); null when the option is absent.</summary>
    public string? Get(string name) => result.GetResult(Find(name)) is { Implicit: false } r ? r.Tokens.LastOrDefault()?.Value : null;

    /// <summary>A whole-number option's value (<see cref="CommandOptions.Count"/>), checked while parsing.</summary>
    public long? GetLong(string name) => result.GetValue((Option<long?>)Find(name));

    /// <summary>A size option's value in bytes (<see cref="CommandOptions.Size"/>), checked while parsing.</summary>
    public ulong? GetSize(string name) => result.GetValue((Option<ulong?>)Find(name));

    /// <summary>
    /// Every value of the repeatable options, in command-line order across options: --expect and
    /// --send are steps of one script, so their interleaving matters, and System.CommandLine keeps
    /// each option's values apart. The tokens are the parse's own, so their place is found by identity.
    /// </summary>
    public IReadOnlyList<(string Name, string Value)> GetAll()
    {
        var tokens = result.Tokens;
        int IndexOf(Token token)
        {
            for (int i = 0; i < tokens.Count; i++)
            {
                if (ReferenceEquals(tokens[i], token))
                {
                    return i;
                }
            }

            return int.MaxValue;
        }

        // Loops over a class rather than LINQ over value tuples: every LINQ instantiation over a
        // tuple is framework code ReadyToRun cannot precompile, and this runs before every boot.
        var given = new List<GivenValue>();
        foreach (var option in _command.Options)
        {
            if (CommandOptions.IsRepeatable(option) && result.GetResult(option) is { } found)
            {
                foreach (var token in found.Tokens)
                {
                    given.Add(new GivenValue(IndexOf(token), given.Count, option.Name, token.Value));
                }
            }
        }

        given.Sort(static (a, b) => a.Index != b.Index ? a.Index.CompareTo(b.Index) : a.Order.CompareTo(b.Order));
        var values = new (string Name, string Value)[given.Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (given[i].Name, given[i].Value);
        }

        return values;
    }

    /// <summary>One value of a repeatable option: its token's place on the command line, then the order found (ties keep it).</summary>
    private sealed record GivenValue(int Index, int Order, string Name, string Value);

    private Option Find(string name) =>
        _command.Options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name))
        ?? throw new InvalidOperationException($"'{_command.Name}' declares no option {name}");
}
