using Emulator.Core.Devices.Q35;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Machine;

/// <summary>
/// The device contract on the q35 machine (as <see cref="PcMachineDevicesTests"/> checks it on
/// pc): the device list, save → mutate → restore with the mappings re-applied, the reset walk,
/// every output line decided; and the AHCI function's HBA as QEMU's empty ich9-ahci answers.
/// </summary>
[Trait("Category", "Unit")]
public sealed unsafe class Q35MachineDevicesTests
{
    private const uint Abar = 0xC000_0000;
    private const ulong Rcba = 0xFED1_C000;

    private static readonly string[] KeptAcrossReset = ["pci-host", "apm", "cmos-rtc", "port92", "post-code", "acpi-cpu-hotplug"];

    [Fact]
    public void DevicesAreListedInWiringOrder()
    {
        using var m = Q35Board.Machine();
        string[] expected =
        [
            "pflash0", "pflash1", "pci-host", "mch", "ich9-lpc", "ich9-pm-io", "ich9-smi", "apm", "pic", "cmos-rtc",
            "local-apic", "ioapic", "hpet", "ich9-ahci", "ich9-smbus", "com1", "com2", "port92", "post-code", "acpi-cpu-hotplug",
            "fw_cfg", "ich9-smi-features", "acpi-build", "ich9-reset-control", "i8042",
        ];
        Assert.Equal(expected, m.Devices.Select(d => d.Name));
    }

    [Fact]
    public void SaveMutateRestoreGivesBackEveryStateAndMapping()
    {
        using var m = Q35Board.Machine();
        Exercise(m);
        var saved = m.SaveDeviceStates().Select(s => (s.Name, PcMachineDevicesTests.Reload(s.State))).ToList();

        m.Reset();
        Assert.Null(m.Ports.DeviceAt(0x608));
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(0xB000_0000, 4));

        m.RestoreDeviceStates(saved);

        Assert.Equal(saved.Select(s => PcMachineDevicesTests.Json(s.Item2)), m.SaveDeviceStates().Select(s => PcMachineDevicesTests.Json(s.State)));
        Assert.Same(m.PmIo, m.Ports.DeviceAt(0x608));                   // PMBASE re-applied
        Assert.Same(m.Smi, m.Ports.DeviceAt(0x630));
        Assert.Equal(0x29C0_8086UL, m.Bus.Read(0xB000_0000, 4));        // ECAM re-applied
        Assert.Equal(0x3210UL, m.Bus.Read(Rcba + Ich9ChipsetConfig.D31IrOffset, 2));
        Assert.Equal(AhciHba.Capabilities, m.Bus.Read(Abar, 4));        // ABAR re-applied
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(m.LowRamSize - (1UL << 20), 4));  // TSEG closed again
        Assert.Equal(0x21u, m.Ports.Read(0x630, 4));
        m.Ports.Write(0x630, 4, 0x20);
        Assert.Equal(0x21u, m.Ports.Read(0x630, 4));                    // SMI_LOCK re-applied
    }

    [Fact]
    public void ResetWalksEveryDeviceBackToPowerOnExceptWhatIsKept()
    {
        using var fresh = Q35Board.Machine();
        using var m = Q35Board.Machine();
        Exercise(m);
        var before = m.SaveDeviceStates().ToDictionary(s => s.Name, s => PcMachineDevicesTests.Json(s.State));
        var powerOn = fresh.SaveDeviceStates().ToDictionary(s => s.Name, s => PcMachineDevicesTests.Json(s.State));
        m.Reset();
        foreach (var (name, state) in m.SaveDeviceStates())
        {
            Assert.Equal(KeptAcrossReset.Contains(name) ? before[name] : powerOn[name], PcMachineDevicesTests.Json(state));
        }

        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(0xB000_0000, 4));
        Assert.Equal(0x5A5A_5A5AUL, m.Bus.Read(m.LowRamSize - (1UL << 20), 4));  // TSEG open
    }

    [Fact]
    public void EveryOutputLineIsConnectedOrExplicitlyLeftUnconnected()
    {
        using var m = Q35Board.Machine();
        var lines = m.Devices.SelectMany(d => PcMachineDevicesTests.LinesOf(d, 2)).ToList();
        Assert.All(lines, line => Assert.NotNull(line.Target));
        var unconnected = lines.Where(l => l.Target!.StartsWith("unconnected: ", StringComparison.Ordinal)).Select(l => l.Name).ToList();
        Assert.Equal(["pic.intr", .. Enumerable.Range(24, 8).Select(i => $"hpet.irq{i}"), "port92.a20"], unconnected);
        Assert.Equal("ich9-lpc sci (GSI per ACPI_CNTL)", m.PmIo.Sci.Target);
        Assert.Equal("gsi 9", m.Lpc.Gsi[9].Target);
        Assert.Equal("ich9-lpc PIRQ by D31IR", m.Ahci.Irq.Target);
    }

    [Fact]
    public void TheAhciHbaHasSixEmptyPortsAndReceivesTheInitialFis()
    {
        using var m = Q35Board.Machine();
        Assert.Equal(0x0000_0001u, Q35Board.Read(m, Q35Board.Ahci, 0x20));    // BAR4: I/O
        Q35Board.Write(m, Q35Board.Ahci, 0x24, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_F000u, Q35Board.Read(m, Q35Board.Ahci, 0x24));     // 4 KiB
        Assert.Equal(0x80u, Q35Board.Read(m, Q35Board.Ahci, 0x34, 1));
        Assert.Equal(0x0080_A805u, Q35Board.Read(m, Q35Board.Ahci, 0x80));     // MSI, next 0xA8, 64-bit
        Assert.Equal(0x0010_0012u, Q35Board.Read(m, Q35Board.Ahci, 0xA8));     // SATA capability, revision 1.0
        Assert.Equal(0x48u, Q35Board.Read(m, Q35Board.Ahci, 0xAC));

        MapAbar(m);
        Assert.Equal(0xC014_1F05UL, m.Bus.Read(Abar, 4));
        Assert.Equal(0x8000_0000UL, m.Bus.Read(Abar + 0x04, 4));       // GHC: AE
        Assert.Equal(0x3FUL, m.Bus.Read(Abar + 0x0C, 4));              // PI
        Assert.Equal(0x0001_0000UL, m.Bus.Read(Abar + 0x10, 4));       // VS
        Assert.Equal(0x06UL, m.Bus.Read(Abar + 0x118, 4));             // P0CMD: SUD | POD
        Assert.Equal(0x7FUL, m.Bus.Read(Abar + 0x120, 4));             // P0TFD
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(Abar + 0x124, 4));      // P0SIG
        Assert.Equal(0UL, m.Bus.Read(Abar + 0x128, 4));                // P0SSTS: no device
        Assert.Equal(0UL, m.Bus.Read(Abar + 0x400, 4));                // past port 5

        m.Bus.Write(Abar + 0x108, 4, 0x10_0000);                       // P0FB
        m.Bus.Write(Abar + 0x118, 4, 0x16);                            // FRE
        Assert.Equal(0x4016UL, m.Bus.Read(Abar + 0x118, 4));           // FR follows
        Assert.Equal(0x50UL, m.Bus.Read(Abar + 0x120, 4));
        Assert.Equal(1UL, m.Bus.Read(Abar + 0x110, 4));                // P0IS.DHRS
        Assert.Equal(0x34, *m.RamHost(0x10_0040));                     // the D2H FIS
        Assert.Equal(0x50, *m.RamHost(0x10_0042));
        Assert.Equal(0UL, m.Bus.Read(Abar + 0x08, 4));                 // IS: P0IE is 0

        m.Bus.Write(Abar + 0x114, 4, 1);                               // P0IE.DHRE
        m.Bus.Write(Abar + 0x04, 4, 2);                                // GHC.IE
        Assert.Equal(1UL, m.Bus.Read(Abar + 0x08, 4));
        Assert.True(m.Ahci.Irq.Level);
        m.Bus.Write(Abar + 0x04, 4, 1);                                // GHC.HR
        Assert.Equal(0x8000_0000UL, m.Bus.Read(Abar + 0x04, 4));
        Assert.False(m.Ahci.Irq.Level);
        Assert.Equal(0x10_0000UL, m.Bus.Read(Abar + 0x108, 4));        // the FIS base survives HR

        Q35Board.Write(m, Q35Board.Ahci, 0x20, 0xC041);                 // BAR4 index/data
        Q35Board.Write(m, Q35Board.Ahci, 0x04, 0x7, 2);
        m.Ports.Write(0xC050, 4, 0x0C);
        Assert.Equal(0x3Fu, m.Ports.Read(0xC054, 4));
    }

    private static void MapAbar(PcMachine m)
    {
        Q35Board.Write(m, Q35Board.Ahci, 0x24, Abar);
        Q35Board.Write(m, Q35Board.Ahci, 0x04, 0x6, 2);                 // memory space, bus master
    }

    /// <summary>Puts state into the chipset the way OVMF does (and a little more).</summary>
    private static void Exercise(PcMachine m)
    {
        *(uint*)m.RamHost(m.LowRamSize - (1UL << 20)) = 0x5A5A_5A5A;
        Q35Board.EnablePmBlock(m);
        Q35Board.Write(m, 0, 0x60, 0xB000_0001);
        Q35Board.Write(m, 0, 0x91, 0x33, 1);
        Q35Board.Write(m, 0, 0x9E, 0x01, 1);
        Q35Board.Write(m, 0, 0x9D, 0x08, 1);
        Q35Board.Write(m, Q35Board.Lpc, 0xF0, (uint)Rcba | 1);
        Q35Board.Write(m, Q35Board.Lpc, 0x60, 0x0B0B_0A0A);
        m.Ports.Write(0x630, 4, 0x21);
        Q35Board.Write(m, Q35Board.Lpc, 0xA0, 0x10, 2);
        m.Ports.Write(0x628, 1, 0x01);
        MapAbar(m);
        m.Bus.Write(Abar + 0x108, 4, 0x10_0000);
        m.Bus.Write(Abar + 0x118, 4, 0x10);
        m.Ports.Write(0xB3, 1, 0x5A);
        m.Ports.Write(0x80, 1, 0x42);
        m.Ports.Write(0x92, 1, 0x02);
        m.Ports.Write(0x70, 1, 0x40);
        m.Ports.Write(0x71, 1, 0x77);
        m.Ports.Write(0x0CD8, 1, 0);
        m.Ports.Write(0xCF9, 1, 0x02);
    }
}
