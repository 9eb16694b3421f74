using System.Globalization;
using System.Text;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// A case with QEMU's states recorded, replayed against emu without QEMU
/// (<c>Regressions/*.txt</c>, <see cref="RegressionReplayTests"/>). Text, one field per line:
/// <code>
/// # comment lines
/// mode Long64
/// gprs 16 hex values (RAX RCX RDX RBX RSP RBP RSI RDI R8..R15)
/// flags hex
/// xmm 16 hex values (XMM0..XMM15)
/// mxcsr hex
/// memory-seed decimal (the scratch and stack pages' initial bytes, FuzzCase.InitialMemory)
/// code hex bytes of the sequence at 0xFFFF3000, ending with HLT
/// x87 fcw value... (optional: the case's x87 setup, values as sign-exponent:significand)
/// state rip flags vector gprs... selectors... memory xmm... mxcsr [fctrl fstat st0..st7]
/// </code>
/// One <c>state</c> line per QEMU state (the start, then after each instruction); its memory is
/// the bytes of the scratch and stack pages (offsets 0..0x1FFF) that differ from the initial
/// ones, present where QEMU's pages were read, <c>-</c> where they were not.
/// </summary>
public static class RegressionFile
{
    public static string Write(FuzzCase fuzzCase, IReadOnlyList<CpuState> qemu, string comment)
    {
        var sequence = fuzzCase.Encode();
        byte[] initial = fuzzCase.InitialMemory();
        var text = new StringBuilder();
        foreach (string line in comment.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            text.Append("# ").AppendLine(line.TrimEnd());
        }

        text.AppendLine($"mode {fuzzCase.Mode}");
        text.AppendLine("gprs " + string.Join(' ', fuzzCase.Gprs.Select(g => g.ToString("x"))));
        text.AppendLine($"flags {fuzzCase.Flags:x}");
        text.AppendLine("xmm " + string.Join(' ', fuzzCase.Xmm.Select(x => x.ToString("x"))));
        text.AppendLine($"mxcsr {fuzzCase.Mxcsr:x}");
        if (fuzzCase.X87 is { } x87)
        {
            text.AppendLine($"x87 {x87.Control:x} " + string.Join(' ', x87.Values.Select(v => v.ToString())).TrimEnd());
        }

        text.AppendLine($"memory-seed {fuzzCase.MemorySeed}");
        text.AppendLine("code " + Convert.ToHexString(sequence.Bytes).ToLowerInvariant());
        foreach (var state in qemu)
        {
            text.Append($"state {state.Rip:x} {state.Flags:x} {state.Vector} ");
            text.Append(string.Join(' ', state.Gprs.Select(g => g.ToString("x")))).Append(' ');
            text.Append(string.Join(' ', state.Selectors.Select(s => s.ToString("x")))).Append(' ');
            text.Append(state.Memory == null ? "-" : MemoryChanges(initial, state.Memory)).Append(' ');
            text.Append(string.Join(' ', state.Xmm.Select(x => x.ToString("x")))).Append(' ');
            text.Append(state.Mxcsr.ToString("x"));
            if (state.X87 is { } st)
            {
                text.Append($" {st.Control:x} {st.Status:x} ").Append(string.Join(' ', st.Registers.Select(r => r.ToString())));
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    public static (FuzzCase Case, EncodedSequence Sequence, List<CpuState> Qemu) Read(string text)
    {
        var mode = FuzzMode.Long64;
        ulong[] gprs = [];
        ulong flags = 2;
        UInt128[] xmm = new UInt128[16];
        uint mxcsr = 0x1F80;
        int memorySeed = 0;
        X87Setup? x87 = null;
        byte[] code = [];
        var states = new List<string[]>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (words[0])
            {
                case "mode": mode = Enum.Parse<FuzzMode>(words[1]); break;
                case "gprs": gprs = [.. words.Skip(1).Select(Hex)]; break;
                case "flags": flags = Hex(words[1]); break;
                case "xmm": xmm = [.. words.Skip(1).Select(Hex128)]; break;
                case "mxcsr": mxcsr = (uint)Hex(words[1]); break;
                case "x87": x87 = new X87Setup((ushort)Hex(words[1]), [.. words.Skip(2).Select(ParseFloat80)]); break;
                case "memory-seed": memorySeed = int.Parse(words[1], CultureInfo.InvariantCulture); break;
                case "code": code = Convert.FromHexString(words[1]); break;
                case "state": states.Add(words); break;
                default: throw new FormatException($"unknown line in a regression file: {line}");
            }
        }

        var fuzzCase = new FuzzCase(mode, gprs, flags, xmm, mxcsr, memorySeed, []) { X87 = x87 };
        byte[] initial = fuzzCase.InitialMemory();
        var qemu = states.Select(w => new CpuState(
            [.. w.Skip(4).Take(16).Select(Hex)], Hex(w[1]), Hex(w[2]),
            [.. w.Skip(20).Take(6).Select(s => (ushort)Hex(s))], int.Parse(w[3], CultureInfo.InvariantCulture),
            w[26] == "-" ? null : ApplyChanges(initial, w[26]),
            [.. w.Skip(27).Take(16).Select(Hex128)], (uint)Hex(w[43]))
        {
            X87 = w.Length > 44 ? new X87State([.. w.Skip(46).Take(8).Select(ParseFloat80)], (ushort)Hex(w[44]), (ushort)Hex(w[45])) : null,
        }).ToList();
        return (fuzzCase, EncodedSequence.Decode(code, mode), qemu);
    }

    /// <summary>Float80's text form, sign-exponent:significand.</summary>
    private static Emulator.Core.Cpu.Float.Float80 ParseFloat80(string s) =>
        new(Hex(s[(s.IndexOf(':') + 1)..]), (ushort)Hex(s[..s.IndexOf(':')]));

    private static ulong Hex(string s) => ulong.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static UInt128 Hex128(string s) => UInt128.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static string MemoryChanges(byte[] initial, byte[] memory)
    {
        var changes = Enumerable.Range(0, memory.Length).Where(i => memory[i] != initial[i]).Select(i => $"{i:x}:{memory[i]:x2}").ToList();
        return changes.Count == 0 ? "=" : string.Join(',', changes);
    }

    private static byte[] ApplyChanges(byte[] initial, string changes)
    {
        byte[] memory = (byte[])initial.Clone();
        if (changes != "=")
        {
            foreach (string change in changes.Split(','))
            {
                string[] parts = change.Split(':');
                memory[(int)Hex(parts[0])] = (byte)Hex(parts[1]);
            }
        }

        return memory;
    }
}
