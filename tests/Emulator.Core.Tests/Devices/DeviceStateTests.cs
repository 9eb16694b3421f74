using Emulator.Core.Devices;
using Emulator.Core.Devices.CfiFlash;
using Emulator.Core.Devices.LocalApic;
using Emulator.Core.Devices.Ps2;
using Emulator.Core.Devices.Uart16550;
using Emulator.Core.Io;
using Emulator.Core.Machine;
using Emulator.Core.Memory;
using Emulator.Core.Timing;

namespace Emulator.Core.Tests.Devices;

/// <summary>
/// Save → mutate → restore on single devices, judged by what the guest sees afterwards: the
/// restored device carries on exactly where the saved one was (queued bytes, a command half way
/// through, a timer's next expiry), not merely a record that compares equal.
/// </summary>
[Trait("Category", "Unit")]
public sealed class DeviceStateTests
{
    [Fact]
    public void AUartGivesBackItsQueuedBytesAndInterruptAfterRestore()
    {
        var ports = new PortBus(new UnassignedAccessLog());
        var uart = new Uart(_ => { }, () => -1, "com1");
        var levels = new List<bool>();
        uart.Irq.Connect("test", levels.Add);
        ports.Register(Uart.Com1BasePort, Uart.PortCount, uart);
        ports.Write(Uart.Com1BasePort + Uart.FifoControlOffset, 1, Uart.FcrEnable);
        ports.Write(Uart.Com1BasePort + Uart.ModemControlOffset, 1, Uart.McrLoopback);
        ports.Write(Uart.Com1BasePort + Uart.InterruptEnableOffset, 1, Uart.IerReceivedData);
        foreach (char c in "ok")
        {
            ports.Write(Uart.Com1BasePort, 1, c);
        }

        var saved = uart.SaveState();
        uart.Reset();
        Assert.False(uart.Irq.Level);
        uart.RestoreState(saved);

        Assert.True(uart.Irq.Level);
        Assert.Equal([true, false, true], levels);
        Assert.Equal('o', (char)ports.Read(Uart.Com1BasePort, 1));
        Assert.Equal('k', (char)ports.Read(Uart.Com1BasePort, 1));
        Assert.False(uart.Irq.Level);
    }

    [Fact]
    public void TheKeyboardControllerKeepsItsQueueAndPendingCommand()
    {
        int resets = 0;
        var kbc = new I8042(() => resets++);
        kbc.Write(0, 1, 0xF2);                           // identify: ACK, 0xAB, 0x83 queued
        kbc.CommandRegister.Write(0, 1, I8042.CommandWriteOutputPort);
        var saved = kbc.SaveState();
        kbc.Reset();
        kbc.RestoreState(saved);

        Assert.Equal(I8042.Ack, (byte)kbc.Read(0, 1));
        Assert.Equal(0xABu, kbc.Read(0, 1));
        kbc.Write(0, 1, 0x00);                           // the pending 0xD1 takes it: bit 0 clear pulses reset
        Assert.Equal(1, resets);
    }

    [Fact]
    public void ALocalApicTimerFiresAtItsRecordedDeadlineAfterRestore()
    {
        long now = 0;
        var scheduler = new Scheduler();
        var apic = new Xapic(scheduler, () => now, 1, 1);
        apic.Write(Xapic.SpuriousVectorRegister, 4, 0x1FF);
        apic.Write(Xapic.DivideConfigurationRegister, 4, 0xB);           // divide by 1
        apic.Write(Xapic.LvtTimerRegister, 4, Xapic.LvtTimerPeriodic | 0x40);
        apic.Write(Xapic.InitialCountRegister, 4, 1000);
        now = 2500;
        scheduler.RunDue(now);
        var saved = apic.SaveState();
        Assert.Equal(3000L, scheduler.NextDeadline);

        apic.Reset();
        Assert.Equal(long.MaxValue, scheduler.NextDeadline);
        apic.RestoreState(saved);

        Assert.Equal(3000L, scheduler.NextDeadline);
        Assert.Equal(500u, (uint)apic.Read(Xapic.CurrentCountRegister, 4));
        Assert.Equal(0x40, apic.Acknowledge());
    }

    [Fact]
    public void AFlashChipFinishesABufferedWriteStartedBeforeTheSnapshot()
    {
        using var m = new PcMachine(new MachineOptions
        {
            RamSize = 16UL << 20,
            Flash = [new("code", new byte[0x10000], true), new("vars", Enumerable.Repeat((byte)0xFF, 0x20000).ToArray(), false)],
        });
        var chip = m.FlashChips[1];
        ulong at = m.FlashPlacements[1].Base + 0x100;
        m.Bus.Write(at, 1, FlashCommand.WriteToBuffer);
        m.Bus.Write(at, 1, 1);                                            // two bytes follow
        m.Bus.Write(at, 1, 0x12);
        var saved = chip.SaveState();

        chip.Reset();
        Assert.True(m.Bus.Find(at).ReadsDirect);
        chip.RestoreState(saved);

        Assert.False(m.Bus.Find(at).ReadsDirect);
        m.Bus.Write(at + 1, 1, 0x34);
        m.Bus.Write(at, 1, FlashCommand.Confirm);
        m.Bus.Write(at, 1, FlashCommand.ReadArray);
        Assert.Equal(0x3412UL, m.Bus.Read(at, 2));
        Assert.Throws<ArgumentException>(() => chip.RestoreState(new NoDeviceState()));
    }
}
