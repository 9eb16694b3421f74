using Emulator.Core.Devices.Uart16550;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Devices;

[Trait("Category", "Unit")]
public sealed class Uart16550Tests
{
    private const ushort Com1 = 0x3F8;
    private readonly PortBus _ports = new(new UnassignedAccessLog());
    private readonly List<byte> _output = [];
    private readonly Queue<byte> _input = new();
    private readonly Uart _uart;

    public Uart16550Tests()
    {
        _uart = new Uart(_output.Add, () => _input.Count > 0 ? _input.Dequeue() : -1);
        _ports.Register(Uart.Com1BasePort, Uart.PortCount, _uart);
    }

    [Fact]
    public void ScratchProbeFindsCom1AndNotCom2()
    {
        _ports.Write(Com1 + 7, 1, 0x55);
        Assert.Equal(0x55u, _ports.Read(Com1 + 7, 1));
        _ports.Write(Com1 + 7, 1, 0xAA);
        Assert.Equal(0xAAu, _ports.Read(Com1 + 7, 1));
        _ports.Write(0x2FF, 1, 0x55);
        Assert.Equal(0xFFu, _ports.Read(0x2FF, 1));
    }

    [Fact]
    public void TransmittedBytesReachTheSinkAndLsrStaysReady()
    {
        Assert.Equal(0x60u, _ports.Read(Com1 + 5, 1));
        foreach (char c in "Shell>")
        {
            _ports.Write(Com1, 1, c);
            Assert.Equal(0x60u, _ports.Read(Com1 + 5, 1) & 0x60);
        }

        Assert.Equal("Shell>"u8.ToArray(), _output.ToArray());
    }

    [Fact]
    public void DivisorLatchIsBehindDlab()
    {
        _ports.Write(Com1 + 3, 1, 0x83);
        _ports.Write(Com1, 1, 0x01);
        _ports.Write(Com1 + 1, 1, 0x00);
        Assert.Equal(0x01u, _ports.Read(Com1, 1));
        _ports.Write(Com1 + 3, 1, 0x03);
        Assert.Equal((ushort)1, _uart.Divisor);
        Assert.Equal(0x03u, _ports.Read(Com1 + 3, 1));
        Assert.Equal(0x00u, _ports.Read(Com1 + 1, 1));
        Assert.Empty(_output);
    }

    [Fact]
    public void FifoEnableShowsInIirAndNoInterruptIsIdentified()
    {
        Assert.Equal(0x01u, _ports.Read(Com1 + 2, 1));
        _ports.Write(Com1 + 2, 1, 0xC7);
        Assert.Equal(0xC1u, _ports.Read(Com1 + 2, 1));
    }

    [Fact]
    public void LoopbackReturnsBytesAndMirrorsModemControl()
    {
        Assert.Equal(0xB0u, _ports.Read(Com1 + 6, 1));
        _ports.Write(Com1 + 4, 1, 0x1F);
        Assert.Equal(0xF0u, _ports.Read(Com1 + 6, 1));
        _ports.Write(Com1 + 4, 1, 0x12);
        Assert.Equal(0x10u, _ports.Read(Com1 + 6, 1));
        _ports.Write(Com1, 1, 0x5A);
        Assert.Equal(0x61u, _ports.Read(Com1 + 5, 1));
        Assert.Equal(0x5Au, _ports.Read(Com1, 1));
        Assert.Equal(0x60u, _ports.Read(Com1 + 5, 1));
        Assert.Empty(_output);
    }

    [Fact]
    public void ScriptedInputArrivesAsTheGuestPollsLsr()
    {
        _input.Enqueue((byte)'a');
        _input.Enqueue((byte)'b');
        Assert.Equal(0x61u, _ports.Read(Com1 + 5, 1));
        Assert.Equal((uint)'a', _ports.Read(Com1, 1));
        Assert.Equal(0x61u, _ports.Read(Com1 + 5, 1));
        Assert.Equal((uint)'b', _ports.Read(Com1, 1));
        Assert.Equal(0x60u, _ports.Read(Com1 + 5, 1));
    }

    [Fact]
    public void InterruptLineFollowsEnabledConditions()
    {
        var levels = new List<bool>();
        _uart.Irq.Connect("test", levels.Add);
        _ports.Write(Com1 + 1, 1, 0x02);
        Assert.Equal([true], levels);
        Assert.Equal(0x02u, _ports.Read(Com1 + 2, 1));
        Assert.Equal([true, false], levels);

        _ports.Write(Com1 + 1, 1, 0x01);
        _input.Enqueue(0x0D);
        _uart.Poll();
        Assert.Equal([true, false, true], levels);
        Assert.Equal(0x04u, _ports.Read(Com1 + 2, 1));
        _ports.Read(Com1, 1);
        Assert.Equal([true, false, true, false], levels);
    }

    [Fact]
    public void ReadingLsrOrRbrWithNothingReceivedReportsAWaitForInput()
    {
        int waits = 0;
        _uart.InputAwaited += () => waits++;
        _ports.Read(Com1 + 5, 1);
        _ports.Read(Com1, 1);
        Assert.Equal(2, waits);

        // A byte waiting (pulled by the LSR read) is no wait; reading it out of RBR is none either.
        _input.Enqueue((byte)'x');
        Assert.Equal(1u, _ports.Read(Com1 + 5, 1) & Uart.LsrDataReady);
        Assert.Equal((uint)'x', _ports.Read(Com1, 1));
        Assert.Equal(2, waits);

        // Other registers are no input poll.
        _ports.Read(Com1 + 6, 1);
        _ports.Read(Com1 + 2, 1);
        Assert.Equal(2, waits);
    }
}
