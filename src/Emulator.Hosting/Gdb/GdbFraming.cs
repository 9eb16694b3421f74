using System.Buffers;
using System.Text;

namespace Emulator.Hosting.Gdb;

/// <summary>What a gdb client sent: a packet, the interrupt byte (Ctrl-C), or an acknowledgement.</summary>
internal enum GdbInputKind
{
    /// <summary><c>$payload#cs</c> with a good checksum: <see cref="GdbInput.Payload"/> holds it, unescaped.</summary>
    Packet,

    /// <summary>0x03 outside a packet: stop the running target.</summary>
    Interrupt,

    /// <summary><c>+</c>: the last reply arrived.</summary>
    Ack,

    /// <summary><c>-</c>: the last reply arrived damaged; send it again.</summary>
    Nack,

    /// <summary>A packet whose checksum did not match: answered with <c>-</c> so gdb sends it again.</summary>
    BadChecksum,

    /// <summary>A packet longer than <see cref="GdbFraming.MaxPayload"/>: dropped and answered with an error.</summary>
    TooLong,
}

/// <summary>One input from the client.</summary>
internal readonly record struct GdbInput(GdbInputKind Kind, byte[]? Payload = null)
{
    /// <summary>The payload as text (Latin-1: a byte per character, binary data kept).</summary>
    public string Text => Payload is null ? string.Empty : Encoding.Latin1.GetString(Payload);
}

/// <summary>
/// The remote serial protocol's framing (gdb's "Overview" and "Binary Data" sections): packets
/// are <c>$</c>, the payload, <c>#</c> and two hex digits of the payload's byte sum modulo 256;
/// in binary data <c>}</c> escapes the next byte XOR 0x20 (<c>#</c>, <c>$</c>, <c>}</c> and
/// <c>*</c> are always escaped). Anything between inputs that is none of <c>$ + - 0x03</c> is
/// line noise and skipped, as gdbserver does.
/// </summary>
internal static class GdbFraming
{
    /// <summary>The largest payload taken (advertised as PacketSize): a longer one is refused, never buffered without bound.</summary>
    public const int MaxPayload = 0x4000;

    /// <summary>
    /// Takes the first complete input from <paramref name="buffer"/>, which is advanced past it
    /// (and past skipped noise); false when more bytes are needed, <paramref name="buffer"/> then
    /// starting at the incomplete input.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out GdbInput input)
    {
        input = default;
        var reader = new SequenceReader<byte>(buffer);
        Span<byte> digits = stackalloc byte[2];
        while (reader.TryPeek(out byte b))
        {
            var at = reader.Position;
            reader.Advance(1);
            switch (b)
            {
                case 0x03:
                    input = new GdbInput(GdbInputKind.Interrupt);
                    buffer = buffer.Slice(reader.Position);
                    return true;
                case (byte)'+':
                    input = new GdbInput(GdbInputKind.Ack);
                    buffer = buffer.Slice(reader.Position);
                    return true;
                case (byte)'-':
                    input = new GdbInput(GdbInputKind.Nack);
                    buffer = buffer.Slice(reader.Position);
                    return true;
                case (byte)'$':
                    var start = reader.Position;
                    if (!reader.TryAdvanceTo((byte)'#', advancePastDelimiter: false))
                    {
                        long pending = buffer.Slice(start).Length;
                        if (pending > MaxPayload + 1)
                        {
                            // No end in sight: drop what came (the rest of it is noise to the next '$').
                            input = new GdbInput(GdbInputKind.TooLong);
                            buffer = buffer.Slice(buffer.End);
                            return true;
                        }

                        buffer = buffer.Slice(at);
                        return false;
                    }

                    var raw = buffer.Slice(start, reader.Position);
                    reader.Advance(1);
                    if (!reader.TryCopyTo(digits))
                    {
                        buffer = buffer.Slice(at);
                        return false;
                    }

                    reader.Advance(2);
                    buffer = buffer.Slice(reader.Position);
                    if (raw.Length > MaxPayload)
                    {
                        input = new GdbInput(GdbInputKind.TooLong);
                        return true;
                    }

                    byte[] bytes = raw.ToArray();
                    int sum = 0;
                    foreach (byte x in bytes)
                    {
                        sum += x;
                    }

                    input = HexValue(digits[0]) is int hi && HexValue(digits[1]) is int lo && ((hi << 4) | lo) == (sum & 0xFF)
                        ? new GdbInput(GdbInputKind.Packet, Unescape(bytes))
                        : new GdbInput(GdbInputKind.BadChecksum);
                    return true;
            }
        }

        buffer = buffer.Slice(buffer.End);
        return false;
    }

    /// <summary>Frames <paramref name="payload"/>: escapes what must be, appends the checksum.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var output = new List<byte>(payload.Length + 4) { (byte)'$' };
        int sum = 0;
        foreach (byte b in payload)
        {
            if (b is (byte)'#' or (byte)'$' or (byte)'}' or (byte)'*')
            {
                output.Add((byte)'}');
                output.Add((byte)(b ^ 0x20));
                sum += '}' + (b ^ 0x20);
            }
            else
            {
                output.Add(b);
                sum += b;
            }
        }

        output.Add((byte)'#');
        output.Add(HexDigit((sum >> 4) & 0xF));
        output.Add(HexDigit(sum & 0xF));
        return [.. output];
    }

    private static byte[] Unescape(byte[] raw)
    {
        if (Array.IndexOf(raw, (byte)'}') < 0)
        {
            return raw;
        }

        var result = new List<byte>(raw.Length);
        for (int i = 0; i < raw.Length; i++)
        {
            result.Add(raw[i] == '}' && i + 1 < raw.Length ? (byte)(raw[++i] ^ 0x20) : raw[i]);
        }

        return [.. result];
    }

    private static int? HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => null,
    };

    private static byte HexDigit(int v) => (byte)(v < 10 ? '0' + v : 'a' + v - 10);
}
