using Emulator.Core.Devices.Ps2;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Devices;

/// <summary>The i8042 through ports 0x60/0x64, in the order OVMF's Ps2KeyboardDxe and ResetSystemLib use it.</summary>
[Trait("Category", "Unit")]
public sealed class I8042Tests
{
    private readonly PortBus _ports = new(new UnassignedAccessLog());
    private readonly I8042 _kbc;
    private int _resets;

    public I8042Tests()
    {
        _kbc = new I8042(() => _resets++);
        _ports.Register(I8042.DataPort, I8042.PortCount, _kbc);
        _ports.Register(I8042.CommandPort, I8042.PortCount, _kbc.CommandRegister);
    }

    private uint Status => _ports.Read(0x64, 1);

    private List<uint> Drain()
    {
        var bytes = new List<uint>();
        while ((Status & I8042.StatusOutputFull) != 0)
        {
            bytes.Add(_ports.Read(0x60, 1));
        }

        return bytes;
    }

    [Fact]
    public void SelfTestSetsTheSystemFlagAndAnswers55()
    {
        Assert.Equal((uint)(I8042.StatusCommand | I8042.StatusUnlocked), Status);
        _ports.Write(0x64, 1, I8042.CommandSelfTest);
        Assert.Equal(1u, Status & I8042.StatusOutputFull);
        Assert.Equal([0x55u], Drain());
        Assert.NotEqual(0u, Status & I8042.StatusSystem);
        _ports.Write(0x64, 1, I8042.CommandKeyboardTest);
        Assert.Equal([0x00u], Drain());
    }

    [Fact]
    public void CommandByteIsReadAndWritten()
    {
        _ports.Write(0x64, 1, I8042.CommandReadMode);
        Assert.Equal([(uint)(I8042.ModeKeyboardInterrupt | I8042.ModeAuxInterrupt)], Drain());
        _ports.Write(0x64, 1, I8042.CommandWriteMode);
        _ports.Write(0x60, 1, 0x65);
        Assert.Equal(0u, Status & I8042.StatusCommand);   // the last write went to the data port
        _ports.Write(0x64, 1, I8042.CommandReadMode);
        Assert.Equal([0x65u], Drain());
    }

    [Fact]
    public void KeyboardAnswersResetIdentifyScanSetAndLeds()
    {
        _ports.Write(0x60, 1, 0xFF);
        Assert.Equal([0xFAu, 0xAAu], Drain());
        _ports.Write(0x60, 1, 0xF2);
        Assert.Equal([0xFAu, 0xABu, 0x83u], Drain());
        _ports.Write(0x60, 1, 0xF0);
        _ports.Write(0x60, 1, 0x00);
        Assert.Equal([0xFAu, 0xFAu, 0x02u], Drain());
        _ports.Write(0x60, 1, 0xED);
        _ports.Write(0x60, 1, 0x07);
        Assert.Equal([0xFAu, 0xFAu], Drain());
        _ports.Write(0x60, 1, 0x12);
        Assert.Equal([0xFEu], Drain());
        Assert.Equal(0xFEu, _ports.Read(0x60, 1));   // an empty buffer repeats the last byte
    }

    [Fact]
    public void PulsingOutputBitZeroRequestsAReset()
    {
        _ports.Write(0x64, 1, 0xFF);                  // pulse nothing
        Assert.Equal(0, _resets);
        _ports.Write(0x64, 1, I8042.CommandPulseReset);
        Assert.Equal(1, _resets);
        _ports.Write(0x64, 1, I8042.CommandWriteOutputPort);
        _ports.Write(0x60, 1, 0x02);                  // output port bit 0 low: reset
        Assert.Equal(2, _resets);
        _ports.Write(0x64, 1, I8042.CommandReadOutputPort);
        Assert.Equal([0x02u], Drain());
        _kbc.Reset();
        _ports.Write(0x64, 1, I8042.CommandReadOutputPort);
        Assert.Equal([(uint)(I8042.OutputPortReset | I8042.OutputPortA20 | I8042.OutputPortOnes)], Drain());
    }

    [Fact]
    public void ReadingTheStatusWithNothingToReadReportsAWaitForInput()
    {
        int waits = 0;
        _kbc.InputAwaited += () => waits++;
        Assert.Equal(0u, Status & I8042.StatusOutputFull);
        Assert.Equal(1, waits);

        _ports.Write(0x64, 1, I8042.CommandSelfTest);
        Assert.Equal(1u, Status & I8042.StatusOutputFull);
        Assert.Equal(1, waits);
        _ports.Read(0x60, 1);
        Assert.Equal(0u, Status & I8042.StatusOutputFull);
        Assert.Equal(2, waits);
    }
}
