using System.Net.Sockets;
using System.Text;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// A client for the gdb remote serial protocol (GDB manual, "Remote Protocol"): packets are
/// <c>$data#cs</c> with a two-digit modulo-256 checksum, each acknowledged with <c>+</c>.
/// QEMU 7.2's system-mode stub does not offer QStartNoAckMode and never waits for our
/// acknowledgements, so they travel in front of the next request (one socket write per
/// request; the same observation as ../shared/tools/qemu-trace). QEMU never run-length
/// encodes its replies; binary replies (qXfer) escape with <c>}</c> and XOR 0x20.
/// </summary>
internal sealed class GdbRemote : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _receive = new byte[1 << 16];
    private readonly List<byte> _pending = [];
    private int _acksOwed;

    private GdbRemote(Socket socket, TimeSpan timeout)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        _socket.SendTimeout = (int)timeout.TotalMilliseconds;
    }

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>, retrying while the stub is not listening yet.</summary>
    public static GdbRemote Connect(int port, TimeSpan timeout, Func<string?> processExited)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Connect("127.0.0.1", port);
                return new GdbRemote(socket, timeout);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                if (processExited() is { } exit)
                {
                    throw new InvalidOperationException($"QEMU exited before its gdb stub answered: {exit}");
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"QEMU's gdb stub on 127.0.0.1:{port} did not answer within {timeout.TotalSeconds} s ({e.SocketErrorCode})");
                }

                Thread.Sleep(20);
            }
        }
    }

    /// <summary>Sends one packet and returns the reply's payload.</summary>
    public string Command(string payload)
    {
        Send(payload);
        return Receive();
    }

    /// <summary>Sends one packet (with the acknowledgements owed for replies received since the last one).</summary>
    public void Send(string payload)
    {
        var text = new StringBuilder(payload.Length + 8);
        text.Append('+', _acksOwed);
        _acksOwed = 0;
        int sum = 0;
        foreach (char c in payload)
        {
            sum += c;
        }

        text.Append('$').Append(payload).Append('#').Append((sum & 0xFF).ToString("x2"));
        _socket.Send(Encoding.Latin1.GetBytes(text.ToString()));
    }

    /// <summary>The next packet's payload (acks and notifications before it skipped); a timeout throws.</summary>
    public string Receive()
    {
        while (true)
        {
            int start = _pending.IndexOf((byte)'$');
            int end = start < 0 ? -1 : _pending.IndexOf((byte)'#', start);
            if (end >= 0 && _pending.Count >= end + 3)
            {
                string data = Encoding.Latin1.GetString([.. _pending.GetRange(start + 1, end - start - 1)]);
                _pending.RemoveRange(0, end + 3);
                _acksOwed++;
                return data;
            }

            int n;
            try
            {
                n = _socket.Receive(_receive);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                throw new TimeoutException($"QEMU's gdb stub sent no reply within {_socket.ReceiveTimeout} ms (QEMU hung?)");
            }

            if (n == 0)
            {
                throw new IOException("QEMU's gdb stub closed the connection");
            }

            _pending.AddRange(_receive.AsSpan(0, n));
        }
    }

    /// <summary>
    /// <c>c</c>: true when the target stopped (a breakpoint) within <paramref name="budget"/>;
    /// otherwise it is interrupted (the protocol's 0x03 byte), its stop reply read, and false.
    /// </summary>
    public bool Continue(TimeSpan budget)
    {
        Send("c");
        if (_pending.IndexOf((byte)'$') >= 0 || _socket.Poll((int)budget.TotalMicroseconds, SelectMode.SelectRead))
        {
            string reply = Receive();
            return reply.StartsWith("T05", StringComparison.Ordinal) || reply.StartsWith("S05", StringComparison.Ordinal)
                ? true
                : throw new IOException($"QEMU's gdb stub answered '{reply}' to continue (expected a SIGTRAP stop)");
        }

        _socket.Send([0x03]);
        Receive();
        return false;
    }

    /// <summary>A qXfer object read whole (<c>qXfer:features:read:target.xml</c>), unescaped.</summary>
    public string ReadXfer(string obj, string annex)
    {
        var result = new StringBuilder();
        while (true)
        {
            string reply = Command($"qXfer:{obj}:read:{annex}:{result.Length:x},f00");
            if (reply.Length == 0 || (reply[0] != 'l' && reply[0] != 'm'))
            {
                throw new IOException($"qXfer:{obj}:read:{annex} failed: '{reply}'");
            }

            for (int i = 1; i < reply.Length; i++)
            {
                result.Append(reply[i] == '}' ? (char)(reply[++i] ^ 0x20) : reply[i]);
            }

            if (reply[0] == 'l')
            {
                return result.ToString();
            }
        }
    }

    /// <summary>Reads guest memory at a virtual address (the <c>m</c> packet, in chunks the stub accepts).</summary>
    public byte[] ReadMemory(ulong address, int length)
    {
        var bytes = new byte[length];
        for (int done = 0; done < length;)
        {
            int chunk = Math.Min(length - done, 0x800);
            string reply = Command($"m{address + (ulong)done:x},{chunk:x}");
            if (reply.Length != chunk * 2)
            {
                throw new IOException($"reading {chunk} bytes at {address + (ulong)done:x} failed: '{reply}'");
            }

            Convert.FromHexString(reply).CopyTo(bytes, done);
            done += chunk;
        }

        return bytes;
    }

    /// <summary>
    /// Writes guest memory at a virtual address (the <c>M</c> packet, in chunks well inside
    /// the stub's 4 KiB packet buffer). QEMU's debug writes reach ROM too
    /// (softmmu/physmem.c, cpu_memory_rw_debug writes through address_space_write_rom).
    /// </summary>
    public void WriteMemory(ulong address, ReadOnlySpan<byte> bytes)
    {
        for (int done = 0; done < bytes.Length;)
        {
            int chunk = Math.Min(bytes.Length - done, 0x600);
            string reply = Command($"M{address + (ulong)done:x},{chunk:x}:{Convert.ToHexString(bytes.Slice(done, chunk))}");
            if (reply != "OK")
            {
                throw new IOException($"writing {chunk} bytes at {address + (ulong)done:x} failed: '{reply}'");
            }

            done += chunk;
        }
    }

    /// <summary>A QEMU monitor (HMP) command through <c>qRcmd</c>; its output arrives in O packets before OK.</summary>
    public string Monitor(string command)
    {
        Send("qRcmd," + Convert.ToHexString(Encoding.Latin1.GetBytes(command)));
        var output = new StringBuilder();
        while (true)
        {
            string reply = Receive();
            if (reply == "OK")
            {
                return output.ToString();
            }

            if (reply.Length == 0 || reply[0] != 'O' || reply.Length % 2 == 0)
            {
                throw new IOException($"monitor command '{command}' failed: '{reply}'");
            }

            output.Append(Encoding.Latin1.GetString(Convert.FromHexString(reply.AsSpan(1))));
        }
    }

    public void Dispose() => _socket.Dispose();
}
