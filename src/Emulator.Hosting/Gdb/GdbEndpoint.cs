using System.Globalization;
using System.Net;

namespace Emulator.Hosting.Gdb;

/// <summary>
/// Where the gdb server listens, written as QEMU's <c>-gdb</c> device: <c>tcp::PORT</c> (emu binds
/// the loopback address, so nothing outside the host can drive the guest unless asked),
/// <c>tcp:HOST:PORT</c> (that address; <c>0.0.0.0</c> for all), or a bare <c>PORT</c>. Port 0
/// picks a free one, which the log names.
/// </summary>
public static class GdbEndpoint
{
    /// <summary>QEMU's <c>-s</c>: <c>-gdb tcp::1234</c>.</summary>
    public const string QemuDefault = "tcp::1234";

    /// <summary>The endpoint <paramref name="spec"/> names; a <see cref="UsageException"/> that starts with <paramref name="where"/> (the option as given) otherwise.</summary>
    public static IPEndPoint Parse(string where, string spec)
    {
        string rest = spec.StartsWith("tcp:", StringComparison.Ordinal) ? spec[4..] : spec;
        int colon = rest.LastIndexOf(':');
        string host = colon >= 0 ? rest[..colon] : string.Empty;
        string port = colon >= 0 ? rest[(colon + 1)..] : rest;
        bool tcp = spec.StartsWith("tcp:", StringComparison.Ordinal);
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number > 65535
            || (colon < 0) == tcp)
        {
            throw new UsageException($"{where}: expected tcp::PORT, tcp:HOST:PORT or PORT (a TCP port 0-65535)");
        }

        if (host.Length == 0 || host == "localhost")
        {
            return new IPEndPoint(IPAddress.Loopback, number);
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var address)
            ? new IPEndPoint(address, number)
            : throw new UsageException($"{where}: '{host}' is not an IP address (give one, e.g. tcp:0.0.0.0:{number})");
    }
}
