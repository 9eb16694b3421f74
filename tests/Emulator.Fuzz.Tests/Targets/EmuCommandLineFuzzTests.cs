using Emulator.Hosting.Bench;
using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Cli;
using Emulator.Fuzz.Tests.Support;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Serial;
using Emulator.Hosting;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// emu's own command line (System.CommandLine's tree, SizeParser, every command's options, console text
/// escapes): <c>boot</c> and <c>bench</c> are parsed only (valid options would start a machine
/// or a benchmark), every other command runs in-process through the dispatcher, whose answer to
/// any argument list must be a status with at most one line on stderr — never an exception.
/// Every file named here is missing, so nothing is read or written.
/// </summary>
[Trait("Category", "Fuzz")]
public class EmuCommandLineFuzzTests
{
    private const string Target = "emu-command-line";

    private static readonly string Missing = Path.Combine(Path.GetTempPath(), "emu-fuzz-missing-" + Guid.NewGuid().ToString("N"));

    public static readonly string[][] Seeds =
    [
        ["boot", "--code", Missing + "/CODE.fd", "--vars", Missing + "/VARS.fd", "--memory", "512M", "--until", "banner", "--max-instructions", "1_000_000",
            "--report", Missing + "/r.json", "--trace", Missing + "/t", "--trace-limit", "10", "--serial-input", @"\e\x1bdir\r", "--expect", "Shell>",
            "--send", @"reset -s\r", "--rtc-start", "2026-01-01T00:00:00Z", "--pace", "off", "--max-resets", "3", "--snapshot", "--no-status"],
        ["boot", "--firmware", Missing + "/OVMF.fd", "--quiet", "--unassigned-zero", "--exact-waits", "--interpret", "--no-reboot", "--timeline", "--send", "@" + Missing + "/keys"],
        ["bench", "flash", "--seconds", "0.1", "--chip", "64K", "--bytes", "256K", "--passes", "2", "--only", "device", "--no-file"],
        ["bench", "flash", "--only", "guest", "--guest-path", "smm", "--smi-bytes", "64", "--bytes", "16K", "--no-file"],
        ["vars", "list", Missing + "/VARS.fd", "--all", "--json"], ["vars", "get", Missing + "/VARS.fd", "BootOrder", "--guid", "global", "--hex"],
        ["vars", "set", Missing + "/VARS.fd", "Foo", "--guid", "5A1E4E3E-1111-2222-3333-444455556666", "--data-hex", "CAFE", "--attributes", "nv,bs,rt"],
        ["vars", "convert", "--from", Missing + "/a.fd", "--template", Missing + "/b.fd", "-o", Missing + "/c.fd", "--force"],
        ["compat", "--code", Missing + "/CODE.fd", "--vars", Missing + "/VARS.fd", "--json"], ["inspect", Missing + "/CODE.fd", "--json"],
        ["compare", Missing + "/a.json", Missing + "/b.json", "--threshold", "2.5%", "--json", Missing + "/o.json", "--markdown", Missing + "/o.md"],
        ["compare", "--baseline-code", Missing + "/a.fd", "--candidate-code", Missing + "/b.fd", "--until", "pei", "--max-instructions", "10"],
        ["matrix", "--run", "base=" + Missing + "/a.fd," + Missing + "/v.fd", "--run", "new=" + Missing + "/b.fd", "--jobs", "2", "--threshold", "5"],
        ["help"], ["help", "vars", "set"], ["vars", "get", "--help"], ["[suggest:13]", "emu boot --un"],
    ];

    public static readonly string[] Vocabulary =
    [
        "boot", "bench", "vars", "compat", "inspect", "compare", "matrix", "help", "list", "get", "check", "set", "delete", "convert", "flash",
        "--code", "--vars", "--firmware", "--memory", "--until", "--max-instructions", "--report", "--trace", "--trace-limit", "--flash-log",
        "--serial-log", "--debugcon", "--pace", "--rtc-start", "--max-resets", "--unassigned-zero", "--snapshot", "--quiet", "--verbose",
        "--exact-waits", "--no-status", "--no-reboot", "--force", "--timeline", "--interpret", "--serial-input", "--expect", "--send",
        "--seconds", "--chip", "--bytes", "--passes", "--json", "--write-image", "--only", "--file-dir", "--no-file", "--guest-path", "--smi-bytes", "smm", "direct", "--all", "--guid",
        "--raw", "--hex", "--data-hex", "--data-file", "--attributes", "--from", "--template", "-o", "--output", "--threshold", "--markdown",
        "--keep-reports", "--baseline-code", "--candidate-code", "--baseline-vars", "--candidate-vars", "--run", "--jobs", "--code=", "--memory=1G",
        "--", "-", "", "\0", "@", "@" + Missing, Missing, Missing + "/x", "/", ".", "..", "256M", "1G", "0", "1", "-1", "16T", "17T", "1B", "4096K",
        "18446744073709551615", "99999999999999999999", "1_000", "_", "0x10", "NaN", "Infinity", "1e308", "-0", "5%", "%", "0.5", "1e-9",
        "realtime", "off", "auto", "reset", "pei", "dxe", "banner", "idle", "2026-01-01", "9999-12-31T23:59:59Z", "0001-01-01",
        @"\r\n", @"\x", @"\x4", @"\xZZ", @"\e", @"\", @"\\", @"\q", "global", "nv,bs,rt", "nv,,", "at,nv", "CAFE", "CAF", "zz",
        "5A1E4E3E-1111-2222-3333-444455556666", "name=", "=x", "a=b,c,d", "a=,", "device", "guest", "none", "all",
        "--help", "-h", "-?", "--version", "firmware", "--save-state", "--save-state-at", "--restore", "sec=", "pei=x,dxe=y", "[suggest]", "[suggest:5]", "[diagram]", "emu", "--json=1", "--until=", "-o=x",
    ];

    /// <summary>
    /// The vars commands on a real store (a fresh copy per input, <c>VARS</c> in the seeds), so the
    /// option values reach their parsers (GUIDs, attribute lists, hex data, variable names) instead
    /// of stopping at a missing file; edits write only the copy, outputs go beside it.
    /// </summary>
    public static readonly string[][] SeedsOnAStore =
    [
        ["vars", "set", "VARS", "EmuFuzz", "--guid", "5A1E4E3E-1111-2222-3333-444455556666", "--data-hex", "CAFE", "--attributes", "nv,bs,rt"],
        ["vars", "set", "VARS", "Lang", "--guid", "global", "--data-file", "VARS", "--attributes", "nv,bs"],
        ["vars", "delete", "VARS", "Lang", "--guid", "8BE4DF61-93CA-11D2-AA0D-00E098032B8C"],
        ["vars", "get", "VARS", "Lang", "--guid", "global", "--raw"], ["vars", "list", "VARS", "--all"], ["vars", "check", "VARS", "--json"],
        ["vars", "convert", "--from", "VARS", "--template", "VARS", "-o", "OUT", "--force"], ["inspect", "VARS"],
    ];

    private static readonly string[] StoreVocabulary =
    [
        .. Vocabulary, "VARS", "OUT", "global", "8BE4DF61-93CA-11D2-AA0D-00E098032B8C", "{8BE4DF61-93CA-11D2-AA0D-00E098032B8C}", "8BE4DF61",
        "nv", "bs", "rt", "at", "hr", "nv,bs,rt,at", "nv,rt", "rt", "ab", "abc", "0x", "00", new string('A', 4096), "Boot0000", "BootOrder", "ConIn",
    ];

    private static readonly Lazy<byte[]> Store = new(() => Support.Seeds.Fixture("OVMF_VARS.fd"));

    [Fact]
    public void MutatedCommandLines() =>
        CommandLineFuzz.Run(Target, CommandLineFuzz.Of(Seeds, Vocabulary), Run, e => e is UsageException);

    [Fact]
    public void MutatedCommandLinesOnAStore() =>
        CommandLineFuzz.Run($"{Target}-store", CommandLineFuzz.Of(SeedsOnAStore, StoreVocabulary), RunOnAStore, _ => false);

    private static void RunOnAStore(string[] args)
    {
        // Only the commands that read a store: compare, matrix or boot would boot it as code, and
        // bench would run; their options are fuzzed without files above.
        if (args.FirstOrDefault() is not ("vars" or "inspect" or "compat"))
        {
            return;
        }

        using var dir = new CliProperties.ScratchDirectory();
        File.WriteAllBytes(dir.File("VARS.fd"), Store.Value);
        string[] resolved = args.Select(a => a switch { "VARS" => dir.File("VARS.fd"), "OUT" => dir.File("out.fd"), _ => a }).ToArray();

        // vars convert writes its output: wherever a mutation named it, it goes to the scratch directory.
        for (int i = 0; i < resolved.Length; i++)
        {
            if (resolved[i] is "-o" or "--output" && i + 1 < resolved.Length)
            {
                resolved[++i] = dir.File("out.fd");
            }
            else if (resolved[i].StartsWith("--output=", StringComparison.Ordinal))
            {
                resolved[i] = "--output=" + dir.File("out.fd");
            }
        }

        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int status = CommandDispatcher.Run(resolved, stdout, stderr);
        CliProperties.AssertOneLineOnFailure(resolved, status, stderr.ToString());
        if (status != 0 && !Store.Value.AsSpan().SequenceEqual(File.ReadAllBytes(dir.File("VARS.fd"))))
        {
            throw new FuzzFailure($"status {status}, yet the store was changed: {stderr}");
        }
    }

    /// <summary>Found cases: output names no file can have (empty, NUL), which once escaped as ArgumentException.</summary>
    [Theory]
    [MemberData(nameof(Corpus))]
    public void CorpusEntries(string file) =>
        CommandLineFuzz.Once(Target, FuzzRun.ReadCorpus(Target, file), Run, e => e is UsageException);

    public static TheoryData<string> Corpus() => FuzzRun.CorpusFiles(Target);

    [Theory]
    [InlineData(@"\x 1")]
    [InlineData(@"\x+1")]
    [InlineData(@"\x1")]
    public void HexEscapesTakeTwoHexDigitsExactly(string text) =>
        Assert.Throws<UsageException>(() => TextEscapes.Decode("--send", text));

    private static void Run(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "boot":
                var options = BootOptionsParser.Parse(args[1..]);
                foreach (var (name, value) in options.SerialSteps.Where(s => s.Name != BootOptions.ExpectOption && s.Value != "-"))
                {
                    // What the console session does with each typed step before the machine starts.
                    TextEscapes.Decode(name, value);
                }

                return;
            case "bench":
                BenchOptionsParser.Parse(args[1..]);
                return;
            case "qemu":
                // The drop-in's own target (QemuCommandLineFuzzTests); a valid line would boot.
                return;
        }

        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int status = CommandDispatcher.Run(args, stdout, stderr);
        CliProperties.AssertOneLineOnFailure(args, status, stderr.ToString());
    }
}
