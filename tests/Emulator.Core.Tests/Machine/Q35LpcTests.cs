using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Devices.Q35;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Machine;

/// <summary>
/// The ICH9 LPC bridge (00:1f.0) and its ports as QEMU 7.2's lpc_ich9.c and acpi/ich9.c have
/// them: PMBASE (with its write-mask quirk) and ACPI_CNTL moving the PM block, SMI_EN and its
/// SMI_LOCK, the PIRQ and SCI routing onto the GSIs, RCBA, RST_CNT, the APM port raising SMIs
/// only with APMC_EN, and the CPU-hotplug block at 0x0CD8.
/// </summary>
[Trait("Category", "Unit")]
public sealed class Q35LpcTests
{
    [Fact]
    public void PmbaseTakesBits15To7AndQemusLowByteMaskAndAcpiCntlMovesTheBlock()
    {
        using var m = Q35Board.Machine();
        Assert.Equal(0x1u, Q35Board.Read(m, Q35Board.Lpc, 0x40));
        Q35Board.Write(m, Q35Board.Lpc, 0x40, 0xFFFF_FFFF);
        Assert.Equal(0x0000_FF87u, Q35Board.Read(m, Q35Board.Lpc, 0x40));

        Q35Board.Write(m, Q35Board.Lpc, 0x40, 0x601);
        Assert.Null(m.Ports.DeviceAt(0x608));                          // not decoded before ACPI_EN
        Q35Board.Write(m, Q35Board.Lpc, 0x44, 0x80, 1);
        Assert.Same(m.PmIo, m.Ports.DeviceAt(0x608));
        Assert.Same(m.PmIo.Gpe0, m.Ports.DeviceAt(0x620));
        Assert.Same(m.PmIo.Gpe0, m.Ports.DeviceAt(0x62F));
        Assert.Same(m.Smi, m.Ports.DeviceAt(0x630));
        Assert.Null(m.Ports.DeviceAt(0x660));                          // no TCO block
        Assert.Equal((ushort)0x600, m.PmBase);

        Q35Board.Write(m, Q35Board.Lpc, 0x40, 0x701);
        Assert.Null(m.Ports.DeviceAt(0x608));
        Assert.Same(m.PmIo, m.Ports.DeviceAt(0x708));
        Q35Board.Write(m, Q35Board.Lpc, 0x44, 0x00, 1);
        Assert.Null(m.Ports.DeviceAt(0x708));
    }

    [Fact]
    public void Gpe0IsSixteenBytesInsideThePmBlock()
    {
        using var m = Q35Board.Machine();
        Q35Board.EnablePmBlock(m);
        m.Ports.Write(0x628, 1, 0x05);                                  // GPE0_EN byte 0
        m.Ports.Write(0x62F, 1, 0x80);                                  // GPE0_EN byte 7
        Assert.Equal(0x05u, m.Ports.Read(0x628, 1));
        Assert.Equal(0x80u, m.Ports.Read(0x62F, 1));
        Assert.Equal(0u, m.Ports.Read(0x620, 4));
    }

    [Fact]
    public void SmiEnIsDwordOnlyAndSmiLockFreezesGblSmiEn()
    {
        using var m = Q35Board.Machine(smm: true);
        Q35Board.EnablePmBlock(m);
        Assert.Equal(0u, m.Ports.Read(0x630, 4));                       // SMM on: APMC_EN clear
        m.Ports.Write(0x630, 4, 0x21);
        Assert.Equal(0x21u, m.Ports.Read(0x630, 4));
        m.Ports.Write(0x630, 2, 0);                                     // refused: 4-byte accesses only
        Assert.Equal(0x21u, m.Ports.Read(0x630, 4));
        Assert.Equal(0u, m.Ports.Read(0x634, 4));                       // SMI_STS
        m.Ports.Write(0x630, 4, 0x20);
        Assert.Equal(0x20u, m.Ports.Read(0x630, 4));                    // bit 0 clears before the lock

        m.Ports.Write(0x630, 4, 0x21);
        Q35Board.Write(m, Q35Board.Lpc, 0xA0, 0x10, 2);                 // GEN_PMCON_1.SMI_LOCK
        m.Ports.Write(0x630, 4, 0x20);
        Assert.Equal(0x21u, m.Ports.Read(0x630, 4));
        Q35Board.Write(m, Q35Board.Lpc, 0xA0, 0x00, 2);
        Assert.Equal(0x10u, Q35Board.Read(m, Q35Board.Lpc, 0xA0, 2));   // SMI_LOCK sticks

        m.Reset();
        Q35Board.EnablePmBlock(m);
        Assert.Equal(0u, m.Ports.Read(0x630, 4));
        m.Ports.Write(0x630, 4, 0x21);
        m.Ports.Write(0x630, 4, 0x20);
        Assert.Equal(0x20u, m.Ports.Read(0x630, 4));                    // unlocked again after reset
    }

    [Fact]
    public void WithoutSmmApmcEnAndSciEnAreSetAtReset()
    {
        using var m = Q35Board.Machine(smm: false);
        Q35Board.EnablePmBlock(m);
        Assert.Equal(Ich9SmiControl.ApmcEnable, m.Ports.Read(0x630, 4));
        Assert.Equal(1u, m.Ports.Read(0x604, 2) & PmIoBlock.ControlSciEnable);
        using var smm = Q35Board.Machine(smm: true);
        Q35Board.EnablePmBlock(smm);
        Assert.Equal(0u, smm.Ports.Read(0x604, 2) & PmIoBlock.ControlSciEnable);
    }

    [Fact]
    public void ApmControlRaisesAnSmiOnlyWithApmcEnAndNotForAcpiEnableOrDisable()
    {
        using var m = Q35Board.Machine(smm: true);
        Q35Board.EnablePmBlock(m);
        m.Ports.Write(0xB2, 1, 0x00);
        Assert.False(m.Cpu.SmiPending);                                 // APMC_EN clear
        Assert.Equal(0u, m.Ports.Read(0xB2, 1));

        m.Ports.Write(0x630, 4, Ich9SmiControl.ApmcEnable);
        m.Ports.Write(0xB2, 1, ApmControl.Ich9AcpiEnable);
        Assert.False(m.Cpu.SmiPending);
        Assert.Equal(1u, m.Ports.Read(0x604, 2) & PmIoBlock.ControlSciEnable);
        m.Ports.Write(0xB2, 1, ApmControl.Ich9AcpiDisable);
        Assert.False(m.Cpu.SmiPending);
        Assert.Equal(0u, m.Ports.Read(0x604, 2) & PmIoBlock.ControlSciEnable);

        m.Ports.Write(0xB3, 1, 0x00);
        m.Ports.Write(0xB2, 1, 0x00);                                   // OVMF's SMM communicate
        Assert.True(m.Cpu.SmiPending);
        Assert.Equal(0u, m.Ports.Read(0xB2, 1));
    }

    [Fact]
    public void PirqsDriveTheirRoutedIrqAndAlwaysGsi16PlusN()
    {
        using var m = Q35Board.Machine();
        Assert.Equal(0x8080_8080u, Q35Board.Read(m, Q35Board.Lpc, 0x60));
        Assert.Equal(0x8080_8080u, Q35Board.Read(m, Q35Board.Lpc, 0x68));
        m.Lpc.SetPirq(1, true);                                         // PIRQB, routing disabled: APIC only
        Assert.True(m.Lpc.Gsi[17].Level);
        Assert.False(m.Lpc.Gsi[10].Level);
        m.Lpc.SetPirq(1, false);

        Q35Board.Write(m, Q35Board.Lpc, 0x60, 0x0B0B_0A0A);             // OVMF: A,B → 10; C,D → 11
        Q35Board.Write(m, Q35Board.Lpc, 0x68, 0x0B0B_0A0A);
        m.Lpc.SetPirq(4, true);                                         // PIRQE
        Assert.True(m.Lpc.Gsi[20].Level);
        Assert.True(m.Lpc.Gsi[10].Level);
        m.Lpc.SetPirq(0, true);
        m.Lpc.SetPirq(4, false);
        Assert.True(m.Lpc.Gsi[10].Level);                               // PIRQA still holds IRQ 10
        Assert.False(m.Lpc.Gsi[20].Level);
        m.Lpc.SetPirq(0, false);
        Assert.False(m.Lpc.Gsi[10].Level);
        Assert.Equal("gsi 10", m.Lpc.Gsi[10].Target);
        Assert.Equal("gsi 20", m.Lpc.Gsi[20].Target);
    }

    [Fact]
    public void TheSciFollowsAcpiCntlsSelection()
    {
        using var m = Q35Board.Machine(smm: false);                     // SCI_EN set at reset
        Q35Board.EnablePmBlock(m);
        m.Ports.Write(0x602, 2, PmIoBlock.EnableTimer);
        m.Ports.Write(0x600, 2, PmIoBlock.StatusTimer);
        m.Lpc.SetSci(true);
        Assert.Equal(9, m.Lpc.SciGsi);
        Assert.True(m.Lpc.Gsi[9].Level);
        Q35Board.Write(m, Q35Board.Lpc, 0x44, 0x84, 1);                 // SCI on GSI 20
        Assert.False(m.Lpc.Gsi[9].Level);
        Assert.True(m.Lpc.Gsi[20].Level);
        m.Lpc.SetSci(false);
        Assert.False(m.Lpc.Gsi[20].Level);
    }

    [Fact]
    public void RcbaMapsTheChipsetConfigurationRegisters()
    {
        using var m = Q35Board.Machine();
        const ulong rcba = 0xFED1_C000;
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(rcba + Ich9ChipsetConfig.D31IrOffset, 4));
        Q35Board.Write(m, Q35Board.Lpc, 0xF0, (uint)rcba | 1);
        Assert.Equal(0x3210UL, m.Bus.Read(rcba + Ich9ChipsetConfig.D31IrOffset, 2));
        Assert.Equal(0UL, m.Bus.Read(rcba + Ich9ChipsetConfig.D30IrOffset, 2));
        Assert.Equal(0x3210UL, m.Bus.Read(rcba + Ich9ChipsetConfig.D29IrOffset, 2));
        Assert.Equal(0x20UL, m.Bus.Read(rcba + Ich9ChipsetConfig.GcsOffset, 4));
        m.Bus.Write(rcba + Ich9ChipsetConfig.D31IrOffset, 2, 0x0123);   // INTA → PIRQD
        Assert.Equal(3, m.Lpc.ChipsetConfig.PirqFor(31, 0));
        Assert.Equal(0x0123UL, m.Bus.Read(rcba + Ich9ChipsetConfig.D31IrOffset, 2));
        m.Bus.Write(rcba + 0x3FFE, 4, 0xAABB_CCDD);                     // cut at the end
        Assert.Equal(0xCCDDUL, m.Bus.Read(rcba + 0x3FFE, 2));
        Q35Board.Write(m, Q35Board.Lpc, 0xF0, (uint)rcba);
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(rcba + Ich9ChipsetConfig.D31IrOffset, 4));
    }

    [Fact]
    public void ResetControlKeepsBits3And1AndResetsOnBit2()
    {
        using var m = Q35Board.Machine();
        m.Ports.Write(0xCF9, 1, 0x0A);
        Assert.Equal(0x0Au, m.Ports.Read(0xCF9, 1));
        m.Ports.Write(0xCF9, 1, 0xF1);
        Assert.Equal(0x00u, m.Ports.Read(0xCF9, 1));
        m.Ports.Write(0xCF8, 4, 0x8000_F840);                           // the dword address register still works
        Assert.Equal(0x8000_F840u, m.Ports.Read(0xCF8, 4));
        m.Ports.Write(0xCF9, 1, 0x06);
        m.Run(m.Cpu.InstructionCount + 1);
        var reset = Assert.Single(m.Resets);
        Assert.Equal(ResetCause.ResetControl, reset.Cause);
        Assert.Equal("ich9-reset-control", m.ResetControl.Name);
    }

    [Fact]
    public void TheCpuHotplugBlockSitsAt0x0Cd8()
    {
        using var m = Q35Board.Machine();
        Assert.Equal(0x01u, m.Ports.Read(0x0CD8, 1));                   // legacy bitmap: CPU 0
        Assert.Same(m.CpuHotplug, m.Ports.DeviceAt(0x0CD8));
        Assert.Null(m.Ports.DeviceAt(0xAF00));
        m.Ports.Write(0x0CD8, 4, 0);                                    // switch to the modern interface
        Assert.Equal((uint)CpuHotplugBlock.FlagEnabled, m.Ports.Read(0x0CD8 + CpuHotplugBlock.FlagsOffset, 1));
    }
}
