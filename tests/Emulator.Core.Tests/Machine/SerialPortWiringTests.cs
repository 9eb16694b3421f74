using Emulator.Core.Devices.Uart16550;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Machine;

/// <summary>ISA serial ports at QEMU's legacy resources (hw/char/serial-isa.c), each with its own backend.</summary>
[Trait("Category", "Unit")]
public class SerialPortWiringTests
{
    private static readonly byte[] Firmware = new byte[0x10000];

    private static PcMachine Build(params IsaSerialPort[] ports) =>
        new(new MachineOptions { Flash = [new FlashImage("fw", Firmware, true)], SerialPorts = ports });

    [Theory]
    [InlineData(0, 0x3F8, 4, "COM1")]
    [InlineData(1, 0x2F8, 3, "COM2")]
    [InlineData(2, 0x3E8, 4, "COM3")]
    [InlineData(3, 0x2E8, 3, "COM4")]
    public void IndexPicksQemusIoBaseAndIrq(int index, int ioBase, int irq, string name)
    {
        var port = new IsaSerialPort(index);
        Assert.Equal(ioBase, port.IoBase);
        Assert.Equal(irq, port.Irq);
        Assert.Equal(name, port.Name);
    }

    [Fact]
    public void EachPortTransmitsToItsOwnBackendAndReceivesFromItsOwnSource()
    {
        var com1 = new List<byte>();
        var com2 = new List<byte>();
        using var m = Build(new IsaSerialPort(0, com1.Add, () => 'a'), new IsaSerialPort(1, com2.Add, () => 'b'));

        m.Ports.Write(0x3F8, 1, 'X');
        m.Ports.Write(0x2F8, 1, 'Y');

        Assert.Equal("X"u8.ToArray(), com1);
        Assert.Equal("Y"u8.ToArray(), com2);
        Assert.Equal('a', (int)m.Ports.Read(0x3F8, 1));
        Assert.Equal('b', (int)m.Ports.Read(0x2F8, 1));
        Assert.Equal(2, m.SerialPorts.Count);
    }

    [Fact]
    public void NoPortsMeansNoUart()
    {
        using var m = Build();
        Assert.Empty(m.SerialPorts);

        // Nothing decodes 0x3FD: the line status reads as unassigned (all ones), so firmware's
        // serial probe finds no UART (its scratch register does not hold a value).
        m.Ports.Write(0x3FF, 1, 0x5A);
        Assert.NotEqual(0x5A, (int)m.Ports.Read(0x3FF, 1));
    }

    [Fact]
    public void TheDefaultIsCom1Alone()
    {
        using var m = new PcMachine(new MachineOptions { Flash = [new FlashImage("fw", Firmware, true)] });
        Assert.Single(m.SerialPorts);
        m.Ports.Write(0x3FF, 1, 0x5A);
        Assert.Equal(0x5A, (int)m.Ports.Read(0x3FF, 1));
    }

    [Fact]
    public void TwoPortsAtOneIndexAreRefused()
    {
        var e = Assert.Throws<FirmwareLayoutException>(() => Build(new IsaSerialPort(1), new IsaSerialPort(1)));
        Assert.Contains("COM2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReceivedDataRaisesTheIsaIrqWhenEnabled()
    {
        using var m = Build(new IsaSerialPort(1, null, () => 'z'));
        m.Ports.Write(0x2F8 + Uart.InterruptEnableOffset, 1, Uart.IerReceivedData);
        Assert.Equal(Uart.LsrDataReady, (int)m.Ports.Read(0x2F8 + Uart.LineStatusOffset, 1) & Uart.LsrDataReady);

        // IRQ 3 pending on the master PIC's request register (OCW3 read IRR is the default).
        Assert.Equal(1 << 3, (int)m.Ports.Read(0x20, 1) & (1 << 3));
    }
}
