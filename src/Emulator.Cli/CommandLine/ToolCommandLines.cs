using System.CommandLine;
using Emulator.Cli.Boot;
using static Emulator.Cli.CommandLine.CommandOptions;

namespace Emulator.Cli.CommandLine;

/// <summary>The options of emu's commands other than boot and bench: compat, inspect, firmware, vars, compare, matrix, and qemu's entry for help.</summary>
public static class ToolCommandLines
{
    /// <summary>Each command by name, built on demand: a run builds only the command it runs (<see cref="EmuCommandLine"/>).</summary>
    public static IReadOnlyList<(string Name, Func<Command> Create)> Create(CommandActions actions) =>
    [
        ("compat", () => Compat(actions)),
        ("inspect", () => Inspect(actions)),
        ("firmware", () => Firmware(actions)),
        ("vars", () => Vars(actions)),
        ("compare", () => Compare(actions)),
        ("matrix", () => Matrix(actions)),
        ("qemu", Qemu),
    ];

    private static Command Compat(CommandActions actions) => Run(
        new Command("compat", "will this VARS file work with this code build? (exit status 0 yes, 1 no)")
        {
            Value("--code", "FILE", "the code build (OVMF_CODE.fd)"),
            Value("--vars", "FILE", "the varstore (OVMF_VARS.fd)"),
            Flag("--json", "the verdict as JSON"),
        },
        actions.Compat);

    private static Command Inspect(CommandActions actions) => Run(
        new Command("inspect", "volumes, files, sections and images of a firmware image or varstore")
        {
            Positional("FILE", "a code image, unified image or varstore"),
            Flag("--json", "the tree as JSON"),
        },
        actions.Inspect);

    private static Command Firmware(CommandActions actions)
    {
        var firmware = new Command("firmware", "the firmware 'emu boot' picks without --code: QEMU's descriptors")
        {
            Run(
                new Command("list", "QEMU's firmware descriptors (/usr/share/qemu/firmware, /etc/qemu/firmware, ~/.config/qemu/firmware), which one boot picks, why each other is skipped, the VM's varstore")
                {
                    Value("--vm", "NAME", $"the VM whose varstore copy to show (default '{DefaultFirmware.DefaultVm}')"),
                    Flag("--json", "the same as JSON: directories, each descriptor's verdict, the choice and the varstore"),
                },
                actions.FirmwareList),
        };
        firmware.SetAction(int (_) => throw new UsageException("firmware needs a subcommand: list"));
        return firmware;
    }

    /// <summary>
    /// Never parsed here: CommandDispatcher hands 'emu qemu ...' to QEMU's own single-dash parser
    /// first. The entry lists it in 'emu help' and completes its name.
    /// </summary>
    private static Command Qemu() =>
        new("qemu", "a drop-in for qemu-system-x86_64 (the subset firmware harnesses use; 'emu qemu -help'); tools/qemu-system-x86_64 runs it under QEMU's name");

    private static Command Vars(CommandActions actions)
    {
        const string Guid = "the variable's vendor GUID ('global' for EFI_GLOBAL_VARIABLE)";
        var vars = new Command("vars", "read and edit OVMF varstores without booting")
        {
            new Command("list", "live variables")
            {
                Positional("VARS", "the varstore"),
                Flag("--all", "deleted and incomplete records too"),
                Flag("--json", "as JSON"),
            },
            new Command("get", "a variable's data (hex dump by default)")
            {
                Positional("VARS", "the varstore"),
                Positional("NAME", "the variable"),
                Value("--guid", "G", Guid),
                Flag("--raw", "the data as it is"),
                Flag("--hex", "the data as hex digits"),
            },
            new Command("check", "validate as the firmware does; exit status 0 valid, 1 it would repair or reject it")
            {
                Positional("VARS", "the varstore"),
                Flag("--json", "as JSON"),
            },
            new Command("set", "add or replace a variable")
            {
                Positional("VARS", "the varstore"),
                Positional("NAME", "the variable"),
                Value("--guid", "G", Guid),
                Value("--data-hex", "H", "the data as hex digits"),
                Value("--data-file", "F", "the data from a file"),
                Value("--attributes", "LIST", "attributes, e.g. nv,bs,rt (the default)"),
            },
            new Command("delete", "delete a variable")
            {
                Positional("VARS", "the varstore"),
                Positional("NAME", "the variable"),
                Value("--guid", "G", Guid),
            },
            new Command("convert", "carry the variables of one build's store into another build's template")
            {
                Value("--from", "OLD.fd", "the store to convert"),
                Value("--template", "NEW_TEMPLATE.fd", "an empty VARS file of the target build"),
                new Option<string>("--output", "-o") { HelpName = "NEW.fd", Description = "where the converted store goes" },
                Flag("--force", "overwrite NEW.fd"),
            },
        };
        foreach (var sub in vars.Subcommands)
        {
            string name = sub.Name;
            sub.SetAction(r => actions.Vars(name, new ParsedArguments(r)));
        }

        vars.SetAction(int (_) => throw new UsageException("vars needs a subcommand: list, get, check, set, delete or convert"));
        return vars;
    }

    private static Command Compare(CommandActions actions)
    {
        var compare = new Command("compare", "two reports of 'boot --report', or two builds run now with the same boot options (exit status 0 no regression, 1 regression)")
        {
            Positional("BASELINE.json", "the baseline's report"),
            Positional("CANDIDATE.json", "the candidate's report"),
            Value("--baseline-code", "FILE", "run the baseline build now (with --candidate-code)"),
            Value("--baseline-vars", "FILE", "its varstore (a temporary copy is used)"),
            Value("--candidate-code", "FILE", "run the candidate build now"),
            Value("--candidate-vars", "FILE", "its varstore (a temporary copy is used)"),
        };
        AddComparisonOptions(compare);
        return Run(compare, actions.Compare);
    }

    private static Command Matrix(CommandActions actions)
    {
        var matrix = new Command("matrix", "several builds run now with the same boot options, each compared with the first (exit status 0 within the thresholds, 1 any regression)")
        {
            // Hidden: matrix takes none, and says so in its own words (give each build as --run).
            new Argument<string[]>("FILES") { Arity = ArgumentArity.ZeroOrMore, Hidden = true },
            Repeatable("--run", "NAME=CODE[,VARS]", "a build to run; the first is the baseline"),
            Value("--jobs", "N", "runs at a time (default: one per core)"),
        };
        AddComparisonOptions(matrix);
        return Run(matrix, actions.Matrix);
    }

    /// <summary>compare's and matrix's common options: threshold, outputs and the boot options every run gets.</summary>
    private static void AddComparisonOptions(Command command)
    {
        command.Add(Value("--threshold", "PERCENT", "the change that counts as a regression (default 5%)"));
        command.Add(Value("--json", "FILE", "the comparison as JSON"));
        command.Add(Value("--markdown", "FILE", "the comparison as Markdown"));
        command.Add(Value("--keep-reports", "DIR", "keep each run's report there"));
        foreach (var option in BootOptionsParser.CreateOptions().Where(o =>
            Cli.Compare.CompareCommand.ForwardedValues.Contains(o.Name) || Cli.Compare.CompareCommand.ForwardedFlags.Contains(o.Name) || o.Name is BootOptions.ExpectOption or BootOptions.SendOption))
        {
            command.Add(option);
        }
    }

    private static Command Run(Command command, Func<ParsedArguments, int> action)
    {
        command.SetAction(r => action(new ParsedArguments(r)));
        return command;
    }
}
