using Emulator.Core.Machine;
using Emulator.Hosting.Serial;

namespace Emulator.Hosting.Serial;

/// <summary>
/// Opens the backends of one run's serial ports and debug console: the console session for
/// stdio, files (created or truncated, or appended with QEMU's append=on), pseudo-terminals,
/// and null. File output is flushed at every line and at every host poll, so a harness tailing
/// the file sees a prompt as soon as a terminal would.
/// </summary>
internal sealed class SerialBackends : IDisposable
{
    private readonly ConsoleSession _console;
    private readonly TextWriter _stderr;
    private readonly List<FileStream> _files = [];
    private readonly List<PtyBackend> _ptys = [];
    private readonly ReplayGate? _replay;

    public SerialBackends(ConsoleSession console, TextWriter stderr, ReplayGate? replay = null)
    {
        _console = console;
        _stderr = stderr;
        _replay = replay;
    }

    /// <summary>The machine's port for <paramref name="spec"/>, its backend opened.</summary>
    public IsaSerialPort Port(SerialPortSpec spec)
    {
        var (output, input) = Open(spec.Backend, spec.Backend.Label ?? $"serial{spec.Index}", "serial port");
        return new IsaSerialPort(spec.Index, output, input);
    }

    /// <summary>The output and input of <paramref name="backend"/>, through the replay gate when there is one (<see cref="ReplayGate"/>, under gdb); null for none.</summary>
    public (Action<byte>? Output, Func<int>? Input) Open(SerialBackend backend, string label, string what)
    {
        var (output, input) = OpenBackend(backend, label, what);
        return _replay is { } gate ? (output != null ? gate.Output(output) : null, input != null ? gate.Input(input) : null) : (output, input);
    }

    private (Action<byte>? Output, Func<int>? Input) OpenBackend(SerialBackend backend, string label, string what)
    {
        switch (backend.Kind)
        {
            case SerialBackendKind.Console:
                return (_console.Write, _console.NextInput);
            case SerialBackendKind.File:
                var file = OpenFile(backend.Path!, backend.Append, what);
                _files.Add(file);
                return (b => Write(file, b), null);
            case SerialBackendKind.Pty:
                var pty = PtyBackend.Open();
                _ptys.Add(pty);

                // QEMU's wording (chardev/char-pty.c), so harnesses that parse it find the device.
                _stderr.WriteLine($"char device redirected to {pty.SlaveName} (label {label})");
                _stderr.Flush();
                return (pty.Write, pty.Next);
            default:
                return (null, null);
        }
    }

    private static FileStream OpenFile(string path, bool append, string what)
    {
        try
        {
            return new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1 << 14);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new UsageException($"cannot write {what} '{path}': {e.Message}");
        }
    }

    private static void Write(FileStream file, byte b)
    {
        file.WriteByte(b);
        if (b == '\n')
        {
            file.Flush();
        }
    }

    /// <summary>At every host poll: what the guest wrote since reaches the files.</summary>
    public void Flush()
    {
        foreach (var f in _files)
        {
            f.Flush();
        }
    }

    public void Dispose()
    {
        foreach (var f in _files)
        {
            f.Dispose();
        }

        foreach (var p in _ptys)
        {
            p.Dispose();
        }
    }
}
