using System.Globalization;
using System.Text;
using Emulator.Core.Devices.CfiFlash;

namespace Emulator.Hosting.Boot;

/// <summary>
/// <c>boot --flash-log FILE</c>: one line per completed program or erase, in the order the guest
/// completed them, so two runs (or two builds) can be compared with <c>diff</c>:
/// <code>
/// # emu flash log v1: instruction chip op offset length old new
/// 612345678 pflash1 program 0x0000A3F0 1 ff 5a
/// 612400000 pflash1 erase 0x00010000 4096 00aa{ff*4094} {ff*4096}
/// </code>
/// <c>instruction</c> is the index of the writing instruction (instructions executed before it);
/// <c>offset</c> is within the chip; <c>old</c>/<c>new</c> are the bytes before and after, in
/// hex, where a run of <see cref="MinRun"/> or more equal bytes is written <c>{hh*count}</c>.
/// A shadow copy of each chip supplies the old bytes, so the device model stays unaware of logging.
/// </summary>
internal sealed class FlashWriteLog : IFlashWriteListener, IDisposable
{
    public const string Header = "# emu flash log v1: instruction chip op offset length old new";

    /// <summary>Shorter runs stay plain hex: "{ff*4}" would be no shorter than "ffffffff".</summary>
    public const int MinRun = 8;

    private readonly TextWriter _out;
    private readonly Func<long> _instruction;
    private readonly Dictionary<CfiFlash, byte[]> _shadows = [];
    private readonly StringBuilder _line = new();

    public FlashWriteLog(TextWriter output, Func<long> instructionIndex)
    {
        _out = output;
        _instruction = instructionIndex;
        _out.WriteLine(Header);
    }

    public long Entries { get; private set; }

    /// <summary>Starts logging <paramref name="chip"/>; its present contents are the first "old" bytes.</summary>
    public void Watch(CfiFlash chip)
    {
        _shadows[chip] = chip.Contents.ToArray();
        chip.AddListener(this);
    }

    public void Written(CfiFlash chip, FlashWriteKind kind, ulong offset, int length)
    {
        var shadow = _shadows[chip].AsSpan((int)offset, length);
        var now = chip.Contents.Slice((int)offset, length);
        _line.Clear();
        _line.Append(_instruction().ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(chip.Name).Append(' ')
            .Append(kind == FlashWriteKind.Erase ? "erase" : "program").Append(' ')
            .Append("0x").Append(offset.ToString("X8", CultureInfo.InvariantCulture)).Append(' ')
            .Append(length.ToString(CultureInfo.InvariantCulture)).Append(' ');
        AppendBytes(_line, shadow);
        _line.Append(' ');
        AppendBytes(_line, now);
        _out.WriteLine(_line);
        now.CopyTo(shadow);
        Entries++;
    }

    /// <summary>Hex with runs of <see cref="MinRun"/>+ equal bytes folded to {hh*count}.</summary>
    public static void AppendBytes(StringBuilder sb, ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            int run = 1;
            while (i + run < bytes.Length && bytes[i + run] == bytes[i])
            {
                run++;
            }

            if (run >= MinRun)
            {
                sb.Append('{').Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture)).Append('*')
                    .Append(run.ToString(CultureInfo.InvariantCulture)).Append('}');
            }
            else
            {
                for (int k = 0; k < run; k++)
                {
                    sb.Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture));
                }
            }

            i += run;
        }
    }

    /// <summary>The inverse of <see cref="AppendBytes"/>, for tools and tests.</summary>
    public static byte[] ParseBytes(string text)
    {
        var result = new List<byte>();
        int i = 0;
        while (i < text.Length)
        {
            if (text[i] == '{')
            {
                int star = text.IndexOf('*', i);
                int close = text.IndexOf('}', i);
                if (star < 0 || close < star)
                {
                    throw new FormatException($"bad run at {i} in '{text}'");
                }

                byte value = byte.Parse(text.AsSpan(i + 1, star - i - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                int count = int.Parse(text.AsSpan(star + 1, close - star - 1), NumberStyles.None, CultureInfo.InvariantCulture);
                result.AddRange(Enumerable.Repeat(value, count));
                i = close + 1;
            }
            else
            {
                result.Add(byte.Parse(text.AsSpan(i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
        }

        return result.ToArray();
    }

    public void Dispose() => _out.Dispose();
}
