using Emulator.Core.Platform;

namespace Emulator.Core.Tests.Platform;

/// <summary>fw_cfg's HPET item against the bytes QEMU 7.2 serves (read by a guest over the ports, docs/fw-cfg.md).</summary>
[Trait("Category", "Unit")]
public sealed class HpetFwCfgItemTests
{
    [Fact]
    public void WithoutAnHpetTheCountIsFFAndEveryEntryZero()
    {
        var item = HpetFwCfgItem.Encode([]);
        Assert.Equal(121, item.Length);
        Assert.Equal(0xFF, item[0]);
        Assert.All(item[1..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void TheDefaultPcHpetIsOneEntryOfIdAndBase()
    {
        // QEMU 7.2 -machine pc (hpet=on): capability low half 0x8086A201, MMIO base 0xFED00000.
        var item = HpetFwCfgItem.Encode([new HpetBlock(0x8086A201, 0xFED00000)]);
        Assert.Equal(Convert.FromHexString("0101A286800000D0FE00000000"), item[..13]);
        Assert.All(item[13..], b => Assert.Equal(0, b));
        Assert.Throws<ArgumentException>(() => HpetFwCfgItem.Encode(Enumerable.Repeat(new HpetBlock(0, 0), 9).ToList()));
    }
}
