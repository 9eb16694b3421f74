using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Machine;

/// <summary>QEMU 7.2 pc_system_flash_map placement and size rules (docs/qemu-pflash.md).</summary>
[Trait("Category", "Unit")]
public class FlashLayoutTests
{
    [Fact]
    public void TwoMegabytePair_VarsDirectlyBelowCode()
    {
        var p = FlashLayout.Place([("code", 0x1E0000UL), ("vars", 0x20000UL)]);
        Assert.Equal(0xFFE20000UL, p[0].Base);
        Assert.Equal(0xFFE00000UL, p[1].Base);
        Assert.Equal(0x100000000UL, p[0].Base + p[0].Size);
        Assert.Equal(p[0].Base, p[1].Base + p[1].Size);
    }

    [Fact]
    public void FourMegabytePair()
    {
        var p = FlashLayout.Place([("code", 0x37C000UL), ("vars", 0x84000UL)]);
        Assert.Equal(0xFFC84000UL, p[0].Base);
        Assert.Equal(0xFFC00000UL, p[1].Base);
    }

    [Fact]
    public void UnifiedImageIsUnitZeroAlone()
    {
        var p = Assert.Single(FlashLayout.Place([("OVMF.fd", 0x200000UL)]));
        Assert.Equal(0, p.Unit);
        Assert.Equal(0xFFE00000UL, p.Base);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(0x1000UL + 1)]
    [InlineData(0x800UL)]
    public void SizeMustBeNonZeroMultipleOf4K(ulong size)
    {
        var e = Assert.Throws<FirmwareLayoutException>(() => FlashLayout.Place([("code", size)]));
        Assert.Contains("its size must be a non-zero multiple of 0x1000", e.Message);
    }

    [Fact]
    public void CombinedSizeLimitIs8MiBByDefault()
    {
        var e = Assert.Throws<FirmwareLayoutException>(() => FlashLayout.Place([("code", 0x600000UL), ("vars", 0x300000UL)]));
        Assert.Equal("combined size of system firmware exceeds 8388608 bytes: code (6291456 bytes) + vars (3145728 bytes)", e.Message);
        Assert.Equal(2, FlashLayout.Place([("code", 0x600000UL), ("vars", 0x300000UL)], 16UL << 20).Count);
    }

    [Fact]
    public void UnitOneRequiresUnitZero()
    {
        var e = Assert.Throws<FirmwareLayoutException>(() => FlashLayout.Place([("none", null), ("vars", 0x20000UL)]));
        Assert.Equal("pflash1 requires pflash0", e.Message);
    }
}
