using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Devices.Q35;

namespace Emulator.Core.Machine;

/// <summary>
/// The chipset of QEMU 7.2's "q35" machine with one CPU (hw/i386/pc_q35.c pc_q35_init,
/// docs/q35.md): the MCH 00:00.0 (PCIEXBAR placing the ECAM window, PAM and SMRAM applied to
/// memory: PcMachine.ChipsetMemory.cs), the ICH9 LPC bridge 00:1f.0 (PM block with GPE0 and
/// SMI_EN at PMBASE, PIRQ and SCI routing onto the GSI lines, the chipset configuration registers
/// at RCBA, the APM ports raising SMIs, RST_CNT 0xCF9, the CPU-hotplug block at 0x0CD8), the
/// AHCI function 00:1f.2 with the drives of MachineOptions.IdeDrives (index N on port N) and the SMBus function 00:1f.3. QEMU's default VGA and
/// e1000e are absent, as under -nodefaults. What both boards share is wired in
/// PcMachine.Devices.cs.
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>Q35 keeps RAM below this under 4 GiB when the whole RAM fits (pc_q35.c: lowmem 0xB0000000)...</summary>
    public const ulong Q35LowMemoryLimit = 0xB000_0000;

    /// <summary>...and only 2 GiB once RAM reaches it (lowmem 0x80000000), leaving room for ECAM and PCI.</summary>
    public const ulong Q35LowMemorySplit = 0x8000_0000;

    /// <summary>QEMU's ICH9 CPU-hotplug block (ICH9_CPU_HOTPLUG_IO_BASE).</summary>
    public const ushort Ich9CpuHotplugBase = 0x0CD8;

    private MovablePortWindow _ich9PmWindow = null!;
    private MovablePortWindow _ich9GpeWindow = null!;
    private MovablePortWindow _ich9SmiWindow = null!;

    /// <summary>The Q35 MCH (q35 board; null on pc).</summary>
    public MchHostBridge Mch { get; private set; } = null!;

    /// <summary>The ICH9 LPC bridge (q35 board; null on pc). Its <see cref="Ich9Lpc.PmBase"/> is where the PM block and GPE0 (+0x20) sit.</summary>
    public Ich9Lpc Lpc { get; private set; } = null!;

    /// <summary>SMI_EN and SMI_STS of the ICH9 PM block (q35 board; null on pc).</summary>
    public Ich9SmiControl Smi { get; private set; } = null!;

    /// <summary>The ICH9 AHCI function (q35 board; null on pc).</summary>
    public Ich9Ahci Ahci { get; private set; } = null!;

    /// <summary>The ICH9 SMBus function (q35 board; null on pc).</summary>
    public Ich9Smbus Smbus { get; private set; } = null!;

    /// <summary>The PM block's base as the chipset's register holds it (PIIX4 PMBA or ICH9 PMBASE): the FADT's PM1a/PM timer (and, on q35, GPE0 at +0x20) live there.</summary>
    public ushort PmBase => Options.Chipset == PcChipset.Q35 ? Lpc.PmBase : PowerManagement.PmBase;

    /// <summary>pc_q35_init's split of RAM below and above 4 GiB.</summary>
    private static ulong Q35LowRam(ulong size)
    {
        ulong lowmem = size >= Q35LowMemoryLimit ? Q35LowMemorySplit : Q35LowMemoryLimit;
        return size >= lowmem ? lowmem : size;
    }

    /// <summary>MCH and LPC with the PM block, SMI registers, APM ports and the memory windows their registers place.</summary>
    private void WireQ35Bridges(MachineOptions options, Func<long> now)
    {
        Mch = AddDevice(new MchHostBridge());
        byte legacyDecode = 0;
        foreach (var port in options.SerialPorts)
        {
            legacyDecode |= port.IoBase switch
            {
                0x3F8 => Ich9Lpc.LpcEnableCom1,
                0x2F8 => Ich9Lpc.LpcEnableCom2,
                _ => 0,
            };
        }

        Lpc = AddDevice(new Ich9Lpc(legacyDecode));
        Pci.Attach(0, 0, Mch);
        Pci.Attach(Ich9Lpc.DeviceNumber, Ich9Lpc.FunctionNumber, Lpc);

        var ecam = new MovableMmioWindow(Bus, "pcie-mmcfg", new PcieEcam(Pci));
        Mch.EcamChanged += () => ecam.Place(Mch.EcamEnabled, Mch.EcamBase, Mch.EcamSize);
        WirePam(Mch.GetPamAccess);
        Mch.PamChanged += UpdatePam;
        WireSmram();

        PmIo = AddDevice(new PmIoBlock(now, "ich9-pm-io", "ich9-pm.sci", Ich9Lpc.Gpe0Length, sciEnabledAtReset: !options.Smm));
        PmIo.Sci.Connect("ich9-lpc sci (GSI per ACPI_CNTL)", Lpc.SetSci);
        Smi = AddDevice(new Ich9SmiControl(options.Smm));
        Lpc.SmiLocked += Smi.LockGlobalSmiEnable;
        _ich9PmWindow = new MovablePortWindow(Ports, 0, Ich9Lpc.Pm1TimerPorts, PmIo);
        _ich9GpeWindow = new MovablePortWindow(Ports, Ich9Lpc.Gpe0Offset, Ich9Lpc.Gpe0Length, PmIo.Gpe0);
        _ich9SmiWindow = new MovablePortWindow(Ports, Ich9SmiControl.BlockOffset, Ich9SmiControl.PortCount, Smi);
        Lpc.PmIoChanged += MoveIch9PmBlock;

        var rcba = new MovableMmioWindow(Bus, "ich9-rcrb", Lpc.ChipsetConfig);
        Lpc.RcbaChanged += (enabled, rcbaBase) => rcba.Place(enabled, rcbaBase, Ich9ChipsetConfig.Size);

        // ich9_apm_ctrl_changed: 2/3 switch SCI_EN; any other value raises an SMI while
        // SMI_EN.APMC_EN is set (broadcast or not, this machine's one CPU takes it).
        var apm = AddDevice(new ApmControl(PmIo, ApmControl.Ich9AcpiEnable, ApmControl.Ich9AcpiDisable, _ =>
        {
            if (Smi.ApmcEnabled)
            {
                Cpu.RaiseSmi();
            }
        }));
        Ports.Register(ApmControl.BasePort, ApmControl.PortCount, apm);
    }

    /// <summary>The functions after the interrupt controllers: LPC GSI outputs connected, AHCI and SMBus with their windows.</summary>
    private void WireQ35Functions()
    {
        for (int gsi = 0; gsi < Ich9Lpc.GsiCount; gsi++)
        {
            ConnectToGsi(Lpc.Gsi[gsi], gsi);
        }

        Ahci = AddDevice(new Ich9Ahci(Bus, (address, data) => Bus.Write(address, sizeof(uint), data), Options.IdeDrives));
        Pci.Attach(Ich9Lpc.DeviceNumber, Ich9Ahci.FunctionNumber, Ahci);
        Ahci.Irq.Connect("ich9-lpc PIRQ by D31IR", level => Lpc.SetPirq(Lpc.ChipsetConfig.PirqFor(Ich9Lpc.DeviceNumber, 0), level));
        var idp = new MovablePortWindow(Ports, 0, (int)Ich9Ahci.IdpSize, Ahci.Idp);
        Ahci.IdpChanged += idp.Place;
        var abar = new MovableMmioWindow(Bus, "ahci", Ahci.Hba);
        Ahci.AbarChanged += (enabled, abarBase) => abar.Place(enabled, abarBase, AhciHba.BarSize);

        Smbus = AddDevice(new Ich9Smbus());
        Pci.Attach(Ich9Lpc.DeviceNumber, Ich9Smbus.FunctionNumber, Smbus);
        var smbusIo = new MovablePortWindow(Ports, 0, (int)Ich9Smbus.IoSize, Smbus.HostRegisters);
        Smbus.IoChanged += smbusIo.Place;
    }

    /// <summary>
    /// ich9_pm_iospace_update: the 128-port PM block at PMBASE — PM1 and the timer at +0..+0x1F
    /// (offsets the PIIX4-style block leaves empty read all-ones, as in QEMU's container), GPE0 at
    /// +0x20, SMI_EN/SMI_STS at +0x30; the rest (QEMU's TCO block at +0x60) is unassigned here.
    /// </summary>
    private void MoveIch9PmBlock(bool enabled, ushort pmBase)
    {
        _ich9PmWindow.Place(enabled, pmBase);
        _ich9GpeWindow.Place(enabled, pmBase);
        _ich9SmiWindow.Place(enabled, pmBase);
    }
}
