using System.Globalization;
using Emulator.Cli.Boot;
using Emulator.Hosting.Boot;

namespace Emulator.Boot.Tests;

/// <summary>One parsed line of a <c>--flash-log</c> file.</summary>
public sealed record FlashLogEntry(long Instruction, string Chip, string Op, int Offset, int Length, byte[] Old, byte[] New);

/// <summary>Reads a flash log and replays it onto a chip image, checking that each entry's old bytes are what the image held.</summary>
public static class FlashLogFile
{
    public static List<FlashLogEntry> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        Assert.Equal(FlashWriteLog.Header, lines[0]);
        return lines.Skip(1).Select(Parse).ToList();
    }

    private static FlashLogEntry Parse(string line)
    {
        var f = line.Split(' ');
        Assert.Equal(7, f.Length);
        Assert.StartsWith("0x", f[3], StringComparison.Ordinal);
        var entry = new FlashLogEntry(
            long.Parse(f[0], CultureInfo.InvariantCulture),
            f[1],
            f[2],
            int.Parse(f[3].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            int.Parse(f[4], CultureInfo.InvariantCulture),
            FlashWriteLog.ParseBytes(f[5]),
            FlashWriteLog.ParseBytes(f[6]));
        Assert.Equal(entry.Length, entry.Old.Length);
        Assert.Equal(entry.Length, entry.New.Length);
        return entry;
    }

    /// <summary>Applies every entry of <paramref name="chip"/> in order; each must find its old bytes in place.</summary>
    public static byte[] Replay(byte[] initial, IEnumerable<FlashLogEntry> entries, string chip)
    {
        var image = (byte[])initial.Clone();
        foreach (var e in entries.Where(e => e.Chip == chip))
        {
            Assert.Equal(e.Old, image.AsSpan(e.Offset, e.Length).ToArray());
            e.New.CopyTo(image, e.Offset);
        }

        return image;
    }
}
