using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Emulator.Boot.Tests.Varstore;

/// <summary>
/// The emu CLI as a real child process (<c>dotnet emu.dll ...</c>), so a test can kill it with
/// SIGKILL or SIGTERM at any moment, as a user or a host shutdown would.
/// </summary>
internal sealed class EmuProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly string _marker;
    private readonly ManualResetEventSlim _markerSeen = new(false);

    public EmuProcess(string marker, params string[] args)
    {
        _marker = marker;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "emu.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) =>
        {
            lock (_stdout)
            {
                _stdout.AppendLine(e.Data);
                if (_stdout.ToString().Contains(_marker, StringComparison.Ordinal))
                {
                    _markerSeen.Set();
                }
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Waits for the marker on the guest's console; false if the process ended first or the time ran out.</summary>
    public bool WaitForMarker(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_markerSeen.Wait(20))
            {
                return true;
            }

            if (_process.HasExited)
            {
                // The marker may still be in the pipe or queued for the output callback (a
                // thread-pool thread, late when the pool is busy): WaitForExit() returns only once
                // the reader has delivered everything up to end of file.
                _process.WaitForExit();
                return _markerSeen.IsSet;
            }
        }

        return false;
    }

    /// <summary>Writes <paramref name="text"/> to emu's stdin (the guest's keys under <c>--serial-input -</c>).</summary>
    public void Type(string text)
    {
        _process.StandardInput.Write(text);
        _process.StandardInput.Flush();
    }

    /// <summary>SIGKILL: no handler runs, nothing is flushed.</summary>
    public void KillHard() => _process.Kill();

    /// <summary>Sends <paramref name="signal"/> (<see cref="Sigterm"/>, <see cref="Sigint"/>): the run should stop cleanly.</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill({signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill();
            throw new TimeoutException($"emu did not exit within {timeout}: {Stderr}");
        }

        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        _markerSeen.Dispose();
    }

    public const int Sigint = 2;
    public const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
