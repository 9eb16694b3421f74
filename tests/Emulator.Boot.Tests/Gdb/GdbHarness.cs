using System.Diagnostics;
using System.Text.RegularExpressions;
using Emulator.Boot.Tests.Varstore;

namespace Emulator.Boot.Tests.Gdb;

/// <summary>
/// emu with its gdb server (<c>--gdb tcp::0</c>: a free port, read back from stderr) as a child
/// process, and a real gdb (<c>apt-get install gdb</c>) driven in batch mode against it. A missing
/// gdb fails the test with the command that installs it.
/// </summary>
internal sealed partial class GdbHarness : IDisposable
{
    private readonly TempCopy _vars;

    /// <summary>Debian's 2 MB OVMF (RELEASE) with <paramref name="extra"/> options.</summary>
    public GdbHarness(params string[] extra)
        : this(Fixtures.Path(Fixtures.Code2M), Fixtures.Path(Fixtures.Vars2M), extra)
    {
    }

    private GdbHarness(string code, string vars, string[] extra)
    {
        _vars = new TempCopy(File.ReadAllBytes(vars));
        string[] args =
        [
            "boot", "--code", code, "--vars", _vars.Path, "--snapshot", "--gdb", "tcp::0", .. extra,
        ];
        Emu = new EmuProcess("never printed by the guest", args);
        var deadline = Stopwatch.StartNew();
        while (ListeningPort().Match(Emu.Stderr) is not { Success: true } m)
        {
            if (Emu.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException("emu's gdb server did not start: " + Emu.Stderr);
            }

            Thread.Sleep(20);
        }

        Port = int.Parse(ListeningPort().Match(Emu.Stderr).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The firmware <paramref name="code"/> with a copy of <paramref name="vars"/> (never written: --snapshot).</summary>
    public static GdbHarness WithFirmware(string code, string vars, params string[] extra) => new(code, vars, extra);

    public EmuProcess Emu { get; }

    public int Port { get; }

    /// <summary>The varstore copy emu boots with (never written: --snapshot).</summary>
    public byte[] VarsBytes => _vars.Bytes;

    /// <summary>Runs gdb with <paramref name="commands"/> after attaching; its whole output (stdout and stderr).</summary>
    public string RunGdb(params string[] commands)
    {
        var psi = new ProcessStartInfo("gdb") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])["-nx", "-batch", "-ex", "set pagination off", "-ex", "set confirm off", "-ex", $"target remote 127.0.0.1:{Port}"])
        {
            psi.ArgumentList.Add(a);
        }

        foreach (string c in commands)
        {
            psi.ArgumentList.Add("-ex");
            psi.ArgumentList.Add(c);
        }

        Process gdb;
        try
        {
            gdb = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("gdb is needed for the gdb server's tests (apt-get install gdb): " + e.Message, e);
        }

        using (gdb)
        {
            var stdout = gdb.StandardOutput.ReadToEndAsync();
            var stderr = gdb.StandardError.ReadToEndAsync();
            if (!gdb.WaitForExit(TimeSpan.FromMinutes(3)))
            {
                gdb.Kill();
                throw new TimeoutException("gdb did not finish: " + stdout.Result + stderr.Result);
            }

            return stdout.Result + stderr.Result;
        }
    }

    public void Dispose()
    {
        Emu.Dispose();
        _vars.Dispose();
    }

    [GeneratedRegex(@"gdb server on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningPort();
}
