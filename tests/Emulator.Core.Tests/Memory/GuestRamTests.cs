using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Memory;

/// <summary>
/// RAM images: a capture holds only the pages that are not zero; restoring one makes the RAM
/// exactly the captured bytes again (pages written since, pages zeroed since); two RAMs restored
/// from one image are independent of each other and of the image.
/// </summary>
[Trait("Category", "Unit")]
public sealed unsafe class GuestRamTests
{
    private const ulong Size = 16UL << 20;

    [Fact]
    public void ARestoreBringsBackTheCapturedBytesAndStoresOnlyNonZeroPages()
    {
        using var ram = GuestRam.Allocate(Size);
        ram.Host[0x1000] = 1;
        ram.Host[0x2FFF] = 2;
        ram.Host[0x800000] = 3;
        using var image = ram.Capture();
        Assert.Equal([new RamImage.PageRun(1, 2), new RamImage.PageRun(0x800, 1)], image.Runs);

        ram.Host[0x1000] = 0;
        ram.Host[0x5000] = 9;
        ram.Host[Size - 1] = 7;
        ram.Restore(image);

        Assert.Equal(1, ram.Host[0x1000]);
        Assert.Equal(2, ram.Host[0x2FFF]);
        Assert.Equal(3, ram.Host[0x800000]);
        Assert.Equal(0, ram.Host[0x5000]);
        Assert.Equal(0, ram.Host[Size - 1]);
    }

    [Fact]
    public void RamsRestoredFromOneImageDoNotSeeEachOthersWrites()
    {
        using var first = GuestRam.Allocate(Size);
        first.Host[0x3000] = 5;
        using var image = first.Capture();
        using var second = GuestRam.Allocate(Size);
        second.Restore(image);
        first.Restore(image);

        first.Host[0x3000] = 6;
        second.Host[0x3001] = 8;

        Assert.Equal(5, second.Host[0x3000]);
        Assert.Equal(0, first.Host[0x3001]);
        Assert.Equal(5, image.Bytes(0x3000, 1)[0]);
        Assert.Equal(0, image.Bytes(0x3001, 1)[0]);
    }
}
