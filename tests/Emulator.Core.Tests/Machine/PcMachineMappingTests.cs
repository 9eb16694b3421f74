using Emulator.Core.Machine;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Machine;

[Trait("Category", "Unit")]
public class PcMachineMappingTests
{
    private static byte[] Pattern(int size, byte seed)
    {
        var b = new byte[size];
        for (int i = 0; i < size; i++)
        {
            b[i] = (byte)(seed + i * 7 + (i >> 12));
        }

        return b;
    }

    [Fact]
    public void CmosHoldsQemusEquipmentByteAndDefaultBootOrder()
    {
        using var m = new PcMachine(new MachineOptions { Flash = [new("code", new byte[0x200000], true)] });
        byte Cmos(int index)
        {
            m.Ports.Write(0x70, 1, (uint)index);
            return (byte)m.Ports.Read(0x71, 1);
        }

        Assert.Equal(0x06, Cmos(0x14));
        Assert.Equal(0x12, Cmos(0x3D));
        Assert.Equal(0x30, Cmos(0x38));
        Assert.Equal(0x00, Cmos(0x12));
    }

    [Fact]
    public void FlashReadsArrayAtItsPlacementAndIsaBiosCopyHoldsUnitZeroTop()
    {
        var code = Pattern(0x1E0000, 1);
        var vars = Pattern(0x20000, 2);
        using var m = new PcMachine(new MachineOptions { Flash = [new("code", code, true), new("vars", vars, false)] });
        Assert.Equal(code[0], (byte)m.Bus.Read(0xFFE20000, 1));
        Assert.Equal(code[^1], (byte)m.Bus.Read(0xFFFFFFFF, 1));
        Assert.Equal(vars[0x1234], (byte)m.Bus.Read(0xFFE01234, 1));
        Assert.Equal(BitConverter.ToUInt32(code, code.Length - 16), (uint)m.Bus.Read(0xFFFFFFF0, 4));

        // 0xE0000-0xFFFFF: a one-time copy of unit 0's last 128 KiB.
        for (int off = 0; off < 0x20000; off += 0x1001)
        {
            Assert.Equal(code[code.Length - 0x20000 + off], (byte)m.Bus.Read(0xE0000 + (ulong)off, 1));
        }
    }

    [Fact]
    public void IsaBiosCopyIsReadOnlyAndDoesNotFollowLaterFlashWrites()
    {
        var image = Pattern(0x200000, 3);
        using var m = new PcMachine(new MachineOptions { Flash = [new("OVMF.fd", image, false)] });
        byte before = (byte)m.Bus.Read(0xFFFFF000, 1);
        m.Bus.Write(0xFFFFF000, 1, 0x10);   // program setup
        m.Bus.Write(0xFFFFF000, 1, 0x00);   // data
        m.Bus.Write(0xFFFFF000, 1, 0xFF);   // read array
        Assert.Equal(0, (byte)m.Bus.Read(0xFFFFF000, 1) & ~before);
        Assert.Equal(before, (byte)m.Bus.Read(0xFF000, 1));
        m.Bus.Write(0xFF000, 1, 0x55);
        Assert.Equal(before, (byte)m.Bus.Read(0xFF000, 1));
    }

    [Fact]
    public void UnassignedMemoryReadsAllOnesByDefaultAndZeroLikeQemuWhenAsked()
    {
        var image = Pattern(0x200000, 4);
        using var hw = new PcMachine(new MachineOptions { Flash = [new("f", image, false)] });
        Assert.Equal(0xFFFFFFFFUL, hw.Bus.Read(0xFED40000, 4));
        Assert.Contains(hw.Bus.Unassigned.Entries, e => e.Address == 0xFED40000 && e.Space == UnassignedSpace.Memory);
        using var q = new PcMachine(new MachineOptions { Flash = [new("f", image, false)], UnassignedReadsZero = true });
        Assert.Equal(0UL, q.Bus.Read(0xFED40000, 4));
    }

    [Fact]
    public void RamCoversLowMemoryButNotTheLegacyHole()
    {
        using var m = new PcMachine(new MachineOptions { RamSize = 64UL << 20, Flash = [new("f", Pattern(0x200000, 5), false)] });
        m.Bus.Write(0x9FFFC, 4, 0xDEADBEEF);
        Assert.Equal(0xDEADBEEFUL, m.Bus.Read(0x9FFFC, 4));
        m.Bus.Write(0x3FFFFFC, 4, 0x12345678);
        Assert.Equal(0x12345678UL, m.Bus.Read(0x3FFFFFC, 4));
        Assert.Equal(RegionKind.Unassigned, m.Bus.Find(0xA0000).Kind);
        Assert.Equal(RegionKind.Unassigned, m.Bus.Find(0x4000000).Kind);
    }

    [Fact]
    public void BadSizesAreRefusedWithQemusReason()
    {
        var e = Assert.Throws<FirmwareLayoutException>(() => new PcMachine(new MachineOptions { Flash = [new("odd.fd", new byte[0x1800], true)] }));
        Assert.Contains("its size must be a non-zero multiple of 0x1000", e.Message);
    }
}
