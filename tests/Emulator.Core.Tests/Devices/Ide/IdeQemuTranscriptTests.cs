using System.Globalization;
using Emulator.Core.Devices.Ide;
using Emulator.Core.Machine;
using Emulator.Core.Storage;

namespace Emulator.Core.Tests.Devices.Ide;

/// <summary>
/// Replays, on emu's pc machine (or q35's, for the AHCI transcript), port and memory accesses QEMU 7.2 answered
/// (tools/record-qemu-ide.py recorded Data/NAME.txt from Data/NAME.script with QEMU stopped and
/// driven through its monitor), and compares every value read: registers, PIO data, guest memory
/// after DMA, and the CMOS bytes the board writes for the drives.
/// </summary>
[Trait("Category", "Unit")]
public sealed class IdeQemuTranscriptTests
{
    [Theory]
    [InlineData("ata-pio")]
    [InlineData("ata-dma")]
    [InlineData("atapi")]
    [InlineData("ahci")]
    public void EmuAnswersWhatQemuAnswered(string name)
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Devices", "Ide", "Data", name + ".txt"));
        var drives = lines.Select(l => l.Split(' ')).Where(w => w[0] == "drive")
            .Select(w => new IdeDrive(int.Parse(w[1], CultureInfo.InvariantCulture), w[2] == "cdrom" ? IdeDriveKind.CdRom : IdeDriveKind.Disk, new MemoryBlockBackend(PatternImage(int.Parse(w[3], CultureInfo.InvariantCulture)), w[2] == "cdrom")))
            .ToList();
        var chipset = lines.Contains("machine q35") ? PcChipset.Q35 : PcChipset.I440fx;
        using var m = new PcMachine(new MachineOptions { Chipset = chipset, Flash = [new("code", new byte[0x200000], true)], IdeDrives = drives });
        for (int n = 0; n < lines.Length; n++)
        {
            var line = lines[n];
            var parts = line.Split(" = ");
            var w = parts[0].Split(' ');
            string at = $"{name}.txt line {n + 1}: {line}";
            switch (w[0])
            {
                case "load":
                    m.Bus.WriteBlock(Number(w[1]), Convert.FromHexString(w[2]));
                    break;
                case "out":
                    m.Ports.Write((ushort)Number(w[2]), Width(w[1]), (uint)Number(w[3]));
                    break;
                case "in":
                    uint value = m.Ports.Read((ushort)Number(w[2]), Width(w[1]));
                    Assert.True(Number(parts[1]) == value, $"{at}; emu read 0x{value:x}");
                    break;
                case "data":
                    var read = new List<byte>();
                    for (int i = 0; i < (int)Number(w[3]); i++)
                    {
                        read.AddRange(BitConverter.GetBytes(m.Ports.Read((ushort)Number(w[2]), Width(w[1]))).Take(Width(w[1])));
                    }

                    AssertBytes(parts[1], read.ToArray(), at);
                    break;
                case "mem":
                    var memory = new byte[(int)Number(w[2])];
                    m.Bus.ReadBlock(Number(w[1]), memory);
                    AssertBytes(parts[1], memory, at);
                    break;
            }
        }
    }

    /// <summary>The recorder's image: byte i is (i × 7 + i / 512) mod 256, each 512-byte sector starting with its number (64-bit little-endian).</summary>
    public static byte[] PatternImage(int sectors)
    {
        var image = new byte[sectors * 512];
        for (int i = 0; i < image.Length; i++)
        {
            image[i] = (byte)((i * 7) + (i / 512));
        }

        for (int s = 0; s < sectors; s++)
        {
            BitConverter.TryWriteBytes(image.AsSpan(s * 512), (long)s);
        }

        return image;
    }

    private static void AssertBytes(string expectedHex, byte[] actual, string at)
    {
        var expected = Convert.FromHexString(expectedHex);
        int first = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(first == expected.Length && actual.Length == expected.Length,
            $"{at[..Math.Min(at.Length, 120)]}: first difference at byte {first} (QEMU {Hex(expected, first)}, emu {Hex(actual, first)})");
    }

    private static string Hex(byte[] bytes, int from) => Convert.ToHexString(bytes.AsSpan(from, Math.Min(16, bytes.Length - from)));

    /// <summary>A number as the scripts write it: 0x… hexadecimal, else decimal.</summary>
    private static ulong Number(string text) =>
        text.StartsWith("0x", StringComparison.Ordinal) ? Convert.ToUInt64(text[2..], 16) : ulong.Parse(text, CultureInfo.InvariantCulture);

    private static int Width(string size) => size switch { "b" => 1, "w" => 2, _ => 4 };
}
