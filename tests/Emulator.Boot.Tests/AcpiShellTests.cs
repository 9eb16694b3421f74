using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Emulator.Core.Machine;
using Emulator.Core.Platform.Acpi;

using static Emulator.Boot.Tests.AcpiBytes;

namespace Emulator.Boot.Tests;

/// <summary>
/// The ACPI tables OVMF installed from emu's fw_cfg files, seen from inside the guest with the
/// UEFI Shell's <c>dmem</c> on Debian's 2 MB build: the system table's ACPI entries, the RSDPs,
/// the XSDT, every table it lists, the FACS and the DSDT. Each step needs addresses the previous
/// one printed, so the Shell is booted once per step (the machine is deterministic, so every boot
/// installs the tables at the same addresses). docs/acpi-tables.md compares the same dumps with
/// QEMU 7.2's.
/// </summary>
[Trait("Category", "Boot")]
public partial class AcpiShellTests
{
    [Fact]
    public void OvmfInstallsTheTablesAndTheGuestSeesThemIntact()
    {
        var system = Shell("dmem");
        ulong rsdp1 = HexField(system, "ACPI Table");
        ulong rsdp2 = HexField(system, "ACPI 2.0 Table");
        Assert.NotEqual(0UL, rsdp1);

        // AcpiTableDxe's own roots: a revision-0 RSDP (RSDT) and a revision-2 one (RSDT + XSDT),
        // both with our OEM ID, both summing to 0.
        var roots = Dumps(Shell($"dmem {rsdp1:X} 14", $"dmem {rsdp2:X} 24"));
        var (r1, r2) = (roots[rsdp1], roots[rsdp2]);
        Assert.Equal("RSD PTR BOCHS ", Encoding.ASCII.GetString(r1, 0, 8) + Encoding.ASCII.GetString(r1, 9, 6));
        Assert.Equal((0, 2), (r1[15], r2[15]));
        Assert.Equal(0, Sum(r1.AsSpan(0, 20)));
        Assert.Equal(0, Sum(r2.AsSpan(0, 36)));
        ulong xsdt = BinaryPrimitives.ReadUInt64LittleEndian(r2.AsSpan(24));

        var xsdtBytes = Dumps(Shell($"dmem {xsdt:X} 80"))[xsdt];
        int xsdtLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(xsdtBytes.AsSpan(4));
        Assert.Equal("XSDT", Encoding.ASCII.GetString(xsdtBytes, 0, 4));
        Assert.Equal(0, Sum(xsdtBytes.AsSpan(0, xsdtLength)));
        var entries = Enumerable.Range(0, (xsdtLength - 36) / 8).Select(i => BinaryPrimitives.ReadUInt64LittleEndian(xsdtBytes.AsSpan(36 + (8 * i)))).ToList();

        var tables = Dumps(Shell([.. entries.Select(a => $"dmem {a:X} 100")]));
        Assert.Equal(["FACP", "APIC", "HPET", "WAET"], entries.Select(a => Encoding.ASCII.GetString(tables[a], 0, 4)));
        foreach (var a in entries)
        {
            Assert.Equal(0, Sum(tables[a].AsSpan(0, (int)BinaryPrimitives.ReadUInt32LittleEndian(tables[a].AsSpan(4)))));
        }

        // The FADT as generated for the PM base OVMF's SEC programs (0xB000), with FIRMWARE_CTRL
        // and DSDT relinked by AcpiTableDxe to its copies.
        var fadt = tables[entries[0]];
        Assert.Equal(116u, BinaryPrimitives.ReadUInt32LittleEndian(fadt.AsSpan(4)));
        Assert.Equal((0xB2u, 0xB000u, 0xB004u, 0xB008u), (U32(fadt, 48), U32(fadt, 56), U32(fadt, 64), U32(fadt, 76)));

        // GPE0_BLK at QEMU's fixed ports (hw/acpi/piix4.c GPE_BASE 0xAFE0, GPE_LEN 4), as QEMU's FACP shows.
        Assert.Equal((0xAFE0u, (byte)4), (U32(fadt, 80), fadt[92]));
        ulong facs = U32(fadt, 36);
        ulong dsdt = U32(fadt, 40);

        using var machine = new PcMachine(new MachineOptions { Flash = [new("code", new byte[0x200000], true)] });
        var expectedDsdt = AcpiTableBuilder.Table("DSDT", 1, machine.AcpiFacts(), DsdtBuilder.Build(machine.AcpiFacts()));
        var rest = Dumps(Shell($"dmem {facs:X} 40", $"dmem {dsdt:X} {expectedDsdt.Length:X}"));
        Assert.Equal("FACS", Encoding.ASCII.GetString(rest[facs], 0, 4));
        Assert.Equal(64u, U32(rest[facs], 4));
        var installedDsdt = rest[dsdt];
        Assert.Equal(0, Sum(installedDsdt));
        installedDsdt[AcpiTableBuilder.ChecksumOffset] = 0;
        Assert.Equal(expectedDsdt, installedDsdt);
    }

    /// <summary>Boots to <c>Shell&gt;</c>, runs the commands, powers off; returns the console text without escape sequences.</summary>
    private static string Shell(params string[] commands)
    {
        var args = new List<string> { "boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", Fixtures.Path(Fixtures.Vars2M), "--snapshot", "--quiet", "--expect", "Press ESC in", "--send", @"\e" };
        foreach (var c in commands.Append("reset -s"))
        {
            args.AddRange(["--expect", "Shell>", "--send", c + @"\r"]);
        }

        var r = CliRunner.Run([.. args]);
        Assert.Equal(0, r.ExitCode);
        return EscapeSequence().Replace(r.Stdout, "").Replace("\r", "");
    }

    /// <summary>The hex dumps in <c>dmem</c> output by start address ("Memory Address X N Bytes", then "  ADDR: xx xx ...-xx ...").</summary>
    private static Dictionary<ulong, byte[]> Dumps(string text)
    {
        var dumps = new Dictionary<ulong, byte[]>();
        foreach (Match block in DumpBlock().Matches(text))
        {
            var bytes = new List<byte>();
            foreach (Match line in DumpLine().Matches(block.Groups[2].Value))
            {
                bytes.AddRange(line.Groups[1].Value.Split([' ', '-'], StringSplitOptions.RemoveEmptyEntries).Select(h => byte.Parse(h, NumberStyles.HexNumber)));
            }

            dumps[ulong.Parse(block.Groups[1].Value, NumberStyles.HexNumber)] = [.. bytes];
        }

        return dumps;
    }

    private static ulong HexField(string text, string name)
    {
        var m = Regex.Match(text, "^" + Regex.Escape(name) + @"\s+([0-9A-F]{16})$", RegexOptions.Multiline);
        Assert.True(m.Success, $"'{name}' not in the dmem output");
        return ulong.Parse(m.Groups[1].Value, NumberStyles.HexNumber);
    }

    [GeneratedRegex(@"\x1b\[[0-9;=]*[A-Za-z]")]
    private static partial Regex EscapeSequence();

    [GeneratedRegex(@"Memory Address ([0-9A-F]{16}) [0-9A-F]+ Bytes\n((?:  [0-9A-F]{8}: .*\n)+)")]
    private static partial Regex DumpBlock();

    [GeneratedRegex(@"^  [0-9A-F]{8}: ((?:[0-9A-F]{2}[ -])+)", RegexOptions.Multiline)]
    private static partial Regex DumpLine();
}
