using System.Diagnostics;
using System.Text.Json;

namespace Emulator.Boot.Tests.Qemu;

/// <summary>
/// Issue 7: the drop-in driven the way firmware harnesses drive QEMU — tools/qemu-system-x86_64
/// first on PATH, a pexpect dialogue over a pseudo-terminal (qemu_harness.py), judged by the
/// console and the exit status. Each run uses a fresh copy of the VARS file.
/// </summary>
[Trait("Category", "Qemu")]
public class QemuHarnessTests
{
    private const string Guid = "5A1E4E3E-1111-2222-3333-444455556666";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Per build, two runs on one fresh VARS copy. The first answers the countdown, writes a
    /// non-volatile variable and powers off; the second reads it back and resets. The 2 MB build
    /// powers off normally and reboots on <c>reset</c> (the countdown comes again, then
    /// <c>reset -s</c> exits 0); the 4 MB build runs with <c>-no-shutdown</c> (the process stays
    /// after the power-off until SIGTERM, then exits 0) and <c>-no-reboot</c> (<c>reset</c> exits 0).
    /// </summary>
    [Theory]
    [InlineData(Fixtures.Code2M, Fixtures.Vars2M, false)]
    [InlineData(Fixtures.Code4M, Fixtures.Vars4M, true)]
    public void HarnessDialogueOnTwoSerialPortsPersistsTheVarstoreAndPowersOff(string code, string vars, bool noShutdownNoReboot)
    {
        string varsCopy = CliRunner.TempFile(".fd");
        string com2 = CliRunner.TempFile(".log");
        File.Copy(Fixtures.Path(vars), varsCopy);
        try
        {
            string[] machine =
            [
                "-nodefaults", "-no-user-config", "-display", "none", "-machine", "pc,accel=tcg", "-m", "256M",
                "-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={Fixtures.Path(code)}",
                "-drive", $"file={varsCopy.Replace(",", ",,", StringComparison.Ordinal)},format=raw,unit=1,if=pflash",
                "-serial", "stdio", "-serial", $"file:{com2}",
            ];
            string[] toShell = ["expect:seconds to skip", @"send:\x1b", "expect:Shell>"];

            // First run: answer the countdown, write a non-volatile variable, power off.
            string[] powerOff = noShutdownNoReboot ? [@"send:reset -s\r", "sleep:3", "alive", "signal:15", "eof"] : [@"send:reset -s\r", "eof"];
            var first = Harness(
                [.. toShell, $@"send:setvar EmuDropIn -guid {Guid} -bs -rt -nv =CAFE\r", "expect:Shell>", .. powerOff],
                noShutdownNoReboot ? [.. machine, "-no-shutdown"] : machine);
            Assert.True(first.Ok, first.Describe());
            Assert.Equal(0, first.ExitStatus);

            // ESC reached the firmware during the countdown: it never got down to its last second.
            Assert.DoesNotContain("in 1 seconds", first.Output, StringComparison.Ordinal);

            // COM2 is a real second UART: OVMF's console is mirrored there.
            Assert.Contains("Shell>", File.ReadAllText(com2), StringComparison.Ordinal);

            // Second run: the variable is read back from the file; then the Shell's reset.
            string[] reset = noShutdownNoReboot ? [@"send:reset\r", "eof"] : [@"send:reset\r", .. toShell, @"send:reset -s\r", "eof"];
            var second = Harness(
                [.. toShell, $@"send:setvar EmuDropIn -guid {Guid}\r", "expect:CA FE", "expect:Shell>", .. reset],
                noShutdownNoReboot ? [.. machine, "-no-reboot"] : machine);
            Assert.True(second.Ok, second.Describe());
            Assert.Equal(0, second.ExitStatus);
            Assert.Contains("EmuDropIn - 0002 Bytes", second.Output, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var f in new[] { varsCopy, varsCopy + ".journal", com2 })
            {
                File.Delete(f);
            }
        }
    }

    /// <summary>
    /// -bios maps the unified image as ROM: OVMF finds no flash and keeps variables in memory,
    /// boots to the Shell all the same and powers off; the image file is never written.
    /// </summary>
    [Fact]
    public void BiosRomBootsToTheShellAndPowersOffWithoutWritingTheImage()
    {
        string image = CliRunner.TempFile(".fd");
        File.Copy(Fixtures.Path(Fixtures.Unified), image);
        try
        {
            var run = Harness(
                ["expect:seconds to skip", @"send:\x1b", "expect:Shell>", @"send:reset -s\r", "eof"],
                ["-nodefaults", "-display", "none", "-bios", image, "-serial", "stdio"]);
            Assert.True(run.Ok, run.Describe());
            Assert.Equal(0, run.ExitStatus);
            Assert.Equal(File.ReadAllBytes(Fixtures.Path(Fixtures.Unified)), File.ReadAllBytes(image));
            Assert.False(File.Exists(image + ".journal"));
        }
        finally
        {
            File.Delete(image);
        }
    }

    [Fact]
    public void UnknownOptionFailsLikeQemu()
    {
        var psi = new ProcessStartInfo(Launcher) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-nodefaults");
        psi.ArgumentList.Add("-frobnicate");
        psi.Environment["EMU_DLL"] = EmuDll;
        using var p = Process.Start(psi)!;
        string stderr = p.StandardError.ReadToEnd();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        Assert.Equal(1, p.ExitCode);
        Assert.Equal("qemu-system-x86_64: -frobnicate: invalid option\n", stderr);
        Assert.Empty(stdout);
    }

    /// <summary>
    /// A CODE/VARS mismatch is booted as QEMU would, with the compatibility warning on stderr;
    /// SIGTERM then stops the machine with QEMU's message and status 0. With the opt-in variable
    /// the pair is refused (status 1) and the file is untouched.
    /// </summary>
    [Fact]
    public void VarsMismatchWarnsAndBootsUnlessRefusalIsAskedFor()
    {
        string varsCopy = CliRunner.TempFile(".fd");
        File.Copy(Fixtures.Path(Fixtures.Vars4M), varsCopy);
        string[] args =
        [
            "-nodefaults", "-display", "none", "-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={Fixtures.Path(Fixtures.Code2M)}",
            "-drive", $"if=pflash,format=raw,unit=1,file={varsCopy}", "-serial", "stdio",
        ];
        try
        {
            var refused = StartLauncher(args, refuse: true);
            string refusedErr = refused.StandardError.ReadToEnd();
            Assert.True(refused.WaitForExit(60_000));
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("INCOMPATIBLE", refusedErr, StringComparison.Ordinal);
            Assert.Contains("qemu-system-x86_64: this VARS file does not fit this code build", refusedErr, StringComparison.Ordinal);
            Assert.Equal(File.ReadAllBytes(Fixtures.Path(Fixtures.Vars4M)), File.ReadAllBytes(varsCopy));

            using var booted = StartLauncher(args, refuse: false);
            var stderr = new System.Text.StringBuilder();
            using var warned = new ManualResetEventSlim(false);
            booted.ErrorDataReceived += (_, e) =>
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                    if (e.Data?.StartsWith("INCOMPATIBLE", StringComparison.Ordinal) == true)
                    {
                        warned.Set();
                    }
                }
            };
            booted.BeginErrorReadLine();
            booted.BeginOutputReadLine();

            // The warning comes before the first instruction; the machine then runs until stopped.
            Assert.True(warned.Wait(StepTimeout), "no compatibility warning: " + stderr);
            Thread.Sleep(2000);
            Assert.False(booted.HasExited, "the drop-in refused or ended: " + stderr);
            Assert.True(Kill(booted.Id, 15) == 0);
            Assert.True(booted.WaitForExit(60_000));
            booted.WaitForExit();
            Assert.Equal(0, booted.ExitCode);
            lock (stderr)
            {
                Assert.Contains("INCOMPATIBLE", stderr.ToString(), StringComparison.Ordinal);
                Assert.Contains("qemu-system-x86_64: terminating on signal 15", stderr.ToString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(varsCopy);
            File.Delete(varsCopy + ".journal");
        }
    }

    private static Process StartLauncher(string[] args, bool refuse)
    {
        var psi = new ProcessStartInfo(Launcher) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["EMU_DLL"] = EmuDll;
        psi.Environment[Emulator.Hosting.Qemu.QemuBootOptions.RefuseMismatchVariable] = refuse ? "1" : "0";
        return Process.Start(psi)!;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    internal static string EmuDll => Path.Combine(AppContext.BaseDirectory, "emu.dll");

    private static string ToolsDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "tools", "qemu-system-x86_64")))
                {
                    return Path.Combine(dir.FullName, "tools");
                }
            }

            throw new InvalidOperationException("tools/qemu-system-x86_64 not found above " + AppContext.BaseDirectory);
        }
    }

    internal static string Launcher => Path.Combine(ToolsDirectory, "qemu-system-x86_64");

    /// <summary>
    /// edk2's CI device line: <c>-device isa-debug-exit,iobase=0xf4,iosize=0x04</c>; the guest's
    /// write of 0x21 ends the drop-in with status 67 ((0x21 &lt;&lt; 1) | 1), as QEMU 7.2 exits.
    /// </summary>
    [Fact]
    public void IsaDebugExitGivesTheHarnessTheGuestsStatus()
    {
        var result = Harness(
            ["expect:seconds to skip", @"send:\x1b", "expect:Shell>", @"send:mm F4 21 -w 1 -IO\r", "eof"],
            [
                "-nodefaults", "-display", "none", "-machine", "pc", "-serial", "stdio", "-snapshot",
                "-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={Fixtures.Path(Fixtures.Code2M)}",
                "-drive", $"if=pflash,format=raw,unit=1,file={Fixtures.Path(Fixtures.Vars2M)}",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            ]);
        Assert.True(result.Ok, result.Describe());
        Assert.Equal(67, result.ExitStatus);
    }

    /// <summary>Runs qemu_harness.py with the drop-in first on PATH, as a harness's CI would.</summary>
    internal static HarnessResult Harness(string[] steps, string[] qemuArgs)
    {
        string result = CliRunner.TempFile(".json");
        var psi = new ProcessStartInfo(Python) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Qemu", "qemu_harness.py"));
        psi.ArgumentList.Add(result);
        psi.ArgumentList.Add(StepTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var s in steps)
        {
            psi.ArgumentList.Add(s);
        }

        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add("qemu-system-x86_64");
        foreach (var a in qemuArgs)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["PATH"] = ToolsDirectory + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        psi.Environment["EMU_DLL"] = EmuDll;
        try
        {
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0 && File.Exists(result), $"qemu_harness.py failed ({p.ExitCode}): {err}");
            var root = JsonDocument.Parse(File.ReadAllText(result)).RootElement;
            return new HarnessResult(
                root.GetProperty("ok").GetBoolean(),
                root.GetProperty("exitstatus").ValueKind == JsonValueKind.Number ? root.GetProperty("exitstatus").GetInt32() : null,
                root.GetProperty("output").GetString()!,
                root.GetProperty("failed_step").ToString());
        }
        finally
        {
            File.Delete(result);
        }
    }

    /// <summary>The first python3 that has pexpect (Debian: python3-pexpect), or a failure that says how to get it.</summary>
    private static string Python => PythonWithPexpect.Value;

    private static readonly Lazy<string> PythonWithPexpect = new(() =>
    {
        foreach (var candidate in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo(candidate, "-c \"import pexpect\"") { UseShellExecute = false, RedirectStandardError = true })!;
                p.StandardError.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
        }

        throw new InvalidOperationException("python3 with pexpect is needed for the harness tests: apt-get install python3-pexpect");
    });

    internal sealed record HarnessResult(bool Ok, int? ExitStatus, string Output, string FailedStep)
    {
        public string Describe() => $"failed at {FailedStep}; console tail: {Output[Math.Max(0, Output.Length - 600)..]}";
    }
}
