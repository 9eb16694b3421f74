using Emulator.Core.Memory;
using Emulator.Core.Tests.Support;

namespace Emulator.Core.Tests.Memory;

/// <summary>
/// Declared access sizes enforced by the buses as QEMU's memory core does (softmmu/memory.c
/// memory_region_access_valid and access_with_adjusted_size): refusal outside valid, splitting
/// above impl.max, widening below impl.min. Port I/O's cutting is in Io/PortBusTests.
/// </summary>
[Trait("Category", "Unit")]
public sealed class AccessSizeTests : IDisposable
{
    private const ulong Base = 0xFE00_0000;
    private readonly PhysicalBus _bus = new();

    public void Dispose() => _bus.Dispose();

    [Fact]
    public void AnAccessOutsideValidIsRefusedReadingZero()
    {
        var device = new RecordingDevice(new AccessSizes(4, 8, 1, 4));
        _bus.MapMmio("dev", Base, 0x1000, device);
        Assert.Equal(0UL, _bus.Read(Base + 0x10, 2));
        _bus.Write(Base + 0x10, 1, 0xAB);
        Assert.Empty(device.Accesses);
    }

    [Fact]
    public void AnAccessWiderThanImplIsSplitLowPieceFirst()
    {
        var device = new RecordingDevice(new AccessSizes(4, 8, 1, 4));
        _bus.MapMmio("dev", Base, 0x1000, device);
        Assert.Equal(0x0000_0014_0000_0010UL, _bus.Read(Base + 0x10, 8));
        _bus.Write(Base + 0x20, 8, 0x1122_3344_5566_7788);
        Assert.Equal(
            [("r", 0x10UL, 4, 0UL), ("r", 0x14UL, 4, 0UL), ("w", 0x20UL, 4, 0x5566_7788UL), ("w", 0x24UL, 4, 0x1122_3344UL)],
            device.Accesses);
    }

    [Fact]
    public void AnAccessNarrowerThanImplIsWidenedAndMasked()
    {
        var device = new RecordingDevice(new AccessSizes(1, 4, 4, 4));
        _bus.MapMmio("dev", Base, 0x1000, device);
        Assert.Equal(0x31UL, _bus.Read(Base + 0x31, 1));
        _bus.Write(Base + 0x40, 2, 0xBEEF);
        Assert.Equal([("r", 0x31UL, 4, 0UL), ("w", 0x40UL, 4, 0xBEEFUL)], device.Accesses);
    }

    [Fact]
    public void AnUndeclaredDeviceGetsEveryAccessAsItComes()
    {
        var device = new RecordingDevice(AccessSizes.Unrestricted);
        _bus.MapMmio("dev", Base, 0x1000, device);
        _bus.Write(Base + 0x8, 8, 1);
        Assert.Equal(0x3UL, _bus.Read(Base + 0x3, 2));
        Assert.Equal([("w", 0x8UL, 8, 1UL), ("r", 0x3UL, 2, 0UL)], device.Accesses);
    }
}
