using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The encodings where Iced and QEMU 7.2's decoder (target/i386/tcg/translate.c) disagree about
/// what the bytes are. QEMU is the reference machine, so its reading wins:
/// <list type="bullet">
/// <item>A LOCK prefix where the SDM says #UD: QEMU 7.2 refuses it only on some paths and runs
///   the rest as without it (<see cref="QemuRefusesLock"/>); Iced calls them invalid.</item>
/// <item>F3 90 with REX.B in 64-bit mode: QEMU tests REX.B before the REPZ prefix, so this is
///   XCHG r8, rAX with the F3 ignored; Iced calls it PAUSE.</item>
/// <item>LFENCE, MFENCE, SFENCE with a 66, F2 or F3 prefix that Iced calls invalid: QEMU ignores
///   the prefix (see <see cref="DecodeAsQemu"/>).</item>
/// </list>
/// All are checked only for Iced's INVALID and PAUSE results, so the common decode pays one
/// comparison; the rare re-decodes may allocate.
/// </summary>
public sealed partial class Cpu
{
    private Decoder? _lenientDecoder16;
    private Decoder? _lenientDecoder32;
    private Decoder? _lenientDecoder64;

    /// <summary>Replaces <paramref name="insn"/>, decoded from linear <paramref name="lin"/>, by QEMU's reading where the two differ.</summary>
    private void DecodeAsQemu(ref Instruction insn, ulong lin)
    {
        if (insn.Code == Code.Pause)
        {
            // F3 90 with REX.B: without the F3s the bytes are the XCHG QEMU executes.
            if (_bitness == 64 && RedecodeWithout(lin, in insn, [0xF3], out var exchange)
                && exchange.Mnemonic == Mnemonic.Xchg)
            {
                insn = exchange;
            }

            return;
        }

        var lenient = _bitness switch
        {
            64 => _lenientDecoder64 ??= Decoder.Create(64, _reader, DecoderOptions.NoInvalidCheck | DecoderOptions.None),
            32 => _lenientDecoder32 ??= Decoder.Create(32, _reader, DecoderOptions.NoInvalidCheck | DecoderOptions.None),
            _ => _lenientDecoder16 ??= Decoder.Create(16, _reader, DecoderOptions.NoInvalidCheck | DecoderOptions.None),
        };
        _reader.Position = lin;
        lenient.IP = insn.IP;
        lenient.Decode(out var lenientInsn);
        if (lenientInsn.HasLockPrefix)
        {
            // Iced refuses LOCK where the SDM does; QEMU runs most of those forms as without it
            // (Cpu.DecodeLock.cs). The bytes without LOCK must be the same valid instruction.
            // An MMX form QEMU refuses still makes its CR0 checks and switches to MMX state first
            // (QemuEntersMmxBeforeRefusingLock), an SSE form its CR0/CR4 checks
            // (QemuChecksSseBeforeRefusingLock), an ALU form its memory source's load
            // (QemuLoadsSourceBeforeRefusingLock): kept, with the handler Decode gives it.
            if (RedecodeWithout(lin, in insn, [0xF0], out var unlocked) && unlocked.Code == lenientInsn.Code
                && (!QemuRefusesLock(in unlocked) || QemuEntersMmxBeforeRefusingLock(in unlocked)
                    || QemuChecksSseBeforeRefusingLock(in unlocked) || QemuLoadsSourceBeforeRefusingLock(in unlocked)))
            {
                insn = lenientInsn;
            }

            return;
        }

        // 66/F2/F3 0F AE E8..FF: QEMU's 0F AE case switches on the ModRM byte alone, so these
        // are the fences, except 66 0F AE F8 (PCOMMIT, absent on qemu64: #UD).
        if (RedecodeWithout(lin, in insn, [0x66, 0xF2, 0xF3], out var fence)
            && fence.Mnemonic is Mnemonic.Lfence or Mnemonic.Mfence or Mnemonic.Sfence
            && !(fence.Code == Code.Sfence && HasPrefix(lin, insn.Length, 0x66)))
        {
            insn = fence;
        }
    }

    /// <summary>
    /// Decodes the <paramref name="original"/> instruction's bytes again without the prefixes
    /// listed in <paramref name="drop"/>; false when there were none to drop or the rest is not one
    /// instruction of the same bytes. The result keeps the original address and length.
    /// </summary>
    private bool RedecodeWithout(ulong lin, in Instruction original, ReadOnlySpan<byte> drop, out Instruction result)
    {
        byte[] bytes = ReadInstructionBytes(lin, original.Length);
        int prefixes = PrefixCount(bytes);
        var kept = new List<byte>(bytes.Length);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (i >= prefixes || !drop.Contains(bytes[i]))
            {
                kept.Add(bytes[i]);
            }
        }

        result = default;
        if (kept.Count == bytes.Length)
        {
            return false;
        }

        var decoder = Decoder.Create(_bitness, new ByteArrayCodeReader(kept.ToArray()), original.IP, DecoderOptions.None);
        decoder.Decode(out result);
        if (result.Length != kept.Count)
        {
            return false;
        }

        result.Length = original.Length;
        return true;
    }

    private bool HasPrefix(ulong lin, int length, byte prefix)
    {
        byte[] bytes = ReadInstructionBytes(lin, length);
        return bytes.AsSpan(0, PrefixCount(bytes)).Contains(prefix);
    }

    private byte[] ReadInstructionBytes(ulong lin, int length)
    {
        var bytes = new byte[length];
        _reader.Position = lin;
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)_reader.ReadByte();
        }

        return bytes;
    }

    /// <summary>How many leading bytes are prefixes: legacy ones, and REX in 64-bit mode.</summary>
    private int PrefixCount(byte[] bytes)
    {
        int n = 0;
        while (n < bytes.Length - 1
            && (bytes[n] is 0x26 or 0x2E or 0x36 or 0x3E or 0x64 or 0x65 or 0x66 or 0x67 or 0xF0 or 0xF2 or 0xF3
                || (_bitness == 64 && bytes[n] is >= 0x40 and <= 0x4F)))
        {
            n++;
        }

        return n;
    }
}
