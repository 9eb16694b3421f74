using System.CommandLine;
using System.CommandLine.Parsing;

namespace Emulator.Cli.CommandLine;

/// <summary>
/// The kinds of option emu's commands take, as System.CommandLine options: a value, a flag (no
/// value: <c>--json=x</c> is an error), a repeatable step, a whole number and a size (both checked
/// while parsing, so a bad one is a usage error before any work starts).
/// </summary>
public static class CommandOptions
{
    public static Option<string> Value(string name, string helpName, string description, params string[] completions)
    {
        var option = new Option<string>(name) { HelpName = helpName, Description = description };
        if (completions.Length > 0)
        {
            option.CompletionSources.Add(completions);
        }

        return option;
    }

    public static Option<bool> Flag(string name, string description) =>
        new(name) { Arity = ArgumentArity.Zero, Description = description };

    /// <summary>An option given any number of times, one value each; <see cref="ParsedArguments.GetAll"/> keeps their order.</summary>
    public static Option<string[]> Repeatable(string name, string helpName, string description) =>
        new(name) { HelpName = helpName, Description = description, AllowMultipleArgumentsPerToken = false };

    public static bool IsRepeatable(Option option) => option.ValueType == typeof(string[]);

    /// <summary>A non-negative whole number; underscores group digits (5_000_000).</summary>
    public static Option<long?> Count(string name, string helpName, string description) =>
        new(name)
        {
            HelpName = helpName,
            Description = description,
            CustomParser = r => Convert(r, text =>
                long.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), out long n) && n >= 0
                    ? n
                    : throw new UsageException($"option {name} needs a non-negative whole number, not '{text}'")),
        };

    /// <summary>A size the way QEMU's -m reads one (<see cref="SizeParser"/>): 256M, 2G; no suffix means MiB.</summary>
    public static Option<ulong?> Size(string name, string helpName, string description) =>
        new(name) { HelpName = helpName, Description = description, CustomParser = r => Convert<ulong>(r, SizeParser.ParseMemory) };

    /// <summary>A positional argument; the command itself says which are missing (in its own words).</summary>
    public static Argument<string?> Positional(string name, string description, params string[] completions)
    {
        var argument = new Argument<string?>(name) { Arity = ArgumentArity.ZeroOrOne, Description = description };
        if (completions.Length > 0)
        {
            argument.CompletionSources.Add(completions);
        }

        return argument;
    }

    private static T? Convert<T>(ArgumentResult r, Func<string, T> parse)
        where T : struct
    {
        if (r.Tokens.Count == 0)
        {
            return null; // System.CommandLine reports the missing value itself
        }

        try
        {
            return parse(r.Tokens[^1].Value);
        }
        catch (UsageException e)
        {
            r.AddError(e.Message);
            return null;
        }
    }
}
