using System.Collections.Concurrent;
using System.Diagnostics;

namespace Emulator.Hosting.Serial;

/// <summary>
/// Console input typed live on stdin (a terminal or a pipe), handed to the UART as the guest
/// reads it. A reader thread queues the bytes; the CPU thread takes them. On a terminal the
/// line discipline is switched off for the run (no echo, no line buffering, no signals, Enter
/// sends CR as a serial terminal does) and restored afterwards; Ctrl-A then x quits (as
/// QEMU's <c>-serial stdio</c> muxing), Ctrl-A Ctrl-A types a Ctrl-A. Ctrl-C reaches the guest.
/// Live input depends on when a person types, so runs with it are not reproducible.
/// </summary>
public sealed class LiveInput : IDisposable
{
    /// <summary>Ctrl-A: the prefix of QEMU's mux keys.</summary>
    public const byte QuitPrefix = 0x01;
    /// <summary>After Ctrl-A: quit.</summary>
    public const byte QuitKey = (byte)'x';

    private readonly ConcurrentQueue<byte> _queue = new();
    private readonly Stream _stdin;
    private readonly string? _savedTerminal;
    private readonly bool _mux;
    private bool _prefix;

    /// <param name="stdin">The host's standard input, read on a thread of its own.</param>
    /// <param name="terminal">Whether <paramref name="stdin"/> is a terminal (then put in raw mode for the run).</param>
    /// <param name="mux">Ctrl-A x quits, Ctrl-A Ctrl-A types Ctrl-A (QEMU's mux, as with -nographic).</param>
    /// <param name="signals">Ctrl-C stops the machine (QEMU's stdio signal=on) instead of reaching the guest.</param>
    public LiveInput(Stream stdin, bool terminal, bool mux = true, bool signals = false)
    {
        Terminal = terminal;
        _mux = mux;
        _stdin = stdin;
        if (terminal)
        {
            // As QEMU's qemu_chr_set_echo_stdio: no echo, no line editing, no flow control, CR as typed.
            _savedTerminal = Stty("-g")?.Trim();
            Stty((signals ? string.Empty : "-isig ") + "-icanon -echo -ixon -icrnl min 1 time 0");
        }

        var reader = new Thread(Read) { IsBackground = true, Name = "stdin" };
        reader.Start();
    }

    /// <summary>Whether stdin is a terminal (held in raw mode for the run).</summary>
    public bool Terminal { get; }

    /// <summary>Set when input arrives (a pacer waits on it, so an idle guest wakes at once).</summary>
    public AutoResetEvent Arrived { get; } = new(false);

    /// <summary>Raised on the reader thread when the user asks to quit (Ctrl-A x) or stdin ends.</summary>
    public event Action<string>? QuitRequested;

    /// <summary>True once Ctrl-A x was typed.</summary>
    public bool QuitWasRequested { get; private set; }

    /// <summary>The UART's input source: the next byte typed, or -1.</summary>
    public int Next() => _queue.TryDequeue(out byte b) ? b : -1;

    private void Read()
    {
        var buffer = new byte[256];
        while (true)
        {
            int n;
            try
            {
                n = _stdin.Read(buffer, 0, buffer.Length);
            }
            catch (IOException)
            {
                n = 0;
            }

            if (n <= 0)
            {
                // A pipe that ends is not a request to stop: the guest keeps running without input.
                return;
            }

            for (int i = 0; i < n; i++)
            {
                Accept(buffer[i]);
            }

            Arrived.Set();
        }
    }

    private void Accept(byte b)
    {
        if (!Terminal || !_mux)
        {
            _queue.Enqueue(b);
            return;
        }

        if (_prefix)
        {
            _prefix = false;
            if (b == QuitKey)
            {
                QuitWasRequested = true;
                QuitRequested?.Invoke("quit key (Ctrl-A x)");
                return;
            }

            _queue.Enqueue(b);
            return;
        }

        if (b == QuitPrefix)
        {
            _prefix = true;
            return;
        }

        _queue.Enqueue(b);
    }

    private static string? Stty(string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("stty", arguments) { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(start);
            string output = p!.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Stops reading and restores the terminal.</summary>
    public void Dispose()
    {
        if (_savedTerminal is { Length: > 0 } saved)
        {
            Stty(saved);
        }
    }
}
