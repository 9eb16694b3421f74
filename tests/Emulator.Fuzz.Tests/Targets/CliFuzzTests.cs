using CsCheck;
using Emulator.Cli;
using Emulator.Fuzz.Tests.Support;
using Emulator.Hosting.Varstore;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// The end-to-end property of issue 15: any damaged input file given to any emu command gives
/// success, or a non-zero status with one line on stderr — no exception out of the entry point
/// (in a process, that is a stack trace), within the harness's time and allocation limits — and
/// the file keeps its bytes unless the command's job is to change it and it succeeded (vars
/// set/delete). The commands run in-process through <see cref="CommandDispatcher"/>, as
/// <c>emu</c>'s Main does. An input is one byte choosing the command, then the file's bytes.
/// </summary>
[Trait("Category", "Fuzz")]
public class CliFuzzTests
{
    private const string Guid = "5A1E4E3E-1111-2222-3333-444455556666";

    /// <summary>Commands given a damaged VARS file (F); C is the real code build, T the 4 MB template.</summary>
    private static readonly string[][] VarsCommands =
    [
        ["vars", "list", "F"], ["vars", "list", "F", "--all", "--json"], ["vars", "check", "F"], ["vars", "check", "F", "--json"],
        ["vars", "get", "F", "BootOrder", "--guid", "global"], ["vars", "get", "F", "Lang", "--guid", "global", "--raw"],
        ["vars", "set", "F", "EmuFuzz", "--guid", Guid, "--data-hex", "CAFE"], ["vars", "delete", "F", "Lang", "--guid", "global"],
        ["vars", "convert", "--from", "F", "--template", "T", "-o", "OUT"], ["inspect", "F"], ["inspect", "F", "--json"],
        ["compat", "--code", "C", "--vars", "F"], ["compat", "--code", "C", "--vars", "F", "--json"],
    ];

    /// <summary>Commands given a damaged code build (F) and the real VARS file (V).</summary>
    private static readonly string[][] CodeCommands =
    [
        ["inspect", "F"], ["inspect", "F", "--json"], ["compat", "--code", "F", "--vars", "V"], ["compat", "--code", "F", "--vars", "V", "--json"],
    ];

    /// <summary>
    /// <c>boot</c> given a damaged VARS file (F): refused by the compat check, or booted for a few
    /// instructions (with --force in snapshot mode; persisted, where the firmware may write it) and
    /// its report's <c>variables[]</c> read from the damaged store.
    /// </summary>
    private static readonly string[][] BootCommands =
    [
        ["boot", "--code", "C", "--vars", "F", "--snapshot", "--max-instructions", "200000", "--memory", "32M", "--quiet", "--no-status", "--report", "OUT"],
        ["boot", "--code", "C", "--vars", "F", "--snapshot", "--force", "--max-instructions", "200000", "--memory", "32M", "--quiet", "--no-status", "--report", "OUT"],
        ["boot", "--code", "C", "--vars", "F", "--max-instructions", "200000", "--memory", "32M", "--quiet", "--no-status", "--report", "OUT"],
    ];

    /// <summary>Commands given a pristine VARS file (V) with a damaged journal beside it (F is the journal).</summary>
    private static readonly string[][] JournalCommands =
    [
        ["vars", "list", "V"], ["vars", "check", "V", "--json"], ["vars", "get", "V", "Lang", "--guid", "global"], ["compat", "--code", "C", "--vars", "V"],
        ["vars", "set", "V", "EmuFuzz", "--guid", Guid, "--data-hex", "CAFE"],
    ];

    private static readonly Lazy<byte[]> Code = new(() => Seeds.Fixture("OVMF_CODE.fd"));
    private static readonly Lazy<byte[]> Vars = new(() => Seeds.Fixture("OVMF_VARS.fd"));
    private static readonly Lazy<byte[]> Template = new(() => Seeds.Fixture("OVMF_VARS_4M.fd"));

    [Fact]
    public void DamagedVarsFiles() =>
        CommandLineFuzz.RunCostly("cli-vars", 40, WithCommand(VarsCommands, Mutations.Of(Vars.Value, StoreHeaderOffsets)), input => Run(VarsCommands, input, journal: false), _ => false);

    [Fact]
    public void DamagedVarsFilesBooted() =>
        CommandLineFuzz.RunCostly("cli-boot", 8, WithCommand(BootCommands, Mutations.Of(Vars.Value, StoreHeaderOffsets)), input => Run(BootCommands, input, journal: false), _ => false);

    [Fact]
    public void DamagedCodeBuilds() =>
        CommandLineFuzz.RunCostly("cli-code", 16, WithCommand(CodeCommands, Mutations.Of(Code.Value)), input => Run(CodeCommands, input, journal: false), _ => false);

    [Fact]
    public void DamagedJournals() =>
        CommandLineFuzz.RunCostly("cli-journal", 30, WithCommand(JournalCommands, Gen.OneOf(Mutations.Garbage(300), Mutations.Of(JournalSeed()))),
            input => Run(JournalCommands, input, journal: true), _ => false);

    /// <summary>The FV header, its block map and the variable store header of an OVMF VARS file.</summary>
    private static readonly int[] StoreHeaderOffsets = [0x20, 0x28, 0x2C, 0x30, 0x32, 0x34, 0x36, 0x38, 0x3C, 0x48, 0x58, 0x5C, 0x5D, 0x5E, 0x64];

    private static Gen<byte[]> WithCommand(string[][] commands, Gen<byte[]> file) =>
        Gen.Select(Gen.Int[0, commands.Length - 1], file, (command, bytes) => (byte[])[(byte)command, .. bytes]);

    /// <summary>A valid journal of one record for the VARS file: the damage starts from something replay accepts.</summary>
    private static byte[] JournalSeed()
    {
        var journal = new byte[VarstoreJournal.HeaderSize + VarstoreJournal.RecordHeaderSize + 16];
        VarstoreJournal.WriteHeader(journal, 1, Vars.Value.Length);
        journal.AsSpan(VarstoreJournal.HeaderSize + VarstoreJournal.RecordHeaderSize).Fill(0xA5);
        VarstoreJournal.SealRecord(journal.AsSpan(VarstoreJournal.HeaderSize), 1, 1, 0x3000, 16);
        return journal;
    }

    private static void Run(string[][] commands, byte[] input, bool journal)
    {
        string[] command = commands[input.Length == 0 ? 0 : input[0] % commands.Length];
        byte[] file = input.Length == 0 ? [] : input[1..];
        using var dir = new CliProperties.ScratchDirectory();
        string damaged = dir.File(journal ? VarstoreJournal.PathFor("VARS.fd") : "damaged.fd");
        string vars = dir.File("VARS.fd");
        File.WriteAllBytes(damaged, file);
        File.WriteAllBytes(dir.File("CODE.fd"), Code.Value);
        File.WriteAllBytes(dir.File("TEMPLATE.fd"), Template.Value);
        if (journal)
        {
            File.WriteAllBytes(vars, Vars.Value);
        }
        else if (command.Contains("V"))
        {
            File.WriteAllBytes(vars, Vars.Value);
        }

        string[] args = command.Select(a => a switch
        {
            "F" => damaged,
            "V" => vars,
            "C" => dir.File("CODE.fd"),
            "T" => dir.File("TEMPLATE.fd"),
            "OUT" => dir.File(command[0] == "boot" ? "report.json" : "out.fd"),
            _ => a,
        }).ToArray();
        string? damagedBefore = CliProperties.Digest(damaged), varsBefore = CliProperties.Digest(vars);
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int status = CommandDispatcher.Run(args, stdout, stderr);
        CliProperties.AssertOneLineOnFailure(args, status, stderr.ToString());
        // Edits, and a persisted boot (the firmware may repair the store), may change the file when they do not fail.
        bool edits = (command[0] == "vars" && command[1] is "set" or "delete") || (command[0] == "boot" && !command.Contains("--snapshot"));
        if (!edits || status != 0)
        {
            CliProperties.AssertUnchanged(damaged, damagedBefore);
            CliProperties.AssertUnchanged(vars, varsBefore);
        }
    }
}
