using Emulator.Core.Devices.Pic8259;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Devices;

[Trait("Category", "Unit")]
public sealed class Pic8259Tests
{
    private readonly PortBus _ports = new(new UnassignedAccessLog());
    private readonly DualPic _pic = new();

    public Pic8259Tests()
    {
        _ports.Register(DualPic.MasterBasePort, Pic.PortCount, _pic.Master);
        _ports.Register(DualPic.SlaveBasePort, Pic.PortCount, _pic.Slave);
        _ports.Register(EdgeLevelControl.BasePort, EdgeLevelControl.PortCount, new EdgeLevelControl(_pic));
    }

    [Fact]
    public void OvmfMaskWritesReadBack()
    {
        _ports.Write(0x21, 1, 0xFF);
        _ports.Write(0xA1, 1, 0xFF);
        Assert.Equal(0xFFu, _ports.Read(0x21, 1));
        Assert.Equal(0xFFu, _ports.Read(0xA1, 1));
        _pic.SetIrq(0, true);
        Assert.False(_pic.HasPendingInterrupt);
    }

    [Fact]
    public void InitialisedPicsDeliverVectorsFromIcw2AndHonourEoi()
    {
        Initialise();
        var outputs = new List<bool>();
        _pic.Intr.Connect("test", outputs.Add);

        _pic.SetIrq(1, true);
        Assert.True(_pic.HasPendingInterrupt);
        Assert.Equal([true], outputs);
        Assert.Equal(0x21, _pic.Acknowledge());
        Assert.False(_pic.HasPendingInterrupt);

        _ports.Write(0x20, 1, 0x0B);
        Assert.Equal(0x02u, _ports.Read(0x20, 1));
        _pic.SetIrq(0, true);
        Assert.True(_pic.HasPendingInterrupt);
        _pic.SetIrq(3, true);
        _pic.SetIrq(1, false);
        _ports.Write(0x20, 1, 0x20);
        Assert.Equal(0x00u, _ports.Read(0x20, 1));
        Assert.Equal(0x20, _pic.Acknowledge());
        _ports.Write(0x20, 1, 0x20);
        Assert.Equal(0x23, _pic.Acknowledge());
    }

    [Fact]
    public void SlaveInterruptsCascadeThroughIrq2()
    {
        Initialise();
        _pic.SetIrq(10, true);
        Assert.True(_pic.HasPendingInterrupt);
        Assert.Equal(0x72, _pic.Acknowledge());
        _ports.Write(0xA0, 1, 0x0B);
        Assert.Equal(0x04u, _ports.Read(0xA0, 1));
        _ports.Write(0x20, 1, 0x0B);
        Assert.Equal(0x04u, _ports.Read(0x20, 1));
    }

    [Fact]
    public void MaskedInputsStayPendingUntilUnmasked()
    {
        Initialise();
        _ports.Write(0x21, 1, 0x10);
        _pic.SetIrq(4, true);
        Assert.False(_pic.HasPendingInterrupt);
        _ports.Write(0x20, 1, 0x0A);
        Assert.Equal(0x10u, _ports.Read(0x20, 1));
        _ports.Write(0x21, 1, 0x00);
        Assert.True(_pic.HasPendingInterrupt);
        Assert.Equal(0x24, _pic.Acknowledge());
    }

    [Fact]
    public void ElcrMakesInputsLevelTriggeredAndAWithdrawnRequestIsSpurious()
    {
        Initialise();
        _ports.Write(0x4D0, 2, 0xFFFF);
        Assert.Equal(0xDEF8u, _ports.Read(0x4D0, 2));
        _pic.SetIrq(11, true);
        Assert.Equal(0x73, _pic.Acknowledge());
        _ports.Write(0xA0, 1, 0x20);
        _ports.Write(0x20, 1, 0x20);
        Assert.True(_pic.HasPendingInterrupt);
        _pic.SetIrq(11, false);
        Assert.Equal(0x77, _pic.Acknowledge());
        _ports.Write(0x20, 1, 0x20);
        Assert.False(_pic.HasPendingInterrupt);
    }

    private void Initialise()
    {
        _ports.Write(0x20, 1, 0x11);
        _ports.Write(0x21, 1, 0x20);
        _ports.Write(0x21, 1, 0x04);
        _ports.Write(0x21, 1, 0x01);
        _ports.Write(0xA0, 1, 0x11);
        _ports.Write(0xA1, 1, 0x70);
        _ports.Write(0xA1, 1, 0x02);
        _ports.Write(0xA1, 1, 0x01);
        _ports.Write(0x21, 1, 0x00);
        _ports.Write(0xA1, 1, 0x00);
    }
}
