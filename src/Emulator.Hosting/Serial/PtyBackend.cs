using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Emulator.Hosting.Serial;

/// <summary>
/// QEMU's <c>pty</c> character backend (chardev/char-pty.c): a new pseudo-terminal whose slave
/// side a harness opens (its name is printed on stderr), in raw mode. While no one has the slave
/// open, output is dropped, as QEMU drops it while the pty is disconnected; input is read on a
/// background thread and taken by the UART as the guest reads.
/// </summary>
internal sealed unsafe class PtyBackend : IDisposable
{
    private const int ORdwr = 0x2;
    private const int ONoctty = 0x100;
    private const short PollIn = 0x1;
    private const short PollOut = 0x4;
    private const short PollHup = 0x10;
    private const int PollTimeoutMs = 100;

    private readonly int _master;
    private readonly ConcurrentQueue<byte> _input = new();
    private volatile bool _closed;

    private PtyBackend(int master, string slaveName)
    {
        _master = master;
        SlaveName = slaveName;
        new Thread(Read) { IsBackground = true, Name = "pty " + slaveName }.Start();
    }

    public string SlaveName { get; }

    public static PtyBackend Open()
    {
        int fd = PosixOpenpt(ORdwr | ONoctty);
        if (fd < 0 || Grantpt(fd) != 0 || Unlockpt(fd) != 0)
        {
            throw new UsageException($"cannot create a pseudo-terminal: errno {Marshal.GetLastPInvokeError()}");
        }

        var name = new byte[128];
        if (PtsnameR(fd, name, (nuint)name.Length) != 0)
        {
            Close(fd);
            throw new UsageException("cannot name the new pseudo-terminal");
        }

        string slave = Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0));

        // qemu_openpty_raw: cfmakeraw on the slave, so bytes pass unchanged both ways.
        using (var stty = Process.Start(new ProcessStartInfo("stty", $"-F {slave} raw -echo") { UseShellExecute = false }))
        {
            stty?.WaitForExit();
        }

        return new PtyBackend(fd, slave);
    }

    /// <summary>The UART's input: the next byte the other side sent, or -1.</summary>
    public int Next() => _input.TryDequeue(out byte b) ? b : -1;

    /// <summary>
    /// A byte the guest transmitted: delivered when the slave is open and can take it, dropped
    /// otherwise — never waited for, so a reader that stops reading cannot stall the guest.
    /// </summary>
    public void Write(byte b)
    {
        var p = new PollFd { Fd = _master, Events = PollOut };
        if (_closed || Poll(&p, 1, 0) <= 0 || (p.Revents & PollHup) != 0 || (p.Revents & PollOut) == 0)
        {
            return;
        }

        WriteFd(_master, &b, 1);
    }

    private void Read()
    {
        var buffer = new byte[256];
        while (!_closed)
        {
            var p = new PollFd { Fd = _master, Events = PollIn };
            int ready = Poll(&p, 1, PollTimeoutMs);
            if (ready <= 0 || _closed)
            {
                continue;
            }

            if ((p.Revents & PollIn) == 0)
            {
                // Nobody has the slave open (POLLHUP): wait for someone to.
                Thread.Sleep(PollTimeoutMs);
                continue;
            }

            long n;
            fixed (byte* data = buffer)
            {
                n = ReadFd(_master, data, buffer.Length);
            }

            for (int i = 0; i < n; i++)
            {
                _input.Enqueue(buffer[i]);
            }
        }
    }

    public void Dispose()
    {
        if (!_closed)
        {
            _closed = true;
            Close(_master);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", EntryPoint = "posix_openpt", SetLastError = true)]
    private static extern int PosixOpenpt(int flags);

    [DllImport("libc", EntryPoint = "grantpt", SetLastError = true)]
    private static extern int Grantpt(int fd);

    [DllImport("libc", EntryPoint = "unlockpt", SetLastError = true)]
    private static extern int Unlockpt(int fd);

    [DllImport("libc", EntryPoint = "ptsname_r", SetLastError = true)]
    private static extern int PtsnameR(int fd, byte[] buffer, nuint length);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern int Poll(PollFd* fds, nuint count, int timeoutMs);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    private static extern nint ReadFd(int fd, byte* buffer, nint count);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    private static extern nint WriteFd(int fd, byte* buffer, nint count);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
