using System.Globalization;
using System.Text;
using Emulator.Cli.Boot;
using Emulator.Core.Cpu;
using Emulator.Hosting.Boot;

namespace Emulator.Boot.Tests;

/// <summary>
/// The SMBIOS tables from the guest's side: Debian's OVMF installs what fw_cfg serves and the UEFI
/// Shell's <c>smbiosview</c> shows it. Its whole answer must equal QEMU 7.2's for the same image
/// and command line (Data/qemu72-smbiosview-*.txt, which say how they were recorded) — entry
/// point, every structure's bytes, decoding and address — on both flash layouts, and the facts
/// that come from the machine are checked against the machine: the CPU's CPUID leaf 1 as
/// processor ID, the RAM size.
/// </summary>
[Trait("Category", "Boot")]
public class SmbiosViewTests
{
    private const ulong RamMiB = 256;

    [Theory]
    [InlineData("2m", Fixtures.Code2M, Fixtures.Vars2M)]
    [InlineData("4m", Fixtures.Code4M, Fixtures.Vars4M)]
    public void SmbiosviewShowsQemusStructures(string build, string code, string vars)
    {
        string dataFile = Path.Combine(AppContext.BaseDirectory, "Data", $"qemu72-smbiosview-{build}.txt");
        var expected = File.ReadAllLines(dataFile).Where(l => !l.StartsWith('#')).ToList();

        var r = CliRunner.Run("boot", "--code", Fixtures.Path(code), "--vars", Fixtures.Path(vars), "--snapshot", "--quiet",
            "--memory", $"{RamMiB}M",
            "--expect", "seconds to skip", "--send", @"\e",
            "--expect", "Shell>", "--send", @"smbiosview\r",
            "--expect", "Shell>", "--send", @"reset -s\r");
        Assert.Equal(0, r.ExitCode);

        var view = SmbiosviewAnswer(r.Stdout);
        Assert.Equal(expected, view);

        // The structures QEMU serves, in its order, then OVMF's own BIOS Information and the end marker.
        var types = view.Where(l => l.StartsWith("Type=", StringComparison.Ordinal)).Select(l => int.Parse(l[5..l.IndexOf(',')], CultureInfo.InvariantCulture));
        Assert.Equal([1, 3, 4, 16, 17, 19, 32, 0, 127], types);
        Assert.Contains("Number of Structures: 9", view);
        Assert.Contains("ProductName: Standard PC (i440FX + PIIX, 1996)", view);
        Assert.Contains("Version: pc-i440fx-7.2", view);
        Assert.Contains("Vendor: EFI Development Kit II / OVMF", view);

        // Type 4's processor ID is CPUID.1 EAX then EDX of the CPU the machine runs.
        var (eax, _, _, edx) = CpuModel.Qemu64.Query(1, 0);
        var id = new byte[8];
        BitConverter.TryWriteBytes(id.AsSpan(0, 4), eax);
        BitConverter.TryWriteBytes(id.AsSpan(4, 4), edx);
        string dump = view[view.IndexOf("Dump ProcessorId") + 2];
        Assert.StartsWith("00000000: " + string.Join(' ', id.Select(b => b.ToString("X2", CultureInfo.InvariantCulture))) + "-", dump, StringComparison.Ordinal);

        // One memory device of the machine's RAM, mapped from 0 to its last KiB.
        Assert.Contains($"Size: {RamMiB}", view);
        Assert.Contains($"MaximumCapacity: 0x{RamMiB * 1024:X}", view);
        Assert.Contains($"EndingAddress: 0x{(RamMiB * 1024) - 1:X}", view);
    }

    /// <summary>
    /// SMBIOS type 11 OEM strings (<c>--oem-string</c>, the drop-in's <c>-smbios type=11,value=…,path=…</c>):
    /// the structure OVMF installs, handle 0xE00, an empty value counted but not stored, a file's
    /// bytes as given — the Shell's answer identical to QEMU 7.2's (Data/qemu72-smbiosview-oem-2m.txt).
    /// </summary>
    [Fact]
    public void OemStringsReachTheGuestAsOnQemu()
    {
        string dataFile = Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-smbiosview-oem-2m.txt");
        var expected = File.ReadAllLines(dataFile).Where(l => !l.StartsWith('#')).ToList();
        string file = CliRunner.TempFile(".txt");
        File.WriteAllText(file, "from-file\n");
        try
        {
            var r = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", Fixtures.Path(Fixtures.Vars2M), "--snapshot", "--quiet",
                "--memory", $"{RamMiB}M",
                "--oem-string", "io.systemd.credential:foo=bar", "--oem-string", string.Empty, "--oem-string", "@" + file, "--oem-string", "second",
                "--expect", "seconds to skip", "--send", @"\e",
                "--expect", "Shell>", "--send", @"smbiosview -t 11\r",
                "--expect", "Shell>", "--send", @"reset -s\r");
            Assert.Equal(0, r.ExitCode);
            Assert.Equal(expected, SmbiosviewAnswer(r.Stdout));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The console text from the command line to the next prompt, one entry per line, without escapes, CRs or trailing blanks.</summary>
    private static List<string> SmbiosviewAnswer(string stdout)
    {
        var transcript = new ConsoleTranscript();
        foreach (byte b in Encoding.Latin1.GetBytes(stdout))
        {
            transcript.Append(b);
        }

        string text = transcript.Text;
        int start = text.IndexOf("Shell> smbiosview", StringComparison.Ordinal);
        Assert.True(start >= 0, "no smbiosview command on the console");
        int end = text.IndexOf("Shell>", start + 1, StringComparison.Ordinal);
        Assert.True(end > start, "no prompt after smbiosview");
        return [.. text[start..end].Split('\n').Select(l => l.TrimEnd()).SkipLast(1)];
    }
}
