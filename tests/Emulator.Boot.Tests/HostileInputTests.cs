using System.Diagnostics;

namespace Emulator.Boot.Tests;

/// <summary>
/// Issue 15: every command that takes a file, given a FIFO, /dev/zero, a directory, a missing file
/// or a 1 GiB sparse file, answers with one line naming the file and the rule, the bad-input exit
/// status, no stack trace, within seconds, and leaves the file as it was. (An unreadable file
/// cannot be tested here: the tests run as root, who reads a chmod 000 file.)
/// </summary>
[Trait("Category", "Fixture")]
public sealed class HostileInputTests : IDisposable
{
    private static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(10);

    private readonly string _dir = Directory.CreateTempSubdirectory("emu-hostile-").FullName;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string command in Commands.Keys)
        {
            foreach (string kind in HostileKinds.Keys)
            {
                data.Add(command, kind);
            }
        }

        return data;
    }

    /// <summary>Each command that reads a file, with {0} where the hostile file goes and {vars} a writable varstore copy.</summary>
    private static readonly Dictionary<string, string[]> Commands = new()
    {
        ["boot code"] = ["boot", "--code", "{0}"],
        ["boot vars"] = ["boot", "--code", "{code}", "--vars", "{0}"],
        ["boot firmware"] = ["boot", "--firmware", "{0}"],
        ["boot serial-input"] = ["boot", "--firmware", "{unified}", "--snapshot", "--serial-input", "@{0}"],
        ["boot send"] = ["boot", "--firmware", "{unified}", "--snapshot", "--expect", "x", "--send", "@{0}"],
        ["inspect"] = ["inspect", "{0}"],
        ["vars list"] = ["vars", "list", "{0}"],
        ["vars check"] = ["vars", "check", "{0}"],
        ["vars get"] = ["vars", "get", "{0}", "BootOrder"],
        ["vars set"] = ["vars", "set", "{0}", "X", "--guid", "global", "--data-hex", "01"],
        ["vars set data"] = ["vars", "set", "{vars}", "X", "--guid", "global", "--data-file", "{0}"],
        ["vars delete"] = ["vars", "delete", "{0}", "X", "--guid", "global"],
        ["vars convert from"] = ["vars", "convert", "--from", "{0}", "--template", "{varsfixture}", "-o", "{out}"],
        ["vars convert template"] = ["vars", "convert", "--from", "{varsfixture}", "--template", "{0}", "-o", "{out}"],
        ["compat code"] = ["compat", "--code", "{0}", "--vars", "{varsfixture}"],
        ["compat vars"] = ["compat", "--code", "{code}", "--vars", "{0}"],
        ["compare reports"] = ["compare", "{0}", "{0}"],
        ["compare code"] = ["compare", "--baseline-code", "{0}", "--candidate-code", "{code}"],
        ["compare vars"] = ["compare", "--baseline-code", "{code}", "--baseline-vars", "{0}", "--candidate-code", "{code}"],
        ["matrix"] = ["matrix", "--run", "a={0}", "--run", "b={code}"],
        ["qemu pflash"] = ["qemu", "-nodefaults", "-drive", "if=pflash,format=raw,readonly=on,file={0}"],
        ["qemu vars"] = ["qemu", "-nodefaults", "-drive", "if=pflash,format=raw,readonly=on,file={code}", "-drive", "if=pflash,format=raw,file={0}"],
        ["qemu bios"] = ["qemu", "-nodefaults", "-bios", "{0}"],
    };

    /// <summary>The hostile files and the words the one line must hold.</summary>
    private static readonly Dictionary<string, string> HostileKinds = new()
    {
        ["fifo"] = "is not a regular file (a FIFO)",
        ["dev-zero"] = "is not a regular file (a character device)",
        ["directory"] = "is a directory",
        ["missing"] = "does not exist",
        ["sparse-1g"] = "1073741824",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void HostileFileIsRefusedInOneLineWithoutReadingIt(string command, string kind)
    {
        string path = kind switch
        {
            "fifo" => MakeFifo(),
            "dev-zero" => "/dev/zero",
            "directory" => Directory.CreateDirectory(Path.Combine(_dir, "a-directory")).FullName,
            "missing" => Path.Combine(_dir, "missing.fd"),
            _ => MakeSparse(1L << 30),
        };
        var before = State(path);
        using var vars = new TempCopy(Fixtures.Vars2M);
        byte[] varsBefore = vars.Bytes;

        var r = RunBounded(Arguments(command, path, vars.Path), kind == "fifo" ? path : null);

        AssertOneLineRefusal(r, command, HostileKinds[kind], path);
        Assert.Equal(before, State(path));
        Assert.Equal(varsBefore, vars.Bytes);
        Assert.False(File.Exists(Path.Combine(_dir, "out.fd")));
        Assert.False(File.Exists(path + ".emu-journal"));
    }

    public static TheoryData<string, long, string> WrongSizeCodeImages()
    {
        var data = new TheoryData<string, long, string>();
        foreach (string command in new[] { "boot code", "boot firmware", "compat code", "compare code", "matrix", "qemu pflash" })
        {
            data.Add(command, 0, "its size must be a non-zero multiple of 0x1000");
            data.Add(command, 0x1000 + 1, "its size must be a non-zero multiple of 0x1000");
            data.Add(command, 0x1E0000 - 0x200, "its size must be a non-zero multiple of 0x1000");
            data.Add(command, (8L << 20) + 0x1000, "combined size of system firmware exceeds 8388608 bytes");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WrongSizeCodeImages))]
    public void CodeImageOfASizeQemuRefusesIsRefusedByEveryCommand(string command, long size, string expected)
    {
        string path = MakeSparse(size);
        var before = State(path);
        using var vars = new TempCopy(Fixtures.Vars2M);

        var r = RunBounded(Arguments(command, path, vars.Path), null);

        AssertOneLineRefusal(r, command, expected, path);
        Assert.Contains(size.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, State(path));
    }

    [Theory]
    [InlineData("vars list")]
    [InlineData("boot vars")]
    public void AJournalThatIsNoFileIsRefusedBeforeItIsOpened(string command)
    {
        using var vars = new TempCopy(Fixtures.Vars2M);
        byte[] before = vars.Bytes;
        string journal = vars.Path + ".emu-journal";
        Assert.Equal(0, Process.Start("mkfifo", [journal]).WaitUntilExit());

        string[] args = command == "vars list" ? ["vars", "list", vars.Path] : Arguments(command, vars.Path, vars.Path);
        var r = RunBounded(args, journal);

        AssertOneLineRefusal(r, command, $"journal file '{journal}' is not a regular file (a FIFO)", vars.Path);
        Assert.Equal(before, vars.Bytes);
    }

    [Fact]
    public void AJournalLargerThanEmuWritesIsRefusedBySize()
    {
        using var vars = new TempCopy(Fixtures.Vars2M);
        string journal = vars.Path + ".emu-journal";
        using (var f = new FileStream(journal, FileMode.CreateNew))
        {
            f.SetLength(1L << 30);
        }

        var r = RunBounded(["vars", "check", vars.Path], null);

        AssertOneLineRefusal(r, "vars check", "journal file", journal);
        Assert.Contains("1073741824 bytes: more than the", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(1L << 30, new FileInfo(journal).Length);
    }

    /// <summary>The drop-in as harnesses start it, tools/qemu-system-x86_64 in its own process: a FIFO as the varstore.</summary>
    [Fact]
    public async Task TheQemuLauncherRefusesAFifoWithoutBlocking()
    {
        string fifo = MakeFifo();
        var psi = new ProcessStartInfo(Qemu.QemuHarnessTests.Launcher) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in Arguments("qemu vars", fifo, fifo).Skip(1))
        {
            // Without "qemu": the launcher is QEMU itself.
            psi.ArgumentList.Add(a);
        }

        psi.Environment["EMU_DLL"] = Qemu.QemuHarnessTests.EmuDll;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await p.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("the launcher ran longer than 30 s on a FIFO");
        }

        Assert.Equal(1, p.ExitCode);
        Assert.Equal($"qemu-system-x86_64: vars file '{fifo}' is not a regular file (a FIFO)\n", await stderr);
        Assert.Empty(await stdout);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Arguments(string command, string path, string vars) => Commands[command].Select(a => a
        .Replace("{0}", path, StringComparison.Ordinal)
        .Replace("{code}", Fixtures.Path(Fixtures.Code2M), StringComparison.Ordinal)
        .Replace("{unified}", Fixtures.Path(Fixtures.Unified), StringComparison.Ordinal)
        .Replace("{varsfixture}", Fixtures.Path(Fixtures.Vars2M), StringComparison.Ordinal)
        .Replace("{vars}", vars, StringComparison.Ordinal)
        .Replace("{out}", Path.Combine(_dir, "out.fd"), StringComparison.Ordinal)).ToArray();

    /// <summary>Runs the CLI with a time bound; a run stuck on a FIFO is released by opening its other end.</summary>
    private static CliResult RunBounded(string[] args, string? fifo)
    {
        var run = Task.Run(() => CliRunner.Run(args));
        if (!run.Wait(TimeBound))
        {
            if (fifo != null)
            {
                using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            }

            Assert.Fail($"'{string.Join(' ', args)}' ran longer than {TimeBound.TotalSeconds} s");
        }

        return run.Result;
    }

    private static void AssertOneLineRefusal(CliResult r, string command, string expected, string path)
    {
        bool qemu = command.StartsWith("qemu", StringComparison.Ordinal);
        Assert.Equal(qemu ? 1 : 2, r.ExitCode);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(qemu ? "qemu-system-x86_64: " : "emu: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Contains($"'{path}", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Emulator.", line, StringComparison.Ordinal);
        Assert.Empty(r.Stdout);
    }

    /// <summary>What the test can see of a file without reading it: its kind, length and modification time.</summary>
    private static (bool Exists, FileAttributes Attributes, long Length, DateTime Modified) State(string path)
    {
        var info = new FileInfo(path);
        return info.Exists || Directory.Exists(path)
            ? (true, info.Attributes, info.Exists ? info.Length : 0, info.LastWriteTimeUtc)
            : (false, default, 0, default);
    }

    private string MakeFifo()
    {
        string path = Path.Combine(_dir, "a-fifo");
        Assert.Equal(0, Process.Start("mkfifo", [path]).WaitUntilExit());
        return path;
    }

    /// <summary>A file of <paramref name="size"/> bytes that takes no disk space (reading it would take seconds and the memory).</summary>
    private string MakeSparse(long size)
    {
        string path = Path.Combine(_dir, $"sparse-{size}.fd");
        using var f = new FileStream(path, FileMode.CreateNew);
        f.SetLength(size);
        return path;
    }
}

internal static class ProcessExtensions
{
    public static int WaitUntilExit(this Process p)
    {
        using (p)
        {
            p.WaitForExit();
            return p.ExitCode;
        }
    }
}
