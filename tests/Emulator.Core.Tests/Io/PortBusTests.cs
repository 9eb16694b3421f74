using Emulator.Core.Io;
using Emulator.Core.Memory;
using Emulator.Core.Tests.Support;

namespace Emulator.Core.Tests.Io;

/// <summary>
/// The I/O port space on its own: ranges registered and removed, overlaps refused, unassigned
/// ports reading all-ones and logged per port (as on ISA buses and QEMU's unassigned_io_ops),
/// accesses spanning two devices or a gap split into bytes, the access counter the busy-wait
/// skipper reads, and declared sizes cut the way QEMU's port I/O does (softmmu/physmem.c
/// memory_access_size, then softmmu/memory.c access_with_adjusted_size).
/// </summary>
[Trait("Category", "Unit")]
public sealed class PortBusTests
{
    private readonly UnassignedAccessLog _log = new();
    private readonly PortBus _ports;

    public PortBusTests() => _ports = new PortBus(_log);

    [Fact]
    public void ARegisteredDeviceSeesOffsetsFromItsFirstPortAtTheSizeIssued()
    {
        var device = new RecordingDevice("uart", readBase: 0x40);
        _ports.Register(0x3F8, 8, device);

        Assert.Equal(0x45u, _ports.Read(0x3FD, 1));
        Assert.Equal(0x42u, _ports.Read(0x3FA, 2));
        _ports.Write(0x3F8, 4, 0x1234_5678);

        Assert.Equal([("r", 5UL, 1, 0UL), ("r", 2UL, 2, 0UL), ("w", 0UL, 4, 0x1234_5678UL)], device.Accesses);
        Assert.Same(device, _ports.DeviceAt(0x3FF));
        Assert.Null(_ports.DeviceAt(0x400));
        Assert.Null(_ports.DeviceAt(0x3F7));
        Assert.Empty(_log.Entries);
    }

    [Fact]
    public void AnOverlappingRegistrationIsRefusedNamingThePortAndBothDevices()
    {
        var pic = new RecordingDevice("pic");
        _ports.Register(0x20, 2, pic);

        var error = Assert.Throws<ArgumentException>(() => _ports.Register(0x21, 4, new RecordingDevice("late")));

        Assert.Equal("port 0x21 of late is already used by pic", error.Message);
        Assert.Same(pic, _ports.DeviceAt(0x21));
    }

    [Fact]
    public void ARegistrationRefusedMidRangeTakesNoPort()
    {
        var pic = new RecordingDevice("pic");
        _ports.Register(0x22, 2, pic);

        // 0x20 and 0x21 are free, 0x22 is not: the whole range is refused and the free ports stay free.
        Assert.Throws<ArgumentException>(() => _ports.Register(0x20, 4, new RecordingDevice("late")));

        Assert.Null(_ports.DeviceAt(0x20));
        Assert.Null(_ports.DeviceAt(0x21));
        Assert.Same(pic, _ports.DeviceAt(0x22));
    }

    [Fact]
    public void ARangePastTheEndOfThePortSpaceIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => _ports.Register(0xFFFE, 4, new RecordingDevice("wide")));

        Assert.Contains("not within 0x0-0xFFFF", error.Message, StringComparison.Ordinal);
        Assert.Null(_ports.DeviceAt(0xFFFE));
    }

    [Fact]
    public void UnregisteringFreesOnlyTheGivenDevicesPorts()
    {
        var bar = new RecordingDevice("bar");
        var neighbour = new RecordingDevice("neighbour");
        _ports.Register(0xC000, 0x10, bar);
        _ports.Register(0xC010, 0x10, neighbour);

        _ports.Unregister(0xC000, 0x20, bar);
        _ports.Unregister(0xFFF0, 0x20, bar); // runs past 0xFFFF: stops at the end of the space

        Assert.Null(_ports.DeviceAt(0xC000));
        Assert.Null(_ports.DeviceAt(0xC00F));
        Assert.Same(neighbour, _ports.DeviceAt(0xC010));
        Assert.Equal(0xFFu, _ports.Read(0xC004, 1));
        Assert.Empty(bar.Accesses);

        // The freed range can be registered again, at a new base.
        _ports.Register(0xC008, 8, bar);
        _ports.Read(0xC00A, 1);
        Assert.Equal([("r", 2UL, 1, 0UL)], bar.Accesses);
    }

    [Theory]
    [InlineData(1, 0xFFu)]
    [InlineData(2, 0xFFFFu)]
    [InlineData(4, 0xFFFF_FFFFu)]
    public void UnassignedPortsReadAllOnes(int size, uint allOnes)
    {
        Assert.Equal(allOnes, _ports.Read(0x80, size));
        Assert.Equal(size, _log.Entries.Count);
    }

    [Fact]
    public void UnassignedAccessesAreLoggedOncePerPortAndDirection()
    {
        long instruction = 7;
        _ports.InstructionCounter = () => instruction++;
        _ports.Write(0x80, 1, 0x12);
        _ports.Write(0x80, 1, 0x34);
        _ports.Read(0x80, 1);

        var entries = _log.Entries.OrderBy(e => e.Write).ToList();
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e => Assert.Equal((UnassignedSpace.Port, 0x80UL, 1), (e.Space, e.Address, e.Size)));
        Assert.Equal((false, 9L, 1L), (entries[0].Write, entries[0].FirstInstruction, entries[0].Count));
        Assert.Equal((true, 7L, 2L), (entries[1].Write, entries[1].FirstInstruction, entries[1].Count));
    }

    [Fact]
    public void AnAccessSpanningTwoDevicesOrAGapIsSplitIntoBytes()
    {
        var low = new RecordingDevice("low", readBase: 0x10);
        var high = new RecordingDevice("high", readBase: 0x20);
        _ports.Register(0x100, 2, low);
        _ports.Register(0x102, 1, high);

        Assert.Equal(0xFF20_1110u, _ports.Read(0x100, 4));
        _ports.Write(0x101, 2, 0xBBAA);

        Assert.Equal([("r", 0UL, 1, 0UL), ("r", 1UL, 1, 0UL), ("w", 1UL, 1, 0xAAUL)], low.Accesses);
        Assert.Equal([("r", 0UL, 1, 0UL), ("w", 0UL, 1, 0xBBUL)], high.Accesses);
        Assert.Equal([0x103UL], _log.Entries.Select(e => e.Address));
    }

    [Fact]
    public void TheAccessCounterCountsEachAccessAndEachByteOfASplitOne()
    {
        _ports.Register(0x60, 1, new RecordingDevice("kbd"));
        _ports.Register(0x64, 1, new RecordingDevice("kbd-cmd"));

        _ports.Read(0x60, 1);
        _ports.Write(0x64, 1, 0xFE);
        _ports.Read(0x80, 1);
        Assert.Equal(3, _ports.AccessCount);

        _ports.Read(0x63, 2); // 0x63 unassigned, 0x64 kbd-cmd: the access and its two bytes
        Assert.Equal(6, _ports.AccessCount);
    }

    [Fact]
    public void PortAccessesAreCutByValidMaxAndAlignmentThenByImpl()
    {
        var bytes = new RecordingDevice(new AccessSizes(1, 4, 1, 1));
        var words = new RecordingDevice(new AccessSizes(1, 2, 2, 2));
        _ports.Register(0x100, 4, bytes);
        _ports.Register(0x200, 4, words);

        Assert.Equal(0x0302_0100u, _ports.Read(0x100, 4));
        _ports.Write(0x101, 2, 0xAABB);
        Assert.Equal([("r", 0UL, 1, 0UL), ("r", 1UL, 1, 0UL), ("r", 2UL, 1, 0UL), ("r", 3UL, 1, 0UL), ("w", 1UL, 1, 0xBBUL), ("w", 2UL, 1, 0xAAUL)], bytes.Accesses);

        // valid.max 2: a dword becomes two words; an odd byte access is widened to a word and masked.
        Assert.Equal(0x0002_0000u, _ports.Read(0x200, 4));
        Assert.Equal(0x01u, _ports.Read(0x201, 1));
        Assert.Equal([("r", 0UL, 2, 0UL), ("r", 2UL, 2, 0UL), ("r", 1UL, 2, 0UL)], words.Accesses);
    }

    [Fact]
    public void ADeviceRefusingASizeReadsZeroAndDropsTheWrite()
    {
        var dwordsOnly = new RecordingDevice(new AccessSizes(4, 4, 4, 4), "pci-config", 0x100);
        _ports.Register(0xCF8, 4, dwordsOnly);

        Assert.Equal(0u, _ports.Read(0xCF8, 1));
        _ports.Write(0xCF9, 1, 0x06);
        Assert.Equal(0x100u, _ports.Read(0xCF8, 4));

        Assert.Equal([("r", 0UL, 4, 0UL)], dwordsOnly.Accesses);
    }
}
