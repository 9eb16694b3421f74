using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Machine;

/// <summary>QEMU's -bios without pflash (x86_bios_rom_init): a ROM ending at 4 GiB plus the ISA BIOS copy.</summary>
[Trait("Category", "Unit")]
public class BiosRomTests
{
    [Fact]
    public void RomEndsAt4GiBIgnoresWritesAndIsCopiedBelow1MiB()
    {
        var bios = new byte[0x30000];
        for (int i = 0; i < bios.Length; i++)
        {
            bios[i] = (byte)(i * 13 + (i >> 8));
        }

        using var m = new PcMachine(new MachineOptions { Bios = bios });
        Assert.Empty(m.FlashChips);
        Assert.Equal(bios[0], (byte)m.Bus.Read(0x1_0000_0000 - 0x30000, 1));
        Assert.Equal(bios[^1], (byte)m.Bus.Read(0xFFFF_FFFF, 1));

        // OVMF's flash probe writes a command and reads back: a ROM keeps its byte, so no flash is found.
        m.Bus.Write(0xFFFF_0000, 1, 0x70);
        Assert.Equal(bios[0x20000], (byte)m.Bus.Read(0xFFFF_0000, 1));
        Assert.Equal(bios[^0x20000], (byte)m.Bus.Read(0xE0000, 1));
    }

    [Theory]
    [InlineData(0x1000)]
    [InlineData(0x18000)]
    public void SizeMustBeWhole64KiBUnits(int size)
    {
        var e = Assert.Throws<FirmwareLayoutException>(() => new PcMachine(new MachineOptions { Bios = new byte[size] }));
        Assert.Contains("multiple of 64 KiB", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FlashWinsOverBios()
    {
        using var m = new PcMachine(new MachineOptions { Flash = [new FlashImage("code", new byte[0x10000], true)], Bios = new byte[0x10000] });
        Assert.Single(m.FlashChips);
    }
}
