using Emulator.Core.Devices.Misc;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Devices;

[Trait("Category", "Unit")]
public sealed class MiscTests
{
    private readonly PortBus _ports = new(new UnassignedAccessLog());

    [Fact]
    public void Port92GatesA20AndRequestsResetOnARisingBit0()
    {
        var port92 = new Port92();
        _ports.Register(Port92.Port, Port92.PortCount, port92);
        var a20 = new List<bool>();
        int resets = 0;
        port92.A20.Connect("test", a20.Add);
        port92.ResetRequested += () => resets++;

        _ports.Write(0x92, 1, 0x02);
        Assert.Equal(0x02u, _ports.Read(0x92, 1));
        Assert.True(port92.A20Enabled);
        Assert.Equal([true], a20);
        Assert.Equal(0, resets);
        _ports.Write(0x92, 1, 0x03);
        _ports.Write(0x92, 1, 0x03);
        Assert.Equal(1, resets);
    }

    [Fact]
    public void DebugConCollectsBytesAndReadsE9()
    {
        var output = new List<byte>();
        _ports.Register(DebugCon.Port, DebugCon.PortCount, new DebugCon(output.Add));
        _ports.Write(0x402, 1, 'O');
        _ports.Write(0x402, 1, 'K');
        Assert.Equal("OK"u8.ToArray(), output.ToArray());
        Assert.Equal(0xE9u, _ports.Read(0x402, 1));
    }

    [Fact]
    public void PostCodeKeepsTheLastValue()
    {
        var post = new PostCode();
        _ports.Register(PostCode.Port, PostCode.PortCount, post);
        _ports.Write(0x80, 1, 0x41);
        _ports.Write(0x80, 1, 0x42);
        Assert.Equal(0x42, post.LastValue);
        Assert.Equal(0xFFu, _ports.Read(0x80, 1));
    }

    [Theory]
    [InlineData(0u, 1)]
    [InlineData(0x21u, 67)]
    [InlineData(0x80u, 1)]
    [InlineData(0xFFFF_FFFFu, 0xFF)]
    public void DebugExitGivesQemusStatusForEveryWidthAndPortAndReadsZero(uint value, int status)
    {
        var exits = new List<(int Status, uint Value)>();
        _ports.Register(0xF4, 4, new IsaDebugExit((s, v) => exits.Add((s, v))));
        _ports.Write(0xF4, 1, value & 0xFF);
        _ports.Write(0xF6, 2, value & 0xFFFF);
        _ports.Write(0xF4, 4, value);
        Assert.Equal([IsaDebugExit.ExitStatus(value & 0xFF), IsaDebugExit.ExitStatus(value & 0xFFFF), status], exits.Select(e => e.Status));
        Assert.Equal(value, exits[^1].Value);
        Assert.Equal(0u, _ports.Read(0xF5, 1));
    }
}
