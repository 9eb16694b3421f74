using Emulator.Core.Cpu;
using Emulator.Core.Devices;
using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Devices.CmosRtc;
using Emulator.Core.Devices.Hpet;
using Emulator.Core.Devices.IoApic;
using Emulator.Core.Platform;
using Emulator.Core.Devices.LocalApic;
using Emulator.Core.Devices.Misc;
using Emulator.Core.Devices.Pci;
using Emulator.Core.Devices.Pic8259;
using Emulator.Core.Devices.Ps2;
using Emulator.Core.Devices.Uart16550;
using Emulator.Core.Timing;

namespace Emulator.Core.Machine;

/// <summary>
/// Platform device wiring shared by QEMU's "pc" and "q35" machines (docs/ovmf-platform.md,
/// docs/q35.md): PCI configuration mechanism #1 with the chipset's functions
/// (<see cref="WireI440fxBridges"/> or <see cref="WireQ35Bridges"/>, which also create the ACPI
/// PM block whose timer the busy-wait skipper watches), the two 8259 PICs and ELCR, CMOS/RTC with
/// QEMU's memory-size bytes, the ISA serial ports (COM1 by default, up to COM4), the local APIC
/// and its timer, the I/O APIC at 0xFEC00000 and the HPET at 0xFED00000 (both on the GSI lines,
/// <see cref="GsiLines"/>), the chipset's PCI functions behind them (PIIX3 IDE,
/// <see cref="WireIde"/>; ICH9 AHCI and SMBus, <see cref="WireQ35Functions"/>), port 0x92, POST
/// port 0x80, the debug console 0x402, QEMU's CPU-hotplug block (0xAF00 on pc, 0x0CD8 on q35),
/// fw_cfg at 0x510 (<see cref="WireFwCfg"/>), the i8042 keyboard controller and the reset control
/// register 0xCF9 (<see cref="WireResetSources"/>). VGA is left out: OVMF boots without it. The
/// PIT is absent, which OVMF tolerates.
///
/// Every device goes into <see cref="Devices"/> as it is wired, and its output lines are
/// connected here or declared unconnected with the reason (docs/architecture.md "Devices").
///
/// Virtual time: one instruction tick is one nanosecond (a 1 GHz CPU retiring one instruction
/// per cycle), so device clocks are derived from executed instructions and runs reproduce.
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>The wall date the RTC shows at virtual time 0 unless the options say otherwise.</summary>
    public static readonly DateTime DefaultRtcStart = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly List<IDevice> _devices = [];

    /// <summary>
    /// The machine's devices in wiring order (flash chips first), names unique: what a machine
    /// reset walks and a snapshot saves by name. Parts a device owns (the 8259 chips of the pair,
    /// GPE0 of the PM block, the IDE channels of the PIIX3 IDE function, fw_cfg's DMA register)
    /// are inside their owner's state, and port windows onto another device's registers (ELCR,
    /// the i8042 command port, the IDE control blocks) hold no state of their own.
    /// </summary>
    public IReadOnlyList<IDevice> Devices => _devices;

    /// <summary>The device named <paramref name="name"/>, or null.</summary>
    public IDevice? Device(string name) => _devices.Find(d => d.Name == name);

    private T AddDevice<T>(T device)
        where T : IDevice
    {
        if (Device(device.Name) is { } existing)
        {
            throw new InvalidOperationException($"two devices named {device.Name} ({existing.GetType().Name} and {device.GetType().Name})");
        }

        _devices.Add(device);
        return device;
    }

    public PciHost Pci { get; private set; } = null!;

    /// <summary>The ACPI PM registers (PM1, timer, GPE0): PIIX4's on pc, ICH9's on q35.</summary>
    public PmIoBlock PmIo { get; private set; } = null!;

    /// <summary>Skips virtual time inside PM-timer polling loops (the firmware's every delay).</summary>
    public BusyWaitSkipper WaitSkipper { get; private set; } = null!;

    public DualPic Pic { get; private set; } = null!;

    public Mc146818 Cmos { get; private set; } = null!;

    /// <summary>The ISA UARTs in the order the options list them (<see cref="MachineOptions.SerialPorts"/>).</summary>
    public IReadOnlyList<Uart> SerialPorts { get; private set; } = [];

    public Xapic LocalApic { get; private set; } = null!;

    /// <summary>The I/O APIC (ID 0, 24 pins), its messages going to <see cref="LocalApic"/>.</summary>
    public IoApic IoApic { get; private set; } = null!;

    /// <summary>The interrupt lines ISA devices and the HPET drive: 8259 pair and I/O APIC together.</summary>
    public GsiLines Gsi { get; private set; } = null!;

    /// <summary>The HPET; null when the options leave it out (QEMU's <c>-no-hpet</c>).</summary>
    public Hpet? Hpet { get; private set; }

    /// <summary>
    /// What fw_cfg item 0x8004 (FW_CFG_HPET) describes: the HPET's event-timer block ID and
    /// address; none without an HPET (QEMU 7.2 then serves its hpet_cfg untouched: count 0xFF).
    /// </summary>
    public IReadOnlyList<HpetBlock> HpetBlocks => Hpet != null ? [new(Hpet.EventTimerBlockId, Hpet.DefaultBase)] : [];

    public Port92 Port92 { get; private set; } = null!;

    public PostCode PostCode { get; private set; } = null!;

    /// <summary>The PIIX3 reset control register, reached through byte accesses to 0xCF9.</summary>
    public ResetControlRegister ResetControl { get; private set; } = null!;

    /// <summary>The i8042 keyboard controller at 0x60/0x64.</summary>
    public I8042 Keyboard { get; private set; } = null!;

    /// <summary>QEMU's PIIX4 CPU-hotplug block at 0xAF00 (legacy until the firmware switches it to modern).</summary>
    public CpuHotplugBlock CpuHotplug { get; private set; } = null!;

    private void WireDevices(MachineOptions options)
    {
        Func<long> now = () => Cpu.VirtualTime;

        Pci = AddDevice(new PciHost());
        if (options.Chipset == PcChipset.Q35)
        {
            WireQ35Bridges(options, now);
        }
        else
        {
            WireI440fxBridges(now);
        }

        Ports.Register(PciHost.BasePort, PciHost.PortCount, Pci);
        WaitSkipper = new BusyWaitSkipper(() => Cpu.InstructionCount, now, Scheduler, Cpu.SkipWait) { Enabled = options.SkipBusyWaits, PortAccesses = () => Ports.AccessCount };
        PmIo.WaitSkipper = WaitSkipper;
        PmIo.SleepRequested += SleepRequested;

        Pic = AddDevice(new DualPic());
        Pic.Intr.LeaveUnconnected("the CPU takes 8259 vectors through the I/O APIC's ExtINT entries; LINT0 virtual-wire delivery is not modelled");
        Ports.Register(DualPic.MasterBasePort, Core.Devices.Pic8259.Pic.PortCount, Pic.Master);
        Ports.Register(DualPic.SlaveBasePort, Core.Devices.Pic8259.Pic.PortCount, Pic.Slave);
        Ports.Register(EdgeLevelControl.BasePort, EdgeLevelControl.PortCount, new EdgeLevelControl(Pic));

        Cmos = AddDevice(new Mc146818(now, options.RtcStart ?? DefaultRtcStart));
        Cmos.SetMemorySize(LowRamSize, HighRamSize);
        SetBoardCmosBytes();
        Ports.Register(Mc146818.BasePort, Mc146818.PortCount, Cmos);

        // QEMU's APIC timer runs at 1 GHz: one APIC tick per virtual nanosecond.
        LocalApic = AddDevice(new Xapic(Scheduler, now, 1, 1));
        Bus.MapMmio("lapic", Xapic.DefaultBase, Xapic.Size, new InterruptControllerWindow(LocalApic, Cpu));
        Cpu.InterruptController = LocalApic;
        WireIoApicAndHpet(now, options.Hpet);
        if (options.Chipset == PcChipset.Q35)
        {
            WireQ35Functions();
        }
        else
        {
            WireIde();
        }

        SerialPorts = WireSerialPorts(options.SerialPorts);

        Port92 = AddDevice(new Port92());
        Port92.A20.LeaveUnconnected("the CPU model keeps A20 enabled");
        Ports.Register(Port92.Port, Port92.PortCount, Port92);
        WireFpuError();
        PostCode = AddDevice(new PostCode());
        Ports.Register(PostCode.Port, PostCode.PortCount, PostCode);
        CpuHotplug = AddDevice(new CpuHotplugBlock());
        Ports.Register(options.Chipset == PcChipset.Q35 ? Ich9CpuHotplugBase : CpuHotplugBlock.BasePort, CpuHotplugBlock.PortCount, CpuHotplug);
        WireFwCfg();
        WireResetSources();
        if (options.DebugConsoleOutput is { } debug)
        {
            Ports.Register(options.DebugConsolePort, DebugCon.PortCount, AddDevice(new DebugCon(debug)));
        }

        if (options.DebugExit is { } exit)
        {
            WireDebugExit(exit);
        }

        WireVirtioDrives(options);
    }

    /// <summary>QEMU lets a user-placed device overlap others; here its ports must be free, or the machine is refused.</summary>
    private void WireDebugExit(DebugExitPorts exit)
    {
        if (exit.Count < 1 || exit.Base + exit.Count > 0x10000)
        {
            throw new MachineConfigurationException($"isa-debug-exit: ports 0x{exit.Base:X}+{exit.Count} are not within the I/O space 0x0-0xFFFF");
        }

        if (Ports.FirstTaken(exit.Base, exit.Count) is { } taken)
        {
            throw new MachineConfigurationException($"isa-debug-exit: port 0x{taken.Port:X} is already used by {taken.Device.Name}");
        }

        Ports.Register(exit.Base, exit.Count, AddDevice(new IsaDebugExit(GuestExited)));
    }

    /// <summary>The status the guest chose through isa-debug-exit, once it wrote there; null otherwise.</summary>
    public int? GuestExitStatus { get; private set; }

    private void GuestExited(int status, uint value)
    {
        // The first write decides, as QEMU's exit() would: the run stops at this instruction's end.
        if (GuestExitStatus == null)
        {
            GuestExitStatus = status;
            Cpu.RequestStop(StopReason.GuestExit, $"isa-debug-exit: the guest wrote 0x{value:X}, exit status {status}");
        }
    }

    /// <summary>
    /// The CMOS bytes QEMU's pc_cmos_init writes besides the memory size: the equipment byte 0x14
    /// (FPU present, PS/2 mouse installed; no floppy drives) and the boot-device order (-boot
    /// once=, else order=, default "cad"). The disk bytes of pc_cmos_init_late come with the IDE
    /// drives (<see cref="WireIde"/>).
    /// </summary>
    private void SetBoardCmosBytes()
    {
        const byte fpuPresent = 0x02;
        const byte ps2MousePresent = 0x04;
        Cmos.SetByte(Mc146818.EquipmentByte, fpuPresent | ps2MousePresent);
        SetBootOrderCmosBytes(Options.BootOrderOnce ?? Options.BootOrder);
    }

    /// <summary>
    /// hw/i386/pc.c set_boot_dev: 0x3D = second:first, 0x38 bits 7–4 = third, bit 0 = 0 because
    /// QEMU's fd_bootchk is on; a = b = floppy 1, c = disk 2, d = CD-ROM 3, n = network 4.
    /// </summary>
    private void SetBootOrderCmosBytes(string order)
    {
        if (order.Length > 3 || order.Any(c => c is not ('a' or 'b' or 'c' or 'd' or 'n')))
        {
            throw new MachineConfigurationException(order.Length > 3 ? "Too many boot devices for PC" : $"Invalid boot device for PC: '{order.First(c => c is not ('a' or 'b' or 'c' or 'd' or 'n'))}'");
        }

        int Nibble(int i) => i >= order.Length ? 0 : order[i] switch { 'a' or 'b' => 1, 'c' => 2, 'd' => 3, _ => 4 };
        Cmos.SetByte(Mc146818.BootDevicesFirstSecond, (byte)((Nibble(1) << 4) | Nibble(0)));
        Cmos.SetByte(Mc146818.BootDeviceThird, (byte)(Nibble(2) << 4));
    }

    /// <summary>
    /// The I/O APIC sends its messages to the local APIC and tells the CPU to look (a message can
    /// arrive during a port or MMIO write), takes ExtINT vectors from the 8259 pair, and receives
    /// the local APIC's EOI broadcasts for level-triggered vectors; NMI messages reach the CPU's
    /// NMI input. The HPET (unless the options
    /// leave it out) drives the GSI lines and writes FSB messages to memory.
    /// </summary>
    private void WireIoApicAndHpet(Func<long> now, bool hpet)
    {
        IoApic = AddDevice(new IoApic(
            message =>
            {
                LocalApic.Accept(message);
                Cpu.InterruptStateChanged();
            },
            Pic.Acknowledge,
            Scheduler,
            now));
        Bus.MapMmio("ioapic", IoApic.DefaultBase, IoApic.Size, new InterruptControllerWindow(IoApic, Cpu));
        LocalApic.LevelTriggeredEoi = IoApic.EndOfInterrupt;
        LocalApic.NmiRaised = Cpu.RaiseNmi;
        LocalApic.SmiRaised = Cpu.RaiseSmi;
        Gsi = new GsiLines(Pic, IoApic);
        if (hpet)
        {
            Hpet = AddDevice(new Hpet(Scheduler, now, (address, value) => Bus.Write(address, sizeof(uint), value)));
            for (int route = 0; route < Hpet.RouteCount; route++)
            {
                ConnectToGsi(Hpet.Irqs[route], route);
            }

            Bus.MapMmio("hpet", Hpet.DefaultBase, Hpet.Size, Hpet);
        }
    }

    /// <summary>
    /// One 16550 per listed port at its index's I/O base, its interrupt output on the index's ISA
    /// IRQ (QEMU serial_isa_realizefn). Two ports with one index would share I/O ports: refused,
    /// as QEMU refuses the conflicting device.
    /// </summary>
    private List<Uart> WireSerialPorts(IReadOnlyList<IsaSerialPort> ports)
    {
        var uarts = new List<Uart>(ports.Count);
        foreach (var port in ports)
        {
            if (ports.Count(p => p.Index == port.Index) > 1)
            {
                throw new FirmwareLayoutException($"two serial ports at {port.Name} (index {port.Index})");
            }

            var uart = AddDevice(new Uart(port.Output ?? (_ => { }), port.Input ?? (() => -1), port.Name.ToLowerInvariant()));
            ConnectToGsi(uart.Irq, port.Irq);
            Ports.Register(port.IoBase, Uart.PortCount, uart);
            uarts.Add(uart);
        }

        return uarts;
    }

    /// <summary>Connects <paramref name="line"/> to GSI <paramref name="gsi"/>; lines past the last GSI stay unconnected, as on QEMU's pc.</summary>
    /// <summary>
    /// FERR# to GSI 13 and port 0xF0, as QEMU's pc and q35 boards wire them (pc_piix.c/pc_q35.c
    /// x86_register_ferr_irq(gsi[13]); pc.c ioportF0): an unmasked x87 exception found by FWAIT
    /// with CR0.NE clear raises the line (docs/x87.md).
    /// </summary>
    private void WireFpuError()
    {
        Cpu.Fpu.Ferr = () => Gsi.Set(FpuErrorGsi, true);
        Ports.Register(FpuErrorPort.Port, 1, new FpuErrorPort(Cpu.Fpu, () => Gsi.Set(FpuErrorGsi, false)));
    }

    private const int FpuErrorGsi = 13;

    private void ConnectToGsi(OutputLine line, int gsi)
    {
        if (gsi < GsiLines.Count)
        {
            line.Connect($"gsi {gsi}", level => Gsi.Set(gsi, level));
        }
        else
        {
            line.LeaveUnconnected($"the pc board has no GSI {gsi} (GSIs 0–{GsiLines.Count - 1})");
        }
    }

    /// <summary>
    /// PM1 control with SLP_EN: on QEMU's PIIX4 sleep type 0 is soft power-off (acpi_pm1_cnt_write;
    /// OVMF's ResetSystem shutdown writes exactly that), which ends the run. Suspend types are not
    /// modelled: the run stops and says so rather than pretending to resume.
    /// </summary>
    private void SleepRequested(int sleepType)
    {
        if (sleepType == 0)
        {
            Cpu.RequestStop(StopReason.PowerOff, "ACPI S5 soft power-off");
        }
        else
        {
            Cpu.RequestStop(StopReason.Requested, $"ACPI sleep type {sleepType} requested; only S5 power-off is modelled");
        }
    }
}
