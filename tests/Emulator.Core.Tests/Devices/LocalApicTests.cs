using Emulator.Core.Devices.LocalApic;
using Emulator.Core.Memory;
using Emulator.Core.Timing;

namespace Emulator.Core.Tests.Devices;

[Trait("Category", "Unit")]
public sealed class LocalApicTests : IDisposable
{
    private const ulong Base = Xapic.DefaultBase;
    private readonly PhysicalBus _bus = new();
    private readonly Scheduler _scheduler = new();
    private readonly Xapic _apic;
    private long _now;

    public LocalApicTests()
    {
        _apic = new Xapic(_scheduler, () => _now, 1, 1);
        _bus.MapMmio("lapic", Base, Xapic.Size, _apic);
    }

    public void Dispose() => _bus.Dispose();

    [Fact]
    public void ResetValuesMatchQemu()
    {
        Assert.Equal(0x0005_0014u, Reg(0x30));
        Assert.Equal(0xFFu, Reg(0xF0));
        Assert.Equal(0xFFFF_FFFFu, Reg(0xE0));
        Assert.Equal(0x1_0000u, Reg(0x320));
        Assert.Equal(0x1_0000u, Reg(0x350));
        Assert.Equal(0u, Reg(0x20));
        SetReg(0x20, 0x0300_0000);
        Assert.Equal(0x0300_0000u, Reg(0x20));
    }

    [Fact]
    public void PeriodicTimerInterruptsAtTheProgrammedVirtualTimes()
    {
        SetReg(0xF0, 0x1FF);
        SetReg(0x3E0, 0x0B);
        SetReg(0x320, 0x2_0020);
        SetReg(0x380, 10_000_000);
        Assert.Equal(10_000_000L, _scheduler.NextDeadline);

        RunTo(5_000_000);
        Assert.Equal(5_000_000u, Reg(0x390));
        Assert.False(_apic.HasPendingInterrupt);

        for (int tick = 1; tick <= 3; tick++)
        {
            RunTo(tick * 10_000_000L);
            Assert.True(_apic.HasPendingInterrupt);
            Assert.Equal(0x20, _apic.Acknowledge());
            Assert.False(_apic.HasPendingInterrupt);
            Assert.Equal(1u, Reg(0x100 + 0x10) & 1);
            SetReg(0xB0, 0);
            Assert.Equal(0u, Reg(0x110));
            Assert.Equal((tick + 1) * 10_000_000L, _scheduler.NextDeadline);
        }
    }

    [Fact]
    public void DivideConfigurationScalesThePeriod()
    {
        SetReg(0xF0, 0x100);
        SetReg(0x3E0, 0x03);
        SetReg(0x320, 0x0030);
        SetReg(0x380, 1000);
        Assert.Equal(16_000L, _scheduler.NextDeadline);
        RunTo(16_000);
        Assert.Equal(0x30, _apic.Acknowledge());
        Assert.Equal(long.MaxValue, _scheduler.NextDeadline);
        Assert.Equal(0u, Reg(0x390));
    }

    [Fact]
    public void MaskedTimerCountsWithoutInterrupting()
    {
        SetReg(0xF0, 0x1FF);
        SetReg(0x3E0, 0x0B);
        SetReg(0x320, 0x3_0020);
        SetReg(0x380, 100);
        RunTo(250);
        Assert.False(_apic.HasPendingInterrupt);
        Assert.Equal(50u, Reg(0x390));
        Assert.Equal(300L, _scheduler.NextDeadline);
    }

    [Fact]
    public void TaskPriorityHoldsBackLowerClasses()
    {
        SetReg(0xF0, 0x1FF);
        SetReg(0x80, 0x40);
        _apic.Raise(0x35);
        Assert.False(_apic.HasPendingInterrupt);
        Assert.Equal(1u << 0x15, Reg(0x210));
        _apic.Raise(0x51);
        Assert.True(_apic.HasPendingInterrupt);
        Assert.Equal(0x51, _apic.Acknowledge());
        Assert.Equal(0x50u, Reg(0xA0));
        SetReg(0x80, 0x00);
        Assert.False(_apic.HasPendingInterrupt);
        SetReg(0xB0, 0);
        Assert.True(_apic.HasPendingInterrupt);
        Assert.Equal(0x35, _apic.Acknowledge());
    }

    [Fact]
    public void SoftwareDisabledApicDeliversNothingAndSelfIpiSetsIrr()
    {
        _apic.Raise(0x40);
        Assert.False(_apic.HasPendingInterrupt);
        SetReg(0xF0, 0x1FF);
        Assert.True(_apic.HasPendingInterrupt);
        Assert.Equal(0x40, _apic.Acknowledge());
        SetReg(0xB0, 0);
        SetReg(0x300, 0x0004_0041);
        Assert.Equal(0x41, _apic.Acknowledge());
        SetReg(0x300, 0x000C_4500);
        SetReg(0xB0, 0);
        Assert.False(_apic.HasPendingInterrupt);
        Assert.Equal(0xFF, _apic.Acknowledge());
    }

    /// <summary>
    /// SMI and NMI IPIs reach the CPU's inputs when they address this APIC (QEMU apic_deliver →
    /// apic_bus_deliver APIC_DM_SMI/NMI): by the self shorthand, by physical ID, by a logical
    /// destination matching LDR in the flat model; another CPU's ID delivers nothing.
    /// </summary>
    [Fact]
    public void SmiAndNmiIpisReachTheCpuInputsWhenTheyAddressThisApic()
    {
        int smis = 0, nmis = 0;
        _apic.SmiRaised = () => smis++;
        _apic.NmiRaised = () => nmis++;
        SetReg(0xF0, 0x1FF);

        SetReg(0x300, 0x0004_0200);   // SMI, self shorthand
        Assert.Equal(1, smis);
        SetReg(0x310, 0x0000_0000);
        SetReg(0x300, 0x0000_0200);   // SMI to physical ID 0: this APIC
        Assert.Equal(2, smis);
        SetReg(0x310, 0x0500_0000);
        SetReg(0x300, 0x0000_0200);   // SMI to APIC 5: nobody here
        Assert.Equal(2, smis);
        SetReg(0xD0, 0x0100_0000);    // LDR: logical ID bit 0
        SetReg(0x310, 0x0100_0000);
        SetReg(0x300, 0x0000_0A00);   // SMI, logical destination 0x01
        Assert.Equal(3, smis);
        SetReg(0x300, 0x0004_0400);   // NMI, self shorthand
        Assert.Equal(1, nmis);
        Assert.False(_apic.HasPendingInterrupt);
    }

    private void RunTo(long time)
    {
        _now = time;
        _scheduler.RunDue(time);
    }

    private uint Reg(ulong offset) => (uint)_bus.Read(Base + offset, 4);

    private void SetReg(ulong offset, uint value) => _bus.Write(Base + offset, 4, value);
}
