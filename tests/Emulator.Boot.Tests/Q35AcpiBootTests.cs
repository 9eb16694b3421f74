using System.Buffers.Binary;
using System.Text;
using Emulator.Core.Machine;

using static Emulator.Boot.Tests.AcpiBytes;

namespace Emulator.Boot.Tests;

/// <summary>
/// Debian bookworm's 4 MB OVMF (no SMM build) on the q35 machine, booted in-process to
/// <c>Shell&gt;</c> (the CLI has no <c>--machine</c> yet): the ACPI tables OVMF installed from the
/// q35 fw_cfg files, found in guest RAM through its revision-2 RSDP. They are what QEMU 7.2's q35
/// gives after the same firmware (docs/acpi-tables.md §6): XSDT FACP, APIC, HPET, MCFG, WAET; the
/// FADT at the PM base OVMF programmed (0x600) with GPE0 at 0x620, and the MCFG at 0xB0000000.
/// </summary>
[Trait("Category", "Boot")]
public sealed class Q35AcpiBootTests
{
    private const long InstructionBudget = 3_000_000_000;
    private const long Step = 50_000_000;

    [Fact]
    public void OvmfInstallsTheQ35TablesFromFwCfg()
    {
        var console = new StringBuilder();
        using var m = new PcMachine(new MachineOptions
        {
            Chipset = PcChipset.Q35,
            Flash =
            [
                new("code", File.ReadAllBytes(Fixtures.Path(Fixtures.Code4M)), true),
                new("vars", File.ReadAllBytes(Fixtures.Path(Fixtures.Vars4M)), false),
            ],
            SerialPorts = [new IsaSerialPort(0, b => console.Append((char)b))],
        });
        for (long limit = Step; !console.ToString().Contains("Shell>", StringComparison.Ordinal); limit += Step)
        {
            Assert.True(limit <= InstructionBudget, $"no Shell> within {InstructionBudget:N0} instructions; console:\n{console}");
            m.Run(limit);
        }

        var xsdt = Table(m, FindXsdt(m));
        Assert.Equal("XSDT", Signature(xsdt));
        var listed = Enumerable.Range(0, (xsdt.Length - 36) / 8).Select(i => Table(m, BinaryPrimitives.ReadUInt64LittleEndian(xsdt.AsSpan(36 + (8 * i))))).ToList();
        Assert.Equal(["FACP", "APIC", "HPET", "MCFG", "WAET"], listed.Select(Signature));

        var fadt = listed[0];
        Assert.Equal((3, 244), (fadt[8], fadt.Length));
        Assert.Equal((0xB2u, 0x600u, 0x604u, 0x608u, 0x620u, (byte)16), (U32(fadt, 48), U32(fadt, 56), U32(fadt, 64), U32(fadt, 76), U32(fadt, 80), fadt[92]));
        Assert.Equal((0xCF9UL, (byte)0x0F), (BinaryPrimitives.ReadUInt64LittleEndian(fadt.AsSpan(120)), fadt[128]));
        var dsdt = Table(m, BinaryPrimitives.ReadUInt64LittleEndian(fadt.AsSpan(140)));
        Assert.Equal("DSDT", Signature(dsdt));
        Assert.True(dsdt.AsSpan().IndexOf("DRAC"u8) >= 0);

        var mcfg = listed[3];
        Assert.Equal((0xB000_0000UL, (byte)255), (BinaryPrimitives.ReadUInt64LittleEndian(mcfg.AsSpan(44)), mcfg[55]));
    }

    /// <summary>The XSDT address of the revision-2 RSDP AcpiTableDxe published (right after its revision-0 one, so only 4-byte aligned).</summary>
    private static ulong FindXsdt(PcMachine m)
    {
        var chunk = new byte[1 << 20];
        for (ulong at = 0; at < 256UL << 20; at += (ulong)chunk.Length)
        {
            m.Bus.ReadBlock(at, chunk);
            for (int i = 0; i + 36 <= chunk.Length; i += 4)
            {
                if (chunk.AsSpan(i, 8).SequenceEqual("RSD PTR "u8) && chunk[i + 15] == 2 && Sum(chunk.AsSpan(i, 36)) == 0)
                {
                    return BinaryPrimitives.ReadUInt64LittleEndian(chunk.AsSpan(i + 24));
                }
            }
        }

        throw new Xunit.Sdk.XunitException("no revision-2 RSDP in RAM");
    }

    /// <summary>A whole table at <paramref name="address"/>, checked to sum to 0.</summary>
    private static byte[] Table(PcMachine m, ulong address)
    {
        var header = new byte[8];
        m.Bus.ReadBlock(address, header);
        var table = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4))];
        m.Bus.ReadBlock(address, table);
        Assert.True(Sum(table) == 0, $"{Signature(table)} at 0x{address:X} does not sum to 0");
        return table;
    }

    private static string Signature(byte[] table) => Encoding.ASCII.GetString(table, 0, 4);
}
