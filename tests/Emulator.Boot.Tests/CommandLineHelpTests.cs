using System.Diagnostics;
using Emulator.Boot.Tests.Qemu;
using Emulator.Cli.CommandLine;

namespace Emulator.Boot.Tests;

/// <summary>
/// The command line as System.CommandLine reads it: help for every command and option, shell
/// completion through the [suggest] directive, and one line with exit status 2 for bad usage.
/// </summary>
[Trait("Category", "Unit")]
public class CommandLineHelpTests
{
    public static TheoryData<string[]> Commands() =>
    [
        ["boot"], ["bench"], ["compat"], ["inspect"], ["firmware"], ["firmware", "list"], ["vars"], ["vars", "list"], ["vars", "get"],
        ["vars", "check"], ["vars", "set"], ["vars", "delete"], ["vars", "convert"], ["compare"], ["matrix"],
    ];

    [Theory]
    [MemberData(nameof(Commands))]
    public void EveryCommandHasHelpThatNamesEachOfItsOptions(string[] command)
    {
        var r = CliRunner.Run([.. command, "--help"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(string.Empty, r.Stderr);
        Assert.Contains("Usage:", r.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{string.Join(' ', command)} ", r.Stdout, StringComparison.Ordinal);
        var declared = EmuCommandLine.CreateRoot(NoActions());
        var symbol = command.Aggregate((System.CommandLine.Command)declared, (at, name) => at.Subcommands.Single(c => c.Name == name));
        foreach (var sub in symbol.Subcommands)
        {
            Assert.Matches($"(?m)^  {sub.Name}\\b", r.Stdout);
        }

        Assert.True(symbol.Options.Count > 0 || symbol.Subcommands.Count > 0);
        foreach (var option in symbol.Options)
        {
            Assert.Contains(option.Name, r.Stdout, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{string.Join(' ', command)} {option.Name} has no description");
        }

        // 'emu help CMD' is the same text; -h is --help.
        Assert.Equal(r.Stdout, CliRunner.Run(["help", .. command]).Stdout);
        Assert.Equal(r.Stdout, CliRunner.Run([.. command, "-h"]).Stdout);
    }

    [Fact]
    public void BootHelpListsEveryBootOption()
    {
        string help = CliRunner.Run("boot", "--help").Stdout;
        foreach (var option in BootOptionsParser.CreateOptions())
        {
            Assert.Contains(option.Name, help, StringComparison.Ordinal);
        }

        Assert.Contains("reset|protected|long|sec|pei|dxe|bds|loader|shell|banner|prompt|idle", help, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public void TheOverviewListsEveryCommand(string ask)
    {
        var r = CliRunner.Run(ask);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(string.Empty, r.Stderr);
        foreach (string command in new[] { "boot", "bench", "compat", "inspect", "firmware", "vars", "compare", "matrix", "qemu", "help" })
        {
            Assert.Matches($"(?m)^  {command}\\b", r.Stdout);
        }

        Assert.Contains("exit status: 0 done, 1 ran but fell short, 2 bad input or usage", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void BareEmuShowsTheOverviewOnStderrWithStatus2()
    {
        var r = CliRunner.Run();
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(string.Empty, r.Stdout);
        Assert.Contains("Commands:", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("emu boot --until ", "reset protected long sec pei dxe bds loader shell banner prompt idle")]
    [InlineData("emu boot --un", "--unassigned-zero --until")]
    [InlineData("emu boot --pace ", "auto off realtime")]
    [InlineData("emu v", "vars --version")]
    [InlineData("emu vars ", "check convert delete get list set --help -? -h")]
    [InlineData("emu bench ", "flash --bytes --chip --file-dir --guest-path --help --json --no-file --only --passes --seconds --smi-bytes --write-image -? -h")]
    [InlineData("emu bench flash --guest-path ", "direct smm")]
    [InlineData("emu compare --max-", "--max-instructions --max-resets")]
    public void TheSuggestDirectiveCompletesCommandsOptionsAndValues(string line, string expected)
    {
        var r = CliRunner.Run($"[suggest:{line.Length}]", line);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(string.Empty, r.Stderr);
        Assert.Equal(expected.Split(' ').Order(StringComparer.Ordinal), r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// tools/emu-completion.bash against the built emu as its own process (named emu there, not
    /// the test host): what a bash user's Tab gets.
    /// </summary>
    [Theory]
    [InlineData("emu boot --until p", "pei prompt protected")]
    [InlineData("emu vars c", "check convert")]
    [InlineData("emu help b", "bench boot")]
    public void TheBashCompletionScriptAsksTheBuiltEmu(string line, string expected)
    {
        string script = Path.Combine(Path.GetDirectoryName(QemuHarnessTests.Launcher)!, "emu-completion.bash");
        var psi = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(
            "emu() { dotnet \"$EMU_DLL\" \"$@\"; }; . \"$1\"; COMP_LINE=\"$2\"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<< \"$2\"; "
            + "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _emu_complete; printf '%s\\n' \"${COMPREPLY[@]}\"");
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(line);
        psi.Environment["EMU_DLL"] = QemuHarnessTests.EmuDll;
        using var bash = Process.Start(psi)!;
        string stdout = bash.StandardOutput.ReadToEnd();
        string stderr = bash.StandardError.ReadToEnd();
        bash.WaitForExit();
        Assert.True(bash.ExitCode == 0, stderr);
        Assert.Equal(expected.Split(' '), stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheBuiltEmuAnswersBadUsageWithOneLine()
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { QemuHarnessTests.EmuDll, "boot", "--frobnicate" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var emu = Process.Start(psi)!;
        string stdout = emu.StandardOutput.ReadToEnd();
        string stderr = emu.StandardError.ReadToEnd();
        emu.WaitForExit();
        CommandLineTests.AssertUsageError(new CliResult(emu.ExitCode, stdout, stderr, null), "unknown option --frobnicate");
    }

    [Theory]
    [InlineData("unknown option --frobnicate", "boot", "--frobnicate")]
    [InlineData("unknown option --frobnicate", "vars", "list", "x.fd", "--frobnicate=1")]
    [InlineData("unknown option --bogus", "inspect", "--bogus")]
    [InlineData("unknown option --bogus", "compare", "--bogus")]
    [InlineData("option --code needs a value", "boot", "--code")]
    [InlineData("option --guid needs a value", "vars", "get", "x.fd", "Lang", "--guid")]
    [InlineData("option --code given twice", "compat", "--code", "a", "--code", "b")]
    [InlineData("option --json takes no value", "compat", "--json=yes")]
    [InlineData("option --max-instructions needs a non-negative whole number, not 'lots'", "boot", "--max-instructions", "lots")]
    [InlineData("option --max-resets needs a non-negative whole number, not '-1'", "compare", "a.json", "b.json", "--max-resets", "-1")]
    [InlineData("memory size '12Q' has an unknown suffix", "boot", "--memory", "12Q")]
    [InlineData("memory size '0' is not a valid size", "matrix", "--memory", "0")]
    [InlineData("use either --firmware (a unified image) or --code/--vars, not both", "boot", "--firmware", "a.fd", "--code", "b.fd")]
    [InlineData("--no-file and --file-dir contradict each other", "bench", "flash", "--no-file", "--file-dir", "/tmp")]
    [InlineData("unknown vars subcommand 'frob' (known: list, get, check, set, delete, convert)", "vars", "frob")]
    [InlineData("vars needs a subcommand", "vars")]
    [InlineData("firmware needs a subcommand: list", "firmware")]
    [InlineData("unexpected argument 'extra'", "firmware", "list", "extra")]
    [InlineData("unknown command 'fly' (try 'emu help')", "help", "fly")]
    [InlineData("'vars' has no subcommand 'fly'", "help", "vars", "fly")]
    [InlineData("no command given", "emu")]
    [InlineData("unknown command '[diagram]'", "[diagram]")]
    [InlineData("[suggest:N] needs a cursor position, not '13x'", "[suggest:13x]", "emu boot --un")]
    public void BadUsageIsOneLineAndStatus2(string fragment, params string[] args) =>
        CommandLineTests.AssertUsageError(CliRunner.Run(args), fragment);

    [Fact]
    public void ConsoleStepsKeepTheirOrderAcrossOptions()
    {
        var o = BootOptionsParser.Parse(["--send", "a", "--expect=B", "--serial-input", "c", "--expect", "D", "--send", "e"]);
        Assert.Equal([("--send", "a"), ("--expect", "B"), ("--serial-input", "c"), ("--expect", "D"), ("--send", "e")], o.SerialSteps);
    }

    [Fact]
    public void AtFileIsAValueNotAResponseFile()
    {
        // System.CommandLine would read '@FILE' as a response file; for emu it is keys from a file.
        var o = BootOptionsParser.Parse(["--send", "@/nonexistent/keys"]);
        Assert.Equal([("--send", "@/nonexistent/keys")], o.SerialSteps);
    }

    private static CommandActions NoActions() => new(Stream.Null, TextWriter.Null)
    {
        Boot = _ => 0, Bench = _ => 0, Compat = _ => 0, Inspect = _ => 0, FirmwareList = _ => 0, Vars = (_, _) => 0, Compare = _ => 0, Matrix = _ => 0,
    };
}
