using System.Globalization;
using Emulator.Core.Cpu.Float;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// Reads the CPU states QEMU 7.2 logs with <c>-d cpu,fpu</c>: one dump per translation block
/// before it runs (accel/tcg/cpu-exec.c, log_cpu_exec), in target/i386/cpu-dump.c's
/// x86_cpu_dump_state format. With <c>-singlestep</c> every block is one instruction, so the
/// dumps are the state before each instruction. The fields are the ones the gdb stub's
/// <c>g</c> reply gives the stepped run: the GPRs (RAX..R15 in 64-bit code; EAX..EDI, 32 bits,
/// elsewhere, where the stub's upper halves are not compared either), RIP, RFLAGS (both from
/// cpu_compute_eflags), the selectors, FCW, FSW with TOP, the physical x87 registers (FPRn, as
/// the stub's st0..st7), MXCSR, and XMM0..XMM15 (XMM0..XMM7 outside 64-bit code).
/// </summary>
internal static class QemuCpuLog
{
    /// <summary>The states in <paramref name="text"/>, in order; a dump cut short (the text's end) is left out.</summary>
    public static List<CpuState> Parse(string text, EncodedSequence sequence)
    {
        var states = new List<CpuState>();
        var lines = text.Split('\n');
        int i = 0;
        while (i < lines.Length)
        {
            if (!lines[i].StartsWith("RAX=", StringComparison.Ordinal) && !lines[i].StartsWith("EAX=", StringComparison.Ordinal))
            {
                i++;
                continue;
            }

            int end = i + 1;
            while (end < lines.Length && !lines[end].StartsWith("RAX=", StringComparison.Ordinal) && !lines[end].StartsWith("EAX=", StringComparison.Ordinal))
            {
                end++;
            }

            if (ParseDump(lines.AsSpan(i, end - i), sequence) is { } state)
            {
                states.Add(state);
            }

            i = end;
        }

        return states;
    }

    private static CpuState? ParseDump(ReadOnlySpan<string> lines, EncodedSequence sequence)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in lines)
        {
            // "RAX=0000000000000000 RBX=...", "ES =0000 0000000000000000 0000ffff 00009300",
            // "FPR0=8000000000000000 3fff FPR1=...", "XMM00=0000000000000000 0000000000000000 XMM01=...".
            int at = 0;
            while (at < line.Length)
            {
                int eq = line.IndexOf('=', at);
                if (eq < 0)
                {
                    break;
                }

                string name = line[at..eq].Trim();
                int valueEnd = NextField(line, eq + 1);
                fields[name] = line[(eq + 1)..valueEnd].Trim();
                at = valueEnd;
            }
        }

        bool wide = fields.ContainsKey("RAX");
        string[] gprNames = wide
            ? ["RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"]
            : ["EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"];
        string[] needed = [.. gprNames, wide ? "RIP" : "EIP", wide ? "RFL" : "EFL", "ES", "CS", "SS", "DS", "FS", "GS", "FCW", "FSW", "MXCSR", "FPR7", wide ? "XMM15" : "XMM07"];
        if (needed.Any(n => !fields.ContainsKey(n)))
        {
            return null;
        }

        var gprs = new ulong[16];
        for (int r = 0; r < gprNames.Length; r++)
        {
            gprs[r] = Hex(fields[gprNames[r]]);
        }

        ulong rip = Hex(fields[wide ? "RIP" : "EIP"]);
        ulong flags = Hex(FirstWord(fields[wide ? "RFL" : "EFL"]));
        var selectors = CpuState.SelectorNames.Select(s => (ushort)Hex(FirstWord(fields[s.ToUpperInvariant()]))).ToArray();
        var xmm = new UInt128[16];
        for (int r = 0; r < (wide ? 16 : 8); r++)
        {
            var halves = fields[$"XMM{r:d2}"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            xmm[r] = new UInt128(Hex(halves[0]), Hex(halves[1]));
        }

        var registers = new Float80[8];
        for (int r = 0; r < 8; r++)
        {
            var parts = fields[$"FPR{r}"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            registers[r] = new Float80(Hex(parts[0]), (ushort)Hex(parts[1]));
        }

        var x87 = new X87State(registers, (ushort)Hex(fields["FCW"]), (ushort)Hex(FirstWord(fields["FSW"])));
        return new CpuState(gprs, rip, flags, selectors, sequence.VectorAt(rip), null, xmm, (uint)Hex(fields["MXCSR"])) { X87 = x87 };
    }

    /// <summary>Where the value that starts at <paramref name="from"/> ends: at the next "NAME=" on the line.</summary>
    private static int NextField(string line, int from)
    {
        int eq = line.IndexOf('=', from);
        if (eq < 0)
        {
            return line.Length;
        }

        // Back from the '=' over the name (and the padding of "R8 =", "ES =") to the space before it.
        int nameStart = eq;
        while (nameStart > from && line[nameStart - 1] == ' ')
        {
            nameStart--;
        }

        while (nameStart > from && line[nameStart - 1] != ' ')
        {
            nameStart--;
        }

        return nameStart;
    }

    private static string FirstWord(string value)
    {
        int space = value.IndexOf(' ');
        return space < 0 ? value : value[..space];
    }

    private static ulong Hex(string value) => ulong.Parse(value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
