using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;

namespace Emulator.Cli.CommandLine;

/// <summary>
/// emu's commands as one System.CommandLine tree: help for every command and option
/// (<c>emu boot --help</c>, <c>emu help vars set</c>), shell completion through the
/// <c>[suggest:N]</c> directive (docs/commands.md), and one line on stderr with exit status 2 for
/// bad usage, in emu's own words (unknown option, missing value, bad number or size).
/// </summary>
public static class EmuCommandLine
{
    public const string Description = """
        emu runs x86 firmware (OVMF) from the reset vector on an emulated PC.
        exit status: 0 done, 1 ran but fell short, 2 bad input or usage
        """;

    /// <summary>
    /// No response files: '@FILE' is emu's own syntax (--send @FILE reads keys from a file). No
    /// bundling of single-dash options: emu has none to bundle.
    /// </summary>
    private static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null, EnablePosixBundling = false };

    /// <summary>Parses and runs <paramref name="args"/>: help and completions go to stdout, a usage error is one line on stderr (exit status 2).</summary>
    public static int Run(IReadOnlyList<string> args, CommandActions actions)
    {
        // Only the command named first, when it names one: building every command's options costs
        // about 50 ms of start-up (measured), and a run needs one. Help and completion need all.
        var root = CreateRoot(actions, args.Count > 0 && args[0] != "help" ? args[0] : null);
        var result = root.Parse(args, Parsing);
        bool commandRuns = result.Action is ParseErrorAction || result.Action == result.CommandResult.Command.Action;
        if (commandRuns && Problem(result, args) is { } problem)
        {
            throw new UsageException(problem);
        }

        // System.CommandLine's completion reads the directive's position with int.Parse and throws
        // on anything else ('[suggest:1x]'): bad usage, like every other malformed word.
        if (root.Directives.OfType<SuggestDirective>().SingleOrDefault() is { } suggest && result.GetResult(suggest) is { } directive
            && directive.Values.FirstOrDefault(v => !int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out _)) is { } position)
        {
            throw new UsageException($"[suggest:N] needs a cursor position, not '{position}'");
        }

        if (args.Count > 0 && result.Action == root.Action)
        {
            // Words, yet no command: 'emu emu' (the root's own name) is bad usage like any other.
            throw new UsageException("no command given (try 'emu help')");
        }

        using var output = new StreamWriter(actions.Stdout, new UTF8Encoding(false), 1 << 12, leaveOpen: true);
        return result.Invoke(Invocation(output, actions.Stderr));
    }

    /// <summary>One command alone (boot's options for compare's runs, tests): its options read, or a <see cref="UsageException"/>.</summary>
    public static ParsedArguments ParseOne(Command command, IEnumerable<string> args)
    {
        string[] list = [.. args];
        var result = command.Parse(list, Parsing);
        return Problem(result, list) is { } problem ? throw new UsageException(problem) : new ParsedArguments(result);
    }

    /// <param name="only">Build only this command when it is one of emu's (null: all of them).</param>
    public static RootCommand CreateRoot(CommandActions actions, string? only = null)
    {
        var root = new RootCommand(Description);

        // The root's name is the executable's; completion lines start with the name the user typed
        // (dotnet-suggest passes the whole line), which is 'emu' however the process was started.
        if (root.Name != "emu")
        {
            root.Aliases.Add("emu");
        }

        // Without the Windows spellings /h and /?: on Unix those are file names.
        root.Options.Remove(root.Options.OfType<HelpOption>().Single());
        root.Options.Add(new HelpOption("--help", "-h", "-?") { Recursive = true });
        (string Name, Func<Command> Create)[] commands =
        [
            ("boot", () => WithAction(BootOptionsParser.CreateCommand(), actions.Boot)),
            ("bench", () => WithAction(BenchOptionsParser.CreateCommand(), actions.Bench)),
            .. ToolCommandLines.Create(actions),
        ];
        // Loops, not LINQ over these tuples: that is JIT-compiled framework code at every start.
        bool one = false;
        foreach (var (name, _) in commands)
        {
            one |= name == only;
        }

        foreach (var (name, create) in commands)
        {
            if (!one || name == only)
            {
                root.Add(create());
            }
        }

        if (one)
        {
            return root;
        }

        var topics = new Argument<string[]>("COMMAND") { Arity = ArgumentArity.ZeroOrMore, HelpName = "COMMAND", Description = "the command (and subcommand) to explain" };
        topics.CompletionSources.Add([.. root.Subcommands.Select(c => c.Name)]);
        var help = new Command("help", "this text, or a command's: emu help boot") { topics };
        help.SetAction(r =>
        {
            string[] path = r.GetValue(topics) ?? [];
            Command at = root;
            foreach (string name in path)
            {
                at = at.Subcommands.FirstOrDefault(c => c.Name == name)
                    ?? throw new UsageException(at == root ? $"unknown command '{name}' (try 'emu help')" : $"'{at.Name}' has no subcommand '{name}'");
            }

            return WriteHelp(root, path, r.InvocationConfiguration.Output);
        });
        root.Add(help);

        // Bare 'emu': the overview on stderr (stdout belongs to the guest's console) and exit status 2, as before.
        root.SetAction(r =>
        {
            WriteHelp(root, [], r.InvocationConfiguration.Error);
            return 2;
        });
        return root;
    }

    private static Command WithAction(Command command, Func<ParsedArguments, int> action)
    {
        command.SetAction(r => action(new ParsedArguments(r)));
        return command;
    }

    private static int WriteHelp(RootCommand root, string[] path, TextWriter to) =>
        root.Parse([.. path, "--help"], Parsing).Invoke(new InvocationConfiguration { Output = to, Error = to, EnableDefaultExceptionHandler = false });

    private static InvocationConfiguration Invocation(TextWriter output, TextWriter error) => new()
    {
        Output = output,
        Error = error,
        // Exceptions reach CommandDispatcher, which maps them to exit statuses; Ctrl-C is boot's own (CancelHandler).
        EnableDefaultExceptionHandler = false,
        ProcessTerminationTimeout = null,
    };

    /// <summary>What is wrong with the command line, in one sentence; null when nothing is.</summary>
    private static string? Problem(ParseResult result, IReadOnlyList<string> args)
    {
        var command = result.CommandResult.Command;
        foreach (string arg in args.TakeWhile(a => a != "--"))
        {
            // System.CommandLine splits --json=x into a flag and a word; the word would land as a file name.
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is > 2 and int eq
                && command.Options.FirstOrDefault(o => o.Name == arg[..eq]) is { Arity.MaximumNumberOfValues: 0 })
            {
                return $"option {arg[..eq]} takes no value";
            }
        }

        if (result.UnmatchedTokens.Count > 0)
        {
            return Unexpected(command, result.UnmatchedTokens[0]);
        }

        // A word System.CommandLine does not know goes to a free positional: --frobnicate as a file name.
        int doubleDash = result.Tokens.ToList().FindIndex(t => t.Type == TokenType.DoubleDash);
        foreach (var argument in command.Arguments)
        {
            foreach (var token in result.GetResult(argument)?.Tokens ?? [])
            {
                bool beforeDoubleDash = doubleDash < 0 || result.Tokens.ToList().FindIndex(t => ReferenceEquals(t, token)) < doubleDash;
                if (beforeDoubleDash && token.Value.StartsWith("--", StringComparison.Ordinal) && token.Value.Length > 2)
                {
                    return Unexpected(command, token.Value);
                }
            }
        }

        if (result.Errors.Count == 0)
        {
            return null;
        }

        var error = result.Errors[0];
        return error.SymbolResult switch
        {
            OptionResult { Tokens.Count: 0 } option => $"option {option.Option.Name} needs a value",
            OptionResult { Tokens.Count: > 1, Option.Arity.MaximumNumberOfValues: 1 } option => $"option {option.Option.Name} given twice",
            _ => error.Message,
        };
    }

    private static string Unexpected(Command command, string word) =>
        word.StartsWith("--", StringComparison.Ordinal) && word.Length > 2 ? $"unknown option {word.Split('=')[0]}"
        : command is RootCommand ? $"unknown command '{word}' (try 'emu help')"
        : command.Subcommands.Count > 0 ? $"unknown {command.Name} subcommand '{word}' (known: {string.Join(", ", command.Subcommands.Select(c => c.Name))})"
        : $"unexpected argument '{word}'";
}
