using Emulator.Core.Devices.Hpet;
using Emulator.Core.Machine;
using Emulator.Core.Platform;

namespace Emulator.Core.Tests.Machine;

/// <summary>
/// How the pc machine connects interrupt sources, through bus accesses only: ISA IRQs reach the
/// 8259 pair and the I/O APIC (IRQ0 on pin 2), the HPET drives those lines, the I/O APIC
/// delivers to the local APIC and receives its EOIs, and reset restores power-on state.
/// </summary>
[Trait("Category", "Unit")]
public sealed class PcMachineInterruptWiringTests : IDisposable
{
    private const ulong IoApicBase = 0xFEC0_0000;
    private const ulong HpetBase = 0xFED0_0000;
    private const ulong Lapic = 0xFEE0_0000;
    private readonly PcMachine _m = new(new MachineOptions { Flash = [new("code", new byte[0x200000], true)] });

    public PcMachineInterruptWiringTests() => _m.Bus.Write(Lapic + 0xF0, 4, 0x1FF);

    public void Dispose() => _m.Dispose();

    [Fact]
    public void DevicesAnswerAtQemuAddresses()
    {
        Assert.Equal(0x0017_0020u, IoApicRead(0x01));
        Assert.Equal(0x0098_9680_8086_A201UL, _m.Bus.Read(HpetBase, 8));
        Assert.Equal([new HpetBlock(0x8086_A201, 0xFED0_0000)], _m.HpetBlocks);
        Assert.DoesNotContain(_m.Bus.Unassigned.Entries, e => e.Address is >= IoApicBase and < 0xFEC0_1000 or >= HpetBase and < 0xFED0_1000);
    }

    [Fact]
    public void WithoutHpetItsPageIsUnassignedAndFwCfgHasNoEntry()
    {
        using var m = new PcMachine(new MachineOptions { Flash = [new("code", new byte[0x200000], true)], Hpet = false });
        Assert.Null(m.Hpet);
        Assert.Empty(m.HpetBlocks);
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(HpetBase, 4));
        Assert.Contains(m.Bus.Unassigned.Entries, e => e.Address == HpetBase);
        m.Reset();
    }

    [Fact]
    public void SerialIrq4ReachesTheLocalApicThroughIoApicPin4()
    {
        IoApicWrite(0x10 + (2 * 4), 0x34);
        _m.Ports.Write(0x3F9, 1, 0x02);
        Assert.True(_m.LocalApic.HasPendingInterrupt);
        Assert.Equal(0x34, _m.LocalApic.Acknowledge());
    }

    [Fact]
    public void HpetLegacyTimer0ArrivesOnIoApicPin2AndOnThe8259Irq0()
    {
        // 8259 pair initialised with vectors 0x20/0x28, IRQ0 unmasked.
        _m.Ports.Write(0x20, 1, 0x11);
        _m.Ports.Write(0x21, 1, 0x20);
        _m.Ports.Write(0x21, 1, 0x04);
        _m.Ports.Write(0x21, 1, 0x01);
        _m.Ports.Write(0x21, 1, 0xFE);
        IoApicWrite(0x10 + (2 * 2), 0x50);

        _m.Bus.Write(HpetBase + 0x100, 4, 0x4);
        _m.Bus.Write(HpetBase + 0x108, 8, 1_000);
        _m.Bus.Write(HpetBase + 0x010, 4, 0x3);
        long due = _m.Cpu.VirtualTime + 10_000;
        Assert.Equal(due, _m.Scheduler.NextDeadline);
        _m.Cpu.SkipWait(10_000);
        _m.Scheduler.RunDue(_m.Cpu.VirtualTime);

        Assert.Equal(0x50, _m.LocalApic.Acknowledge());
        Assert.True(_m.Pic.HasPendingInterrupt);
        Assert.Equal(0x20, _m.Pic.Acknowledge());
    }

    [Fact]
    public void LocalApicEoiEndsALevelTriggeredIoApicInterrupt()
    {
        // HPET timer 2, level-triggered, routed to GSI 20 (an I/O APIC-only line).
        IoApicWrite(0x10 + (2 * 20), 0x8000 | 0x60);
        _m.Bus.Write(HpetBase + 0x140, 4, (20 << 9) | 0x4 | 0x2);
        _m.Bus.Write(HpetBase + 0x148, 8, 10);
        _m.Bus.Write(HpetBase + 0x010, 4, 0x1);
        _m.Cpu.SkipWait(100);
        _m.Scheduler.RunDue(_m.Cpu.VirtualTime);
        Assert.Equal(0x60, _m.LocalApic.Acknowledge());
        Assert.Equal(0x4000u, IoApicRead(0x10 + (2 * 20)) & 0x4000);

        // EOI while the HPET still holds the line: sent again. After the status is cleared, EOI ends it.
        _m.Bus.Write(Lapic + 0xB0, 4, 0);
        Assert.Equal(0x60, _m.LocalApic.Acknowledge());
        _m.Bus.Write(HpetBase + 0x020, 4, 0x4);
        _m.Bus.Write(Lapic + 0xB0, 4, 0);
        Assert.Equal(0u, IoApicRead(0x10 + (2 * 20)) & 0x4000);
        Assert.False(_m.LocalApic.HasPendingInterrupt);
    }

    [Fact]
    public void ResetRestoresPowerOnState()
    {
        IoApicWrite(0x00, 0x0300_0000);
        IoApicWrite(0x10, 0x31);
        _m.Bus.Write(HpetBase + 0x0F0, 8, 1234);
        _m.Bus.Write(HpetBase + 0x100, 4, 0x4 | 0x8);
        _m.Bus.Write(HpetBase + 0x010, 4, 0x1);
        _m.Reset();
        Assert.Equal(0u, IoApicRead(0x00));
        Assert.Equal(0x1_0000u, IoApicRead(0x10));
        Assert.Equal(0UL, _m.Bus.Read(HpetBase + 0x010, 8));
        Assert.Equal(0UL, _m.Bus.Read(HpetBase + 0x0F0, 8));
        Assert.Equal(0x0000_0004_0000_0030UL, _m.Bus.Read(HpetBase + 0x100, 8));
    }

    private uint IoApicRead(uint index)
    {
        _m.Bus.Write(IoApicBase, 4, index);
        return (uint)_m.Bus.Read(IoApicBase + 0x10, 4);
    }

    private void IoApicWrite(uint index, uint value)
    {
        _m.Bus.Write(IoApicBase, 4, index);
        _m.Bus.Write(IoApicBase + 0x10, 4, value);
    }
}
