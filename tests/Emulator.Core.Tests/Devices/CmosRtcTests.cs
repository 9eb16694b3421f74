using Emulator.Core.Devices.CmosRtc;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Devices;

[Trait("Category", "Unit")]
public sealed class CmosRtcTests
{
    private readonly PortBus _ports = new(new UnassignedAccessLog());
    private readonly Mc146818 _rtc;
    private long _nanoseconds;

    public CmosRtcTests()
    {
        _rtc = new Mc146818(() => _nanoseconds, new DateTime(2024, 2, 29, 23, 59, 58));
        _ports.Register(Mc146818.BasePort, Mc146818.PortCount, _rtc);
    }

    [Fact]
    public void MemorySizeBytesFor256MiBMatchQemu()
    {
        _rtc.SetMemorySize(256UL << 20, 0);
        Assert.Equal(0x00u, Cmos(0x34));
        Assert.Equal(0x0Fu, Cmos(0x35));
        Assert.Equal(0xFFu, Cmos(0x30));
        Assert.Equal(0xFFu, Cmos(0x31));
        Assert.Equal(0xFFu, Cmos(0x17));
        Assert.Equal(0xFFu, Cmos(0x18));
        Assert.Equal(640u, Cmos(0x15) | (Cmos(0x16) << 8));
        Assert.Equal(0u, Cmos(0x5B) | Cmos(0x5C) | Cmos(0x5D));
    }

    [Fact]
    public void MemoryAboveFourGiBIsIn64KiBUnits()
    {
        _rtc.SetMemorySize(3UL << 30, 5UL << 30);
        Assert.Equal(0xBF00u, Cmos(0x34) | (Cmos(0x35) << 8));
        Assert.Equal(0x01_4000u, Cmos(0x5B) | (Cmos(0x5C) << 8) | (Cmos(0x5D) << 16));
    }

    [Fact]
    public void ClockReadsInBcdAndAdvancesWithVirtualTime()
    {
        Assert.Equal(0x58u, Cmos(0x00));
        Assert.Equal(0x59u, Cmos(0x02));
        Assert.Equal(0x23u, Cmos(0x04));
        Assert.Equal(0x29u, Cmos(0x07));
        Assert.Equal(0x02u, Cmos(0x08));
        Assert.Equal(0x24u, Cmos(0x09));
        Assert.Equal(0x20u, Cmos(0x32));
        Assert.Equal(0x05u, Cmos(0x06));

        _nanoseconds = 3_000_000_000;
        Assert.Equal(0x01u, Cmos(0x00));
        Assert.Equal(0x00u, Cmos(0x04));
        Assert.Equal(0x01u, Cmos(0x07));
        Assert.Equal(0x03u, Cmos(0x08));
    }

    [Fact]
    public void BinaryAnd12HourModesFollowRegisterB()
    {
        WriteCmos(0x0B, 0x04);
        Assert.Equal(58u, Cmos(0x00));
        Assert.Equal(0x80u | 11, Cmos(0x04));
        WriteCmos(0x0B, 0x06);
        Assert.Equal(23u, Cmos(0x04));
    }

    [Fact]
    public void StatusRegistersAndUpdateInProgress()
    {
        Assert.Equal(0x26u, Cmos(0x0A));
        Assert.Equal(0x02u, Cmos(0x0B));
        Assert.Equal(0x00u, Cmos(0x0C));
        Assert.Equal(0x80u, Cmos(0x0D));
        _nanoseconds = 999_900_000;
        Assert.Equal(0xA6u, Cmos(0x0A));
        _nanoseconds = 1_000_000_000;
        Assert.Equal(0x26u, Cmos(0x0A));
    }

    [Fact]
    public void SettingTheClockWithSetBitRestartsFromTheWrittenTime()
    {
        WriteCmos(0x0B, 0x82);
        WriteCmos(0x04, 0x12);
        WriteCmos(0x02, 0x34);
        WriteCmos(0x00, 0x56);
        _nanoseconds = 10_000_000_000;
        Assert.Equal(0x56u, Cmos(0x00));
        WriteCmos(0x0B, 0x02);
        _nanoseconds = 12_000_000_000;
        Assert.Equal(0x58u, Cmos(0x00));
        Assert.Equal(0x34u, Cmos(0x02));
        Assert.Equal(0x12u, Cmos(0x04));
    }

    [Fact]
    public void UpdateEndedFlagLatchesAtEachSecondBoundaryOfVirtualTimeUntilRegisterCIsRead()
    {
        _nanoseconds = 999_999_999;
        Assert.Equal(0x00u, Cmos(0x0C));
        _nanoseconds = 1_000_000_000;
        Assert.Equal(0x10u, Cmos(0x0C));
        Assert.Equal(0x00u, Cmos(0x0C));
        _nanoseconds = 1_900_000_000;
        Assert.Equal(0x00u, Cmos(0x0C));

        // The divider held in reset (register A bits 6–5 = 11) stops update cycles.
        WriteCmos(0x0A, 0x66);
        _nanoseconds = 5_000_000_000;
        Assert.Equal(0x00u, Cmos(0x0C));
        WriteCmos(0x0A, 0x26);
        _nanoseconds = 6_000_000_000;
        Assert.Equal(0x10u, Cmos(0x0C));
    }

    [Fact]
    public void SettingTheTimeRestartsTheSecondPhase()
    {
        _nanoseconds = 500_000_000;
        Assert.Equal(0x00u, Cmos(0x0C));
        WriteCmos(0x00, 0x10);
        _nanoseconds = 1_400_000_000;
        Assert.Equal(0x00u, Cmos(0x0C));
        _nanoseconds = 1_500_000_000;
        Assert.Equal(0x10u, Cmos(0x0C));
    }

    [Fact]
    public void Ps2CenturyByteAliasesTheCenturyAndMovesTheIndex()
    {
        Assert.Equal(0x20u, Cmos(0x37));
        Assert.Equal(0x20u, _ports.Read(0x71, 1));
        WriteCmos(0x0B, 0x82);
        WriteCmos(0x37, 0x19);
        Assert.Equal(0x19u, Cmos(0x32));
    }

    [Fact]
    public void ShutdownStatusIsStoredAndIndexCarriesNmiDisable()
    {
        WriteCmos(0x8F, 0x0A);
        Assert.True(_rtc.NmiDisabled);
        Assert.Equal(0x0Au, Cmos(0x0F));
        Assert.False(_rtc.NmiDisabled);
        Assert.Equal(0xFFu, _ports.Read(0x70, 1));
    }

    private uint Cmos(int index)
    {
        _ports.Write(0x70, 1, (uint)index);
        return _ports.Read(0x71, 1);
    }

    private void WriteCmos(int index, uint value)
    {
        _ports.Write(0x70, 1, (uint)index);
        _ports.Write(0x71, 1, value);
    }
}
