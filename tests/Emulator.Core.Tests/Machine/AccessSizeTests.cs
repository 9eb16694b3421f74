using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Machine;

/// <summary>
/// Declared access sizes enforced by the buses as QEMU's memory core does (softmmu/memory.c
/// memory_region_access_valid and access_with_adjusted_size; port I/O first cut by
/// memory_access_size): refusal outside valid, splitting above impl.max, widening below impl.min.
/// </summary>
public sealed class AccessSizeTests : IDisposable
{
    private const ulong Base = 0xFE00_0000;
    private readonly PhysicalBus _bus = new();

    public void Dispose() => _bus.Dispose();

    [Fact]
    public void AnAccessOutsideValidIsRefusedReadingZero()
    {
        var device = new Recorder(new AccessSizes(4, 8, 1, 4));
        _bus.MapMmio("dev", Base, 0x1000, device);
        Assert.Equal(0UL, _bus.Read(Base + 0x10, 2));
        _bus.Write(Base + 0x10, 1, 0xAB);
        Assert.Empty(device.Accesses);
    }

    [Fact]
    public void AnAccessWiderThanImplIsSplitLowPieceFirst()
    {
        var device = new Recorder(new AccessSizes(4, 8, 1, 4));
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
        var device = new Recorder(new AccessSizes(1, 4, 4, 4));
        _bus.MapMmio("dev", Base, 0x1000, device);
        Assert.Equal(0x31UL, _bus.Read(Base + 0x31, 1));
        _bus.Write(Base + 0x40, 2, 0xBEEF);
        Assert.Equal([("r", 0x31UL, 4, 0UL), ("w", 0x40UL, 4, 0xBEEFUL)], device.Accesses);
    }

    [Fact]
    public void AnUndeclaredDeviceGetsEveryAccessAsItComes()
    {
        var device = new Recorder(AccessSizes.Unrestricted);
        _bus.MapMmio("dev", Base, 0x1000, device);
        _bus.Write(Base + 0x8, 8, 1);
        Assert.Equal(0x3UL, _bus.Read(Base + 0x3, 2));
        Assert.Equal([("w", 0x8UL, 8, 1UL), ("r", 0x3UL, 2, 0UL)], device.Accesses);
    }

    [Fact]
    public void PortAccessesAreCutByValidMaxAndAlignmentThenByImpl()
    {
        var ports = new PortBus(new UnassignedAccessLog());
        var bytes = new Recorder(new AccessSizes(1, 4, 1, 1));
        var words = new Recorder(new AccessSizes(1, 2, 2, 2));
        ports.Register(0x100, 4, bytes);
        ports.Register(0x200, 4, words);

        Assert.Equal(0x0302_0100u, ports.Read(0x100, 4));
        ports.Write(0x101, 2, 0xAABB);
        Assert.Equal([("r", 0UL, 1, 0UL), ("r", 1UL, 1, 0UL), ("r", 2UL, 1, 0UL), ("r", 3UL, 1, 0UL), ("w", 1UL, 1, 0xBBUL), ("w", 2UL, 1, 0xAAUL)], bytes.Accesses);

        // valid.max 2: a dword becomes two words; an odd byte access is widened to a word and masked.
        Assert.Equal(0x0002_0000u, ports.Read(0x200, 4));
        Assert.Equal(0x01u, ports.Read(0x201, 1));
        Assert.Equal([("r", 0UL, 2, 0UL), ("r", 2UL, 2, 0UL), ("r", 1UL, 2, 0UL)], words.Accesses);
    }

    /// <summary>An MMIO and port device whose reads return the offset; every access is recorded.</summary>
    private sealed class Recorder(AccessSizes sizes) : IMmioDevice, IPortDevice
    {
        public List<(string, ulong, int, ulong)> Accesses { get; } = [];

        public string Name => "recorder";

        public AccessSizes Sizes => sizes;

        public ulong Read(ulong offset, int size)
        {
            Accesses.Add(("r", offset, size, 0));
            return offset;
        }

        public void Write(ulong offset, int size, ulong value) => Accesses.Add(("w", offset, size, value));

        public uint Read(ushort offset, int size) => (uint)Read((ulong)offset, size);

        public void Write(ushort offset, int size, uint value) => Write((ulong)offset, size, (ulong)value);
    }
}
