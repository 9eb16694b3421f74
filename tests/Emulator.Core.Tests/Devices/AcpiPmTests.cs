using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Devices;

public sealed class AcpiPmTests
{
    private const ushort Base = 0xB000;
    private readonly PortBus _ports = new(new UnassignedAccessLog());
    private readonly PmIoBlock _pm;
    private long _nanoseconds;

    public AcpiPmTests()
    {
        _pm = new PmIoBlock(() => _nanoseconds);
        _ports.Register(Base, PmIoBlock.PortCount, _pm);
    }

    [Fact]
    public void TimerAdvancesAt3579545HzOfVirtualTime()
    {
        Assert.Equal(0u, _ports.Read(Base + 8, 4));
        _nanoseconds = 1_000_000_000;
        Assert.Equal(3_579_545u, _ports.Read(Base + 8, 4));
        _nanoseconds = 1_000;
        Assert.Equal(3u, _ports.Read(Base + 8, 4));
    }

    [Fact]
    public void TimerWrapsAt24BitsAndSetsTimerStatus()
    {
        Assert.Equal(0u, _ports.Read(Base, 2) & PmIoBlock.StatusTimer);
        _nanoseconds = 5_000_000_000;
        uint ticks = (uint)(5L * 3_579_545);
        Assert.Equal(ticks & 0xFF_FFFF, _ports.Read(Base + 8, 4));
        Assert.True(ticks > 0xFF_FFFF);
        Assert.Equal((uint)PmIoBlock.StatusTimer, _ports.Read(Base, 2) & PmIoBlock.StatusTimer);
        _ports.Write(Base, 2, PmIoBlock.StatusTimer);
        Assert.Equal(0u, _ports.Read(Base, 2) & PmIoBlock.StatusTimer);
    }

    [Fact]
    public void ControlStoresSciEnAndSleepEnableRaisesTheEvent()
    {
        int requested = -1;
        _pm.SleepRequested += type => requested = type;
        _ports.Write(Base + 4, 2, 0x0001);
        Assert.Equal(1u, _ports.Read(Base + 4, 2));
        Assert.True(_pm.SciEnabled);
        Assert.Equal(-1, requested);
        _ports.Write(Base + 4, 2, 0x2001 | (5 << 10));
        Assert.Equal(5, requested);
        Assert.Equal(0x1401u, _ports.Read(Base + 4, 2));
    }

    [Fact]
    public void EnableAndGpeRegistersAreStored()
    {
        _ports.Write(Base + 2, 2, 0x0121);
        Assert.Equal(0x0121u, _ports.Read(Base + 2, 2));
        _ports.Write(Base + 0x0E, 2, 0x0003);
        Assert.Equal(0x0003u, _ports.Read(Base + 0x0E, 2));
        Assert.Equal(0u, _ports.Read(Base + 0x0C, 2));
    }

    [Fact]
    public void TimerOverflowWithEnableRaisesSciWhenSciEnIsSet()
    {
        var levels = new List<bool>();
        _pm.SciChanged += levels.Add;
        _ports.Write(Base + 4, 2, PmIoBlock.ControlSciEnable);
        _ports.Write(Base + 2, 2, PmIoBlock.EnableTimer);
        _nanoseconds = 3_000_000_000;
        _ports.Write(Base + 2, 2, PmIoBlock.EnableTimer);
        Assert.Equal([true], levels);
        _ports.Write(Base, 2, PmIoBlock.StatusTimer);
        Assert.Equal([true, false], levels);
    }
}
