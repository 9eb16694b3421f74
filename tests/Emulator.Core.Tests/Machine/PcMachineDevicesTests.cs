using System.Reflection;
using System.Text.Json;
using Emulator.Core.Devices;
using Emulator.Core.Devices.CfiFlash;
using Emulator.Core.Devices.Hpet;
using Emulator.Core.Devices.IoApic;
using Emulator.Core.Devices.LocalApic;
using Emulator.Core.Devices.Pci;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Machine;

/// <summary>
/// The device contract on the whole pc machine: the device list (names, order), every state
/// through System.Text.Json and back, save → mutate → restore giving back the same states with
/// mappings and deadlines re-applied, the reset walk (power-on values except what QEMU keeps),
/// and output lines all connected or explicitly left unconnected.
/// </summary>
[Trait("Category", "Unit")]
public sealed class PcMachineDevicesTests
{
    private const ulong HpetBase = Hpet.DefaultBase;
    private const ulong ApicBase = Xapic.DefaultBase;
    private const ushort BusMasterBase = 0xC000;

    /// <summary>What a machine reset leaves as it was (QEMU keeps the same): see each device's Reset.</summary>
    private static readonly string[] KeptAcrossReset = ["pci-host", "apm", "cmos-rtc", "port92", "post-code", "acpi-cpu-hotplug"];

    private static PcMachine Machine(bool debugConsole = false) => new(new MachineOptions
    {
        RamSize = 16UL << 20,
        Flash = [new("code", new byte[0x10000], true), new("vars", Enumerable.Repeat((byte)0xFF, 0x20000).ToArray(), false)],
        DebugConsoleOutput = debugConsole ? _ => { } : null,
        SerialPorts = [new IsaSerialPort(0), new IsaSerialPort(1)],
    });

    [Fact]
    public void DevicesAreListedInWiringOrderWithUniqueNames()
    {
        using var m = Machine(debugConsole: true);
        string[] expected =
        [
            "pflash0", "pflash1", "pci-host", "i440fx", "piix3-isa", "piix4-pm", "piix4-pm-io", "apm", "pic", "cmos-rtc",
            "local-apic", "ioapic", "hpet", "piix3-ide", "com1", "com2", "port92", "post-code", "acpi-cpu-hotplug",
            "fw_cfg", "acpi-build", "piix3-reset-control", "i8042", "debugcon",
        ];
        Assert.Equal(expected, m.Devices.Select(d => d.Name));
        Assert.Equal(m.Devices.Count, m.Devices.Select(d => d.Name).Distinct().Count());
        Assert.Same(m.Pic, m.Device("pic"));
    }

    [Fact]
    public void EveryDeviceStateSurvivesSystemTextJsonByItsRuntimeType()
    {
        using var m = Machine(debugConsole: true);
        Exercise(m);
        foreach (var device in m.Devices)
        {
            var state = device.SaveState();
            string json = JsonSerializer.Serialize(state, state.GetType());
            var back = (DeviceState)JsonSerializer.Deserialize(json, state.GetType())!;
            Assert.Equal(json, JsonSerializer.Serialize(back, back.GetType()));
            device.RestoreState(back);
            Assert.Equal(json, Json(device.SaveState()));
        }
    }

    [Fact]
    public void SaveMutateRestoreGivesBackEveryStateMappingAndDeadline()
    {
        using var m = Machine();
        Exercise(m);
        var saved = m.SaveDeviceStates().Select(s => (s.Name, Reload(s.State))).ToList();
        long deadline = m.Scheduler.NextDeadline;
        Assert.NotEqual(long.MaxValue, deadline);

        m.Reset();
        m.Ports.Write(0x21, 1, 0x00);
        m.Ports.Write(0x3FF, 1, 0x11);
        Assert.Null(m.Ports.DeviceAt(0xB008));
        Assert.Null(m.Ports.DeviceAt(BusMasterBase));

        m.RestoreDeviceStates(saved);

        Assert.Equal(saved.Select(s => Json(s.Item2)), m.SaveDeviceStates().Select(s => Json(s.State)));
        Assert.Same(m.PmIo, m.Ports.DeviceAt(0xB008));                      // PMBA re-applied
        Assert.Same(m.Ide.BusMaster[0], m.Ports.DeviceAt(BusMasterBase));  // BAR4 re-applied
        Assert.False(m.Bus.Find(m.FlashPlacements[1].Base).ReadsDirect);   // flash still in read-status mode
        Assert.Equal(0x80UL, m.Bus.Read(m.FlashPlacements[1].Base, 1));
        Assert.Equal(deadline, m.Scheduler.NextDeadline);                   // timers re-armed
        Assert.True(m.SerialPorts[0].Irq.Level);
    }

    [Fact]
    public void RestoreRefusesAnotherDevicesRecordAndAnIncompleteSet()
    {
        using var m = Machine();
        var states = m.SaveDeviceStates();
        var pic = m.Device("pic")!;
        Assert.Throws<ArgumentException>(() => pic.RestoreState(m.Device("hpet")!.SaveState()));
        Assert.Throws<ArgumentException>(() => m.RestoreDeviceStates([.. states.Where(s => s.Name != "hpet")]));
        Assert.Throws<ArgumentException>(() => m.RestoreDeviceStates([.. states, ("floppy", new NoDeviceState())]));
    }

    [Fact]
    public void ResetWalksEveryDeviceBackToPowerOnExceptWhatIsKept()
    {
        using var fresh = Machine();
        using var m = Machine();
        Exercise(m);
        var before = m.SaveDeviceStates().ToDictionary(s => s.Name, s => Json(s.State));
        var powerOn = fresh.SaveDeviceStates().ToDictionary(s => s.Name, s => Json(s.State));
        Assert.All(KeptAcrossReset, name => Assert.NotEqual(powerOn[name], before[name]));

        m.Reset();

        foreach (var (name, state) in m.SaveDeviceStates())
        {
            Assert.Equal(KeptAcrossReset.Contains(name) ? before[name] : powerOn[name], Json(state));
        }

        Assert.Equal(long.MaxValue, m.Scheduler.NextDeadline);
    }

    [Fact]
    public void EveryOutputLineIsConnectedOrExplicitlyLeftUnconnected()
    {
        using var m = Machine();
        var lines = m.Devices.SelectMany(d => LinesOf(d, 2)).ToList();
        Assert.All(lines, line => Assert.NotNull(line.Target));
        var unconnected = lines.Where(l => l.Target!.StartsWith("unconnected: ", StringComparison.Ordinal)).Select(l => l.Name).ToList();
        Assert.Equal(
            ["piix4-pm.sci", "pic.intr", .. Enumerable.Range(24, 8).Select(i => $"hpet.irq{i}"), "port92.a20"],
            unconnected);
        Assert.Equal("gsi 4", m.SerialPorts[0].Irq.Target);
        Assert.Equal("gsi 3", m.SerialPorts[1].Irq.Target);
        Assert.Equal("ide-primary-bm", m.Ide.Channels[0].Irq.Target);
        Assert.Equal("gsi 15", m.Ide.BusMaster[1].Irq.Target);
    }

    /// <summary>Puts state into every device the way a guest would: ports, configuration space, MMIO, flash commands.</summary>
    private static void Exercise(PcMachine m)
    {
        WriteConfig(m, (1 << 3) | 3, Piix4PowerManagement.PmBaseOffset, 0xB001);
        WriteConfig(m, (1 << 3) | 3, Piix4PowerManagement.PmRegMiscOffset, 1);
        WriteConfig(m, 0, 0x58, 0x1100_0000);                      // PAM0
        WriteConfig(m, (1 << 3) | 1, Piix3Ide.BusMasterBarOffset, BusMasterBase | 1u);
        WriteConfig(m, (1 << 3) | 1, PciFunction.CommandOffset, PciFunction.CommandIoSpace);
        WriteConfig(m, 1 << 3, 0x60, 0x0B0B0A0A);                  // PIRQ routing
        m.Ports.Write(0xB002, 2, 1);                               // PM1 enable: timer
        m.Ports.Write(0xAFE2, 1, 0x03);                            // GPE0 enable
        m.Ports.Write(0xB3, 1, 0x5A);                              // APM status
        foreach (var (port, value) in new (ushort, uint)[] { (0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0x21, 0xFB), (0x4D1, 0x0C) })
        {
            m.Ports.Write(port, 1, value);
        }

        m.Ports.Write(0x70, 1, 0x40);
        m.Ports.Write(0x71, 1, 0x77);                              // a CMOS byte
        m.Bus.Write(ApicBase + Xapic.SpuriousVectorRegister, 4, 0x1FF);
        m.Bus.Write(ApicBase + Xapic.LvtTimerRegister, 4, 0x2_0030);
        m.Bus.Write(ApicBase + Xapic.InitialCountRegister, 4, 1000);
        m.Bus.Write(IoApic.DefaultBase, 4, 0x10 + (2 * 9));
        m.Bus.Write(IoApic.DefaultBase + 0x10, 4, 0x8039);          // pin 9: level, vector 0x39, unmasked
        m.Bus.Write(HpetBase + 0x108, 4, 5000);
        m.Bus.Write(HpetBase + 0x100, 4, 0x4);
        m.Bus.Write(HpetBase + 0x010, 4, 1);
        m.Ports.Write(BusMasterBase + 4, 4, 0x0012_3450);
        m.Ports.Write(0x1F6, 1, 0xE0);
        m.Ports.Write(0x1F2, 1, 0x07);
        m.Ports.Write(0x1F7, 1, 0x90);                             // device 0 interrupts
        m.Ports.Write(0x3FF, 1, 0x55);
        m.Ports.Write(0x3F9, 1, 0x02);                             // THR-empty interrupt: IRQ 4 high
        m.Ports.Write(0x92, 1, 0x02);
        m.Ports.Write(0x80, 1, 0x42);
        m.Ports.Write(0xAF00, 1, 0);                               // CPU hotplug: modern mode
        m.Ports.Write(0x510, 2, FwCfgKeyId);
        m.Ports.Read(0x511, 1);
        m.Ports.Write(0x64, 1, 0xAA);                              // i8042 self-test: 0x55 queued
        m.Ports.Write(0xCF9, 1, 0x02);
        m.Bus.Write(m.FlashPlacements[1].Base, 1, FlashCommand.ReadStatus);
    }

    private const ushort FwCfgKeyId = 0x01;

    internal static string Json(DeviceState state) => JsonSerializer.Serialize(state, state.GetType());

    internal static DeviceState Reload(DeviceState state) => (DeviceState)JsonSerializer.Deserialize(Json(state), state.GetType())!;

    /// <summary>The output lines a device exposes, and those of the parts it exposes as properties (arrays included), to <paramref name="depth"/>.</summary>
    internal static IEnumerable<OutputLine> LinesOf(object owner, int depth)
    {
        foreach (var property in owner.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var type = property.PropertyType;
            if (property.GetIndexParameters().Length > 0
                || !(type == typeof(OutputLine) || typeof(IEnumerable<OutputLine>).IsAssignableFrom(type) || typeof(IEnumerable<IDevice>).IsAssignableFrom(type)))
            {
                continue;
            }

            object? value = property.GetValue(owner);
            if (value is OutputLine line)
            {
                yield return line;
            }
            else if (value is IEnumerable<OutputLine> many)
            {
                foreach (var l in many)
                {
                    yield return l;
                }
            }
            else if (depth > 0 && value is IEnumerable<IDevice> parts)
            {
                foreach (var l in parts.SelectMany(p => LinesOf(p, depth - 1)))
                {
                    yield return l;
                }
            }
        }
    }

    private static void WriteConfig(PcMachine m, int devfn, int register, uint value)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)(devfn << 8) | (uint)register);
        m.Ports.Write(0xCFC, 4, value);
    }
}
