using System.Globalization;
using System.Text;
using Emulator.Core.Cpu;

namespace Emulator.Hosting.Gdb;

/// <summary>What the run loop does after a packet.</summary>
internal enum GdbResume
{
    /// <summary>Stay stopped: the reply (if any) was all.</summary>
    None,

    /// <summary>Run until something stops the guest.</summary>
    Continue,

    /// <summary>Run one instruction, then report the stop.</summary>
    Step,

    /// <summary>Forget the debugger's breakpoints and run on without it.</summary>
    Detach,

    /// <summary>End the run (gdb's <c>kill</c>).</summary>
    Kill,

    /// <summary>Go back one instruction (<c>bs</c>).</summary>
    ReverseStep,

    /// <summary>Go back to the last breakpoint hit, or the start of history (<c>bc</c>).</summary>
    ReverseContinue,
}

/// <summary>
/// The gdb remote protocol's commands, served on the CPU thread while the guest is stopped (all
/// stop mode, one thread): registers (<see cref="GdbRegisterFile"/>), memory
/// (<see cref="GdbMemory"/>), breakpoints (<c>Z0</c>/<c>Z1</c> as emu's own host breakpoints: no
/// INT3 is written, so they work in flash and ROM, and blocks stay compiled), watchpoints
/// (<c>Z2</c>–<c>Z4</c>, <see cref="Cpu.AddHostWatchpoint"/>), the target description, and
/// <c>monitor</c> commands. Unknown packets get the empty reply, as the protocol asks.
/// </summary>
internal sealed class GdbStub
{
    private readonly Cpu _cpu;
    private readonly GdbRegisterFile _registers;
    private readonly Func<string, string>? _monitor;
    private readonly Func<IEnumerable<GdbLibrary>>? _libraries;
    private readonly HashSet<ulong> _breakpoints = [];
    private readonly List<HostWatchpoint> _watchpoints = [];

    private readonly bool _reverse;

    public GdbStub(Cpu cpu, Func<string, string>? monitor, Func<IEnumerable<GdbLibrary>>? libraries = null, bool reverse = false)
    {
        _reverse = reverse;
        _cpu = cpu;
        _monitor = monitor;
        _libraries = libraries;
        _registers = cpu.Model.LongMode ? GdbRegisterFile.X86_64 : GdbRegisterFile.I386;
    }

    /// <summary>Whether <paramref name="linear"/> holds one of the debugger's breakpoints.</summary>
    public bool IsBreakpoint(ulong linear) => _breakpoints.Contains(linear);

    /// <summary>Whether gdb is offered reverse execution (<c>bs</c>, <c>bc</c>).</summary>
    public bool ReverseEnabled => _reverse;

    /// <summary>The debugger's breakpoints (linear addresses).</summary>
    public IReadOnlyCollection<ulong> Breakpoints => _breakpoints;

    /// <summary>Takes the debugger's watchpoints off the CPU (true) or puts them back (false), around a replay of history.</summary>
    public void SuspendWatchpoints(bool suspend)
    {
        foreach (var w in _watchpoints)
        {
            if (suspend)
            {
                _cpu.RemoveHostWatchpoint(w);
            }
            else
            {
                _cpu.AddHostWatchpoint(w);
            }
        }
    }

    /// <summary>Whether <paramref name="packet"/> changes the machine (registers, memory, a resume at another address): history does not hold such a change.</summary>
    public static bool ChangesMachine(string packet) =>
        packet.Length > 0 && (packet[0] is 'G' or 'P' or 'M' or 'X' || (packet[0] is 'c' or 's' && packet.Length > 1));

    /// <summary>The signal and reason gdb is told when the guest stops (<c>?</c>, and after each resume).</summary>
    public string StopReply(HostWatchHit? watch = null, bool librariesChanged = false)
    {
        if (librariesChanged)
        {
            // gdb reads qXfer:libraries:read again, loads what it can, and goes on by itself
            // (unless 'set stop-on-solib-events 1').
            return "T05library:;thread:01;";
        }

        if (watch is { } hit)
        {
            string kind = hit.Watchpoint.Kind switch
            {
                WatchKind.Write => "watch",
                WatchKind.Read => "rwatch",
                _ => "awatch",
            };
            return $"T05{kind}:{hit.Address:x};thread:01;";
        }

        return "T05thread:01;";
    }

    /// <summary>Handles one packet: the reply to send (null for none) and what to do next.</summary>
    public (string? Reply, GdbResume Resume) Handle(string packet)
    {
        if (packet.Length == 0)
        {
            return (string.Empty, GdbResume.None);
        }

        try
        {
            return packet[0] switch
            {
                '?' => (StopReply(), GdbResume.None),
                'g' => (Hex(_registers.ReadAll(_cpu)), GdbResume.None),
                'G' => (Done(_registers.WriteAll(_cpu, FromHex(packet[1..]))), GdbResume.None),
                'p' => (_registers.Read(_cpu, (int)Number(packet[1..])) is { } r ? Hex(r) : "E00", GdbResume.None),
                'P' => (WriteRegister(packet[1..]), GdbResume.None),
                'm' => (ReadMemory(packet[1..]), GdbResume.None),
                'M' => (WriteMemory(packet[1..], binary: false), GdbResume.None),
                'X' => (WriteMemory(packet[1..], binary: true), GdbResume.None),
                'c' or 's' => Resume(packet, packet[0] == 's'),
                // Csig / Ssig: the signal means nothing to a machine (QEMU ignores it too).
                'C' or 'S' => (null, packet[0] == 'S' ? GdbResume.Step : GdbResume.Continue),
                'v' => Verbose(packet),
                'Z' or 'z' => (Point(packet), GdbResume.None),
                'H' or 'T' => ("OK", GdbResume.None),
                'D' => ("OK", GdbResume.Detach),
                'k' => (null, GdbResume.Kill),
                'b' when _reverse && packet == "bs" => (null, GdbResume.ReverseStep),
                'b' when _reverse && packet == "bc" => (null, GdbResume.ReverseContinue),
                'q' or 'Q' => (Query(packet), GdbResume.None),
                _ => (string.Empty, GdbResume.None),
            };
        }
        catch (FormatException)
        {
            return ("E.malformed packet", GdbResume.None);
        }
        catch (OverflowException)
        {
            return ("E.number out of range", GdbResume.None);
        }
        catch (ArgumentException e)
        {
            // A value the machine refuses (a register or watchpoint it cannot take): the client's
            // error, answered, never the run's end.
            return ("E." + e.Message, GdbResume.None);
        }
    }

    /// <summary>Removes every breakpoint and watchpoint the debugger set (detach, disconnect).</summary>
    public void ClearPoints()
    {
        foreach (ulong at in _breakpoints)
        {
            _cpu.RemoveBreakpoint(at);
        }

        foreach (var w in _watchpoints)
        {
            _cpu.RemoveHostWatchpoint(w);
        }

        _breakpoints.Clear();
        _watchpoints.Clear();
    }

    private (string?, GdbResume) Resume(string packet, bool step)
    {
        // "c ADDR" / "s ADDR": resume at ADDR.
        if (packet.Length > 1)
        {
            _cpu.SetRipForDebugger(GdbRegisterFile.IpFromLinear(_cpu, Number(packet[1..])));
        }

        return (null, step ? GdbResume.Step : GdbResume.Continue);
    }

    private (string?, GdbResume) Verbose(string packet)
    {
        if (packet == "vCont?")
        {
            return ("vCont;c;C;s;S", GdbResume.None);
        }

        if (packet.StartsWith("vCont;", StringComparison.Ordinal) && packet.Length > 6)
        {
            // One thread: the first action decides (vCont;s:1;c steps thread 1, the others stay).
            char action = packet[6];
            return action switch
            {
                'c' or 'C' => (null, GdbResume.Continue),
                's' or 'S' => (null, GdbResume.Step),
                _ => ("E.unsupported vCont action", GdbResume.None),
            };
        }

        if (packet.StartsWith("vKill", StringComparison.Ordinal))
        {
            return ("OK", GdbResume.Kill);
        }

        return (string.Empty, GdbResume.None);
    }

    private string Query(string packet)
    {
        if (packet.StartsWith("qSupported", StringComparison.Ordinal))
        {
            return $"PacketSize={GdbFraming.MaxPayload:x};qXfer:features:read+;{(_libraries != null ? "qXfer:libraries:read+;" : string.Empty)}"
                + $"{(_reverse ? "ReverseStep+;ReverseContinue+;" : string.Empty)}QStartNoAckMode+;vContSupported+";
        }

        if (packet.StartsWith("qXfer:features:read:", StringComparison.Ordinal))
        {
            // qXfer:features:read:ANNEX:OFFSET,LENGTH
            string[] parts = packet["qXfer:features:read:".Length..].Split(':');
            return parts.Length != 2 || parts[0] != "target.xml" ? "E00" : Transfer(_registers.TargetXml, parts[1]);
        }

        if (packet.StartsWith("qXfer:libraries:read::", StringComparison.Ordinal) && _libraries != null)
        {
            // Read from the start, the list is made anew; later pieces continue that text.
            string range = packet["qXfer:libraries:read::".Length..];
            if (range.StartsWith("0,", StringComparison.Ordinal) || _libraryXml is null)
            {
                _libraryXml = GdbLibrary.ListXml(_libraries());
            }

            return Transfer(_libraryXml, range);
        }

        return packet switch
        {
            "QStartNoAckMode" => "OK",
            "qAttached" or "qAttached:1" => "1",
            "qC" => "QC01",
            "qfThreadInfo" => "m01",
            "qsThreadInfo" => "l",
            "qSymbol::" => "OK",
            _ when packet.StartsWith("qRcmd,", StringComparison.Ordinal) => Monitor(packet["qRcmd,".Length..]),
            _ when packet.StartsWith("qThreadExtraInfo", StringComparison.Ordinal) => Hex(Encoding.ASCII.GetBytes("CPU 0")),
            _ => string.Empty,
        };
    }

    private string? _libraryXml;

    /// <summary>A qXfer read's piece of <paramref name="document"/>: <c>m</c> and more to come, or <c>l</c> and the last.</summary>
    private static string Transfer(string document, string offsetLength)
    {
        string[] range = offsetLength.Split(',');
        if (range.Length != 2)
        {
            return "E.malformed packet";
        }

        int offset = (int)Math.Min(Number(range[0]), int.MaxValue);
        int length = (int)Math.Min(Number(range[1]), GdbFraming.MaxPayload - 1);
        return offset >= document.Length ? "l" : (offset + length >= document.Length ? "l" : "m") + document.Substring(offset, Math.Min(length, document.Length - offset));
    }

    private string Monitor(string hexCommand)
    {
        string command = Encoding.Latin1.GetString(FromHex(hexCommand)).Trim();
        string output = _monitor?.Invoke(command) ?? "no monitor commands here\n";
        return Hex(Encoding.UTF8.GetBytes(output.EndsWith('\n') ? output : output + "\n"));
    }

    private string WriteRegister(string body)
    {
        int eq = body.IndexOf('=');
        return eq <= 0 ? "E.malformed packet" : Done(_registers.Write(_cpu, (int)Number(body[..eq]), FromHex(body[(eq + 1)..])));
    }

    private string ReadMemory(string body)
    {
        var (address, length) = AddressLength(body);
        if (length == 0)
        {
            return string.Empty;
        }

        return GdbMemory.Read(_cpu, address, (int)Math.Min(length, int.MaxValue)) is { } bytes ? Hex(bytes) : "E14";
    }

    private string WriteMemory(string body, bool binary)
    {
        int colon = body.IndexOf(':');
        if (colon < 0)
        {
            return "E.malformed packet";
        }

        var (address, length) = AddressLength(body[..colon]);
        byte[] data = binary ? Encoding.Latin1.GetBytes(body[(colon + 1)..]) : FromHex(body[(colon + 1)..]);
        if ((ulong)data.Length != length)
        {
            return "E.length does not match the data";
        }

        return GdbMemory.Write(_cpu, address, data) ? "OK" : "E14";
    }

    private string Point(string packet)
    {
        // Z/z TYPE,ADDR,KIND: 0 software and 1 hardware breakpoints, 2 write, 3 read, 4 access watchpoints.
        string[] parts = packet[1..].Split(',');
        if (parts.Length < 3)
        {
            return "E.malformed packet";
        }

        bool insert = packet[0] == 'Z';
        ulong address = Number(parts[1]);
        ulong kind = Number(parts[2].Split(';')[0]);
        switch (parts[0])
        {
            case "0" or "1":
                if (insert && _breakpoints.Add(address))
                {
                    _cpu.AddBreakpoint(address);
                }
                else if (!insert && _breakpoints.Remove(address))
                {
                    _cpu.RemoveBreakpoint(address);
                }

                return "OK";
            case "2" or "3" or "4":
                if (kind == 0)
                {
                    return "E.a watchpoint covers at least one byte";
                }

                var watch = new HostWatchpoint(address, kind, parts[0] switch { "2" => WatchKind.Write, "3" => WatchKind.Read, _ => WatchKind.Access });
                if (insert)
                {
                    _watchpoints.Add(watch);
                    _cpu.AddHostWatchpoint(watch);
                }
                else if (_watchpoints.Remove(watch))
                {
                    _cpu.RemoveHostWatchpoint(watch);
                }

                return "OK";
            default:
                return string.Empty;
        }
    }

    private static (ulong Address, ulong Length) AddressLength(string body)
    {
        int comma = body.IndexOf(',');
        return comma <= 0 ? throw new FormatException() : (Number(body[..comma]), Number(body[(comma + 1)..]));
    }

    private static string Done(string? error) => error is null ? "OK" : "E." + error;

    private static ulong Number(string hex) => ulong.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private static byte[] FromHex(string hex) => Convert.FromHexString(hex);
}
