using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Emulator.Hosting.Gdb;

/// <summary>What the network side tells the CPU thread.</summary>
internal enum GdbEventKind
{
    Connected,
    Packet,
    Interrupt,
    Disconnected,
}

internal readonly record struct GdbEvent(GdbEventKind Kind, string Packet = "");

/// <summary>
/// The gdb remote serial protocol's transport: a TCP listener (QEMU's <c>-gdb tcp::PORT</c>) and
/// one client at a time, read through System.IO.Pipelines. The network threads frame and
/// acknowledge packets and hand them to the CPU thread through a channel; only the interrupt byte
/// acts at once (<see cref="Interrupted"/>), because the CPU thread is busy running the guest
/// then. A second client is refused (closed at once, logged) while one is attached; malformed,
/// damaged and oversized packets are answered (<c>-</c>, an error) and never reach the stub.
/// </summary>
internal sealed class GdbServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly ILogger _log;
    private readonly Channel<GdbEvent> _events = Channel.CreateUnbounded<GdbEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closing = new();
    private readonly object _sendLock = new();
    private Socket? _client;
    private byte[]? _lastSent;
    private bool _noAck;

    private GdbServer(TcpListener listener, ILogger log)
    {
        _listener = listener;
        _log = log;
        _ = AcceptLoop();
    }

    /// <summary>Raised on a network thread when the client sends the interrupt byte or connects (gdb expects a stopped target then).</summary>
    public event Action? Interrupted;

    /// <summary>Where the server listens (the port chosen when 0 was asked).</summary>
    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Whether a client is attached now.</summary>
    public bool HasClient => Volatile.Read(ref _client) != null;

    /// <summary>Listens on <paramref name="endpoint"/>; an <see cref="UsageException"/> when the address cannot be bound.</summary>
    public static GdbServer Listen(IPEndPoint endpoint, ILogger log)
    {
        var listener = new TcpListener(endpoint);
        try
        {
            listener.Start(1);
        }
        catch (SocketException e)
        {
            throw new UsageException($"--gdb: cannot listen on {endpoint}: {e.Message}");
        }

        return new GdbServer(listener, log);
    }

    /// <summary>The next event, waiting at most <paramref name="timeout"/>; false when none came.</summary>
    public bool TryTake(TimeSpan timeout, out GdbEvent e)
    {
        if (_events.Reader.TryRead(out e))
        {
            return true;
        }

        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
            wait.CancelAfter(timeout);
            return _events.Reader.WaitToReadAsync(wait.Token).AsTask().GetAwaiter().GetResult() && _events.Reader.TryRead(out e);
        }
        catch (OperationCanceledException)
        {
            e = default;
            return false;
        }
    }

    /// <summary>Sends <paramref name="payload"/> as a packet to the attached client (nothing when none is).</summary>
    public void Send(string payload) => Send(Encoding.Latin1.GetBytes(payload));

    /// <summary>Sends binary <paramref name="payload"/> (escaped as the protocol asks).</summary>
    public void Send(ReadOnlySpan<byte> payload)
    {
        byte[] framed = GdbFraming.Frame(payload);
        _log.LogDebug("-> {Packet}", Encoding.Latin1.GetString(payload.Length > 200 ? payload[..200] : payload));
        lock (_sendLock)
        {
            _lastSent = framed;
            SendRaw(framed);
        }
    }

    /// <summary>From the next reply on, no acknowledgements (QStartNoAckMode, after its OK).</summary>
    public void StopAcknowledging() => _noAck = true;

    /// <summary>Drops the client (detach, kill): its reader then reports <see cref="GdbEventKind.Disconnected"/>.</summary>
    public void DropClient()
    {
        var client = Volatile.Read(ref _client);
        try
        {
            client?.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _closing.Cancel();
        _listener.Stop();
        Volatile.Read(ref _client)?.Dispose();
    }

    /// <summary>Writes bytes as they are; both threads write (acks from the reader, replies from the CPU thread), so always under the send lock.</summary>
    private void SendRaw(byte[] bytes)
    {
        try
        {
            lock (_sendLock)
            {
                Volatile.Read(ref _client)?.Send(bytes);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Gone, or not reading for SendTimeout: dropped, so the guest runs on without it.
            _log.LogDebug("gdb client gone while sending: {Error}", e.Message);
            DropClient();
        }
    }

    private async Task AcceptLoop()
    {
        while (!_closing.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_closing.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _client, socket, null) != null)
            {
                _log.LogWarning("gdb: a second client ({Remote}) refused: one is attached", socket.RemoteEndPoint);
                socket.Dispose();
                continue;
            }

            socket.NoDelay = true;
            socket.SendTimeout = 30_000; // a client that stops reading is dropped, not waited for
            _noAck = false;
            _lastSent = null;
            _log.LogInformation("gdb: client attached from {Remote}", socket.RemoteEndPoint);
            // The stop request first: the CPU thread, once it takes Connected, is stopped for good.
            Interrupted?.Invoke();
            _events.Writer.TryWrite(new GdbEvent(GdbEventKind.Connected));
            _ = ReadLoop(socket);
        }
    }

    private async Task ReadLoop(Socket socket)
    {
        var stream = new NetworkStream(socket, ownsSocket: false);
        var reader = PipeReader.Create(stream);
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_closing.Token);
                var buffer = result.Buffer;
                while (GdbFraming.TryRead(ref buffer, out var input))
                {
                    Take(input);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _log.LogDebug("gdb connection ended: {Error}", e.Message);
        }
        finally
        {
            await reader.CompleteAsync();
            await stream.DisposeAsync();
            socket.Dispose();
            Interlocked.CompareExchange(ref _client, null, socket);
            _log.LogInformation("gdb: client detached");
            _events.Writer.TryWrite(new GdbEvent(GdbEventKind.Disconnected));
        }
    }

    private void Take(GdbInput input)
    {
        switch (input.Kind)
        {
            case GdbInputKind.Packet:
                _log.LogDebug("<- {Packet}", input.Text.Length > 200 ? input.Text[..200] : input.Text);
                if (!_noAck)
                {
                    SendRaw("+"u8.ToArray());
                }

                _events.Writer.TryWrite(new GdbEvent(GdbEventKind.Packet, input.Text));
                break;
            case GdbInputKind.Interrupt:
                _log.LogDebug("<- interrupt");
                _events.Writer.TryWrite(new GdbEvent(GdbEventKind.Interrupt));
                Interrupted?.Invoke();
                break;
            case GdbInputKind.Nack:
                lock (_sendLock)
                {
                    if (_lastSent != null)
                    {
                        SendRaw(_lastSent);
                    }
                }

                break;
            case GdbInputKind.BadChecksum:
                _log.LogDebug("<- a packet with a bad checksum: asked again");
                SendRaw("-"u8.ToArray());
                break;
            case GdbInputKind.TooLong:
                _log.LogWarning("gdb: a packet longer than {Max} bytes dropped", GdbFraming.MaxPayload);
                if (!_noAck)
                {
                    SendRaw("+"u8.ToArray());
                }

                Send("E.packet too long");
                break;
        }
    }
}
