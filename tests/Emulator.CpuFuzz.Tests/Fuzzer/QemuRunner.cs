using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// Runs cases' images under QEMU 7.2 (TCG, qemu64), one QEMU for many cases (reset between
/// them), with its gdb stub on a free local port: a breakpoint at the sequence's start, continue, then single steps, reading the
/// registers after each and the scratch and stack pages after each instruction that writes
/// memory. QEMU single-steps a REP string instruction one iteration per step with RIP on the
/// instruction (../shared/tools/qemu-trace/README.md); those steps are folded into one state.
/// Stepping masks interrupts (QEMU's default qqemu.sstep=0x7; the cases run with IF=0 anyway).
/// QEMU is killed on every exit path; a stub that stops answering times out with the reason.
/// </summary>
public sealed partial class QemuRunner : IDisposable
{
    public const string Binary = "qemu-system-x86_64";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Null when QEMU can be run, else why not (the fuzzer's tests fail with this).</summary>
    public static string? Unavailable()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(Binary, "--version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string version = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return version.Contains("version 7.2", StringComparison.Ordinal)
                ? null
                : $"{Binary} is not QEMU 7.2 (the reference): {version.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{Binary} not found ({e.Message}); install it with: apt-get install qemu-system-x86";
        }
    }

    private readonly Process _process;
    private readonly GdbRemote _gdb;
    private readonly RegisterLayout _layout;
    private readonly string _romPath;
    private readonly Task<string> _stderr;

    /// <summary>What QEMU's ROM holds now: the blank image at start, then the last case's.</summary>
    private readonly byte[] _romInQemu = new byte[FuzzLayout.RomSize];

    /// <summary>
    /// Starts QEMU paused at reset with a blank image (each case writes its own over it) and
    /// connects to its gdb stub.
    /// </summary>
    /// <param name="logged">Also log every instruction's state for <see cref="RunLogged"/> (QemuRunner.Logged.cs).</param>
    public QemuRunner(bool logged = false)
    {
        _romPath = Path.Combine(Path.GetTempPath(), $"emu-cpufuzz-{Environment.ProcessId}-{Guid.NewGuid():N}.rom");
        _logPath = logged ? Path.ChangeExtension(_romPath, ".log") : null;
        File.WriteAllBytes(_romPath, new byte[FuzzLayout.RomSize]);
        int port = FreePort();
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
        };
        foreach (string arg in new List<string>
        {
            "-machine", "pc,accel=tcg", "-cpu", "qemu64", "-m", "128", "-nodefaults",
            "-display", "none", "-monitor", "none", "-serial", "none", "-S",
            "-gdb", $"tcp:127.0.0.1:{port}", "-bios", _romPath,
        }.Concat(_logPath != null ? LogArguments(_logPath) : []))
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {Binary}");
        _stderr = _process.StandardError.ReadToEndAsync();
        try
        {
            _gdb = GdbRemote.Connect(port, Timeout, () => _process.HasExited ? $"exit code {_process.ExitCode}: {_stderr.Result.Trim()}" : null);
            _layout = RegisterLayout.Read(_gdb);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>One case on a QEMU of its own (the shrinker's and single checks' way).</summary>
    public static List<CpuState> RunOnce(EncodedSequence sequence, byte[] rom, int maxSteps)
    {
        using var qemu = new QemuRunner();
        return qemu.Run(sequence, rom, maxSteps);
    }

    /// <summary>
    /// Resets the machine (the monitor's system_reset), writes the case's image over the BIOS,
    /// and returns the state at the sequence's start, then after each instruction, up to the
    /// final HLT or the first exception handler; <paramref name="maxSteps"/> bounds the single steps.
    /// Only the bytes that differ from the image QEMU holds are written: QEMU copies a ROM blob
    /// into the ROM at the first reset only and then frees it (hw/core/loader.c, rom_reset:
    /// "rom needs to be written only once"), so the ROM keeps the previous case's image across
    /// system_reset (writing all 64 KiB hex-encoded was a third of a case's time). The debug
    /// write invalidates translated code there.
    /// </summary>
    public List<CpuState> Run(EncodedSequence sequence, byte[] rom, int maxSteps)
    {
        var states = new List<CpuState>();
        try
        {
            return Run(sequence, rom, maxSteps, states);
        }
        catch (IOException e) when (_process.WaitForExit(2000))
        {
            string last = states.Count > 0 ? sequence.Disassemble(states[^1].Rip, sequence.Mode) : "(before the sequence)";
            throw new IOException($"QEMU exited (code {_process.ExitCode}) stepping {last}: {_stderr.Result.Trim()}", e);
        }
    }

    private List<CpuState> Run(EncodedSequence sequence, byte[] rom, int maxSteps, List<CpuState> states)
    {
        var gdb = _gdb;
        ResetWith(rom);
        string at = $"{FuzzLayout.SequenceStart:x}";
        Expect(gdb.Command($"Z0,{at},1"), "OK", "setting the breakpoint at the sequence");
        ExpectStop(gdb.Command("c"), "running to the sequence");
        Expect(gdb.Command($"z0,{at},1"), "OK", "removing the breakpoint");
        states.Add(ReadState(gdb, _layout, sequence, withMemory: true));
        for (int steps = 0; steps < maxSteps;)
        {
            var last = states[^1];
            if (last.Rip == sequence.HltAddress || last.Vector >= 0)
            {
                return states;
            }

            CpuState next;
            do
            {
                ExpectStop(gdb.Command("s"), $"single step {steps}");
                steps++;
                next = ReadState(gdb, _layout, sequence, withMemory: false);
            }
            while ((next.Rip == last.Rip || InsideAnInstruction(sequence, last, next)) && steps < maxSteps);

            bool memory = sequence.MemoryWriters.Contains(last.Rip) || next.Vector >= 0 || next.Rip == sequence.HltAddress;
            states.Add(memory ? next with { Memory = ReadPages(gdb) } : next);
        }

        throw new InvalidOperationException($"QEMU did not reach the final HLT or a handler within {maxSteps} steps (last RIP {states[^1].Rip:x})");
    }

    /// <summary>The monitor's system_reset, then the bytes of the case's image that differ from what QEMU holds.</summary>
    private void ResetWith(byte[] rom)
    {
        _gdb.Monitor("system_reset");
        foreach (var (offset, length) in ChangedRuns(_romInQemu, rom))
        {
            _gdb.WriteMemory(FuzzLayout.RomBase + (ulong)offset, rom.AsSpan(offset, length));
        }

        rom.CopyTo(_romInQemu, 0);
    }

    /// <summary>
    /// A step that stopped inside the instruction <paramref name="from"/> was at: after the WAIT
    /// of a 9B-prefixed x87 form (FSTSW, FINIT, …), which Iced decodes, and emu runs, as one
    /// instruction and QEMU translates as two (translate.c: 0x9b is an instruction of its own).
    /// Folded into the step of the whole form, as a REP iteration is. A branch target that the
    /// linear decoding of the sequence does not list (a jump over bytes Iced decodes otherwise)
    /// is an instruction of its own, not folded.
    /// </summary>
    private static bool InsideAnInstruction(EncodedSequence sequence, CpuState from, CpuState state)
    {
        int at = Array.BinarySearch(sequence.Addresses, from.Rip);
        return state.Vector < 0 && at >= 0 && at + 1 < sequence.Addresses.Length
            && state.Rip > from.Rip && state.Rip < sequence.Addresses[at + 1];
    }

    /// <summary>
    /// The runs where <paramref name="image"/> differs from <paramref name="previous"/> (equal
    /// gaps shorter than a packet's overhead are written through).
    /// </summary>
    internal static IEnumerable<(int Offset, int Length)> ChangedRuns(byte[] previous, byte[] image)
    {
        const int gapWorthSkipping = 32;
        int i = 0;
        while (i < image.Length)
        {
            while (i < image.Length && image[i] == previous[i])
            {
                i++;
            }

            if (i == image.Length)
            {
                yield break;
            }

            int start = i, end = i, same = 0;
            for (; i < image.Length && same < gapWorthSkipping; i++)
            {
                same = image[i] == previous[i] ? same + 1 : 0;
                if (same == 0)
                {
                    end = i + 1;
                }
            }

            yield return (start, end - start);
        }
    }

    /// <summary>Kills QEMU (whatever state it is in) and removes the blank image.</summary>
    public void Dispose()
    {
        _gdb?.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit();
        _process.Dispose();
        File.Delete(_romPath);
        if (_logPath != null)
        {
            File.Delete(_logPath);
            File.Delete(_logPath + ".b");
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void Expect(string reply, string expected, string what)
    {
        if (reply != expected)
        {
            throw new IOException($"QEMU's gdb stub answered '{reply}' {what}");
        }
    }

    /// <summary>A stop reply: S05 or T05... (SIGTRAP after a step or at a breakpoint).</summary>
    private static void ExpectStop(string reply, string what)
    {
        if (!reply.StartsWith("T05", StringComparison.Ordinal) && !reply.StartsWith("S05", StringComparison.Ordinal))
        {
            throw new IOException($"QEMU's gdb stub answered '{reply}' {what} (expected a SIGTRAP stop)");
        }
    }

    private static byte[] ReadPages(GdbRemote gdb) =>
        [.. gdb.ReadMemory(FuzzLayout.ScratchPage, FuzzLayout.PageSize), .. gdb.ReadMemory(FuzzLayout.StackPage, FuzzLayout.PageSize)];

    private static CpuState ReadState(GdbRemote gdb, RegisterLayout layout, EncodedSequence sequence, bool withMemory)
    {
        byte[] g = Convert.FromHexString(gdb.Command("g"));
        // gdb's order (RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP) to the encoding order.
        string[] names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
        var gprs = names.Select(n => layout.Get(g, n)).ToArray();
        ulong rip = layout.Get(g, "rip");
        var selectors = CpuState.SelectorNames.Select(n => (ushort)layout.Get(g, n)).ToArray();
        int vector = sequence.VectorAt(rip);
        var xmm = Enumerable.Range(0, 16).Select(i => layout.Get128(g, $"xmm{i}")).ToArray();
        var x87 = new X87State([.. Enumerable.Range(0, 8).Select(i => layout.GetFloat80(g, $"st{i}"))], (ushort)layout.Get(g, "fctrl"), (ushort)layout.Get(g, "fstat"));
        return new CpuState(gprs, rip, layout.Get(g, "eflags"), selectors, vector, withMemory ? ReadPages(gdb) : null, xmm, (uint)layout.Get(g, "mxcsr"))
        {
            X87 = x87,
        };
    }

    /// <summary>
    /// The order and size of the registers in a <c>g</c> reply, from the stub's target
    /// description (QEMU 7.2: target.xml including i386-64bit.xml; GPRs and RIP are 8 bytes
    /// in every mode, EFLAGS and the selectors 4).
    /// </summary>
    private sealed partial class RegisterLayout
    {
        private readonly Dictionary<string, (int Offset, int Size)> _registers = [];

        public static RegisterLayout Read(GdbRemote gdb)
        {
            string xml = gdb.ReadXfer("features", "target.xml");
            foreach (Match include in IncludeRegex().Matches(xml))
            {
                xml += gdb.ReadXfer("features", include.Groups[1].Value);
            }

            // QEMU 7.2's i386-64bit.xml comments out ss_base, ds_base and es_base: not in the reply.
            xml = CommentRegex().Replace(xml, "");
            var layout = new RegisterLayout();
            int offset = 0;
            foreach (Match reg in RegRegex().Matches(xml))
            {
                int size = int.Parse(reg.Groups[2].Value) / 8;
                layout._registers[reg.Groups[1].Value] = (offset, size);
                offset += size;
            }

            return layout;
        }

        public ulong Get(byte[] g, string name)
        {
            var (offset, size) = _registers.TryGetValue(name, out var r) ? r : throw new IOException($"QEMU's target description has no register '{name}'");
            ulong value = 0;
            for (int i = Math.Min(size, 8) - 1; i >= 0; i--)
            {
                value = value << 8 | g[offset + i];
            }

            return value;
        }

        /// <summary>A 128-bit register (an XMM register: QEMU's vec128 type, little-endian bytes).</summary>
        public UInt128 Get128(byte[] g, string name)
        {
            var (offset, size) = _registers.TryGetValue(name, out var r) && r.Size == 16 ? r : throw new IOException($"QEMU's target description has no 128-bit register '{name}'");
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(g.AsSpan(offset, size));
        }

        /// <summary>An x87 register (QEMU's i387_ext: the 8-byte significand, then sign and exponent, little-endian).</summary>
        public Emulator.Core.Cpu.Float.Float80 GetFloat80(byte[] g, string name)
        {
            var (offset, _) = _registers.TryGetValue(name, out var r) && r.Size == 10 ? r : throw new IOException($"QEMU's target description has no 80-bit register '{name}'");
            return new(System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(g.AsSpan(offset)),
                System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(g.AsSpan(offset + 8)));
        }

        [GeneratedRegex("<!--.*?-->", RegexOptions.Singleline)]
        private static partial Regex CommentRegex();

        [GeneratedRegex("href=\"([^\"]+)\"")]
        private static partial Regex IncludeRegex();

        [GeneratedRegex("<reg\\s+name=\"([^\"]+)\"\\s+bitsize=\"(\\d+)\"")]
        private static partial Regex RegRegex();
    }
}
