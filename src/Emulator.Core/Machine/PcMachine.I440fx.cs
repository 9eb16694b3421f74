using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Devices.Pci;

namespace Emulator.Core.Machine;

/// <summary>
/// The chipset of QEMU's "pc" machine (hw/i386/pc_piix.c): the i440FX host bridge 00:00.0 with
/// its PAM registers applied to memory, the PIIX3 ISA bridge 00:01.0, the PIIX4 PM function
/// 00:01.3 whose I/O block (with the ACPI PM timer) appears where the guest programs PMBA, the
/// APM control port 0xB2 that switches it to ACPI mode, GPE0 at QEMU's fixed 0xAFE0, and
/// (<see cref="WireIde"/>) the PIIX3 IDE function 00:01.1.
/// </summary>
public sealed partial class PcMachine
{
    private PmIoBlock? _pmBlock;
    private ushort _pmBlockBase;

    /// <summary>The i440FX host bridge (pc board; null on q35).</summary>
    public I440fxHostBridge HostBridge { get; private set; } = null!;

    /// <summary>The PIIX3 ISA bridge with the PIRQ routing (pc board; null on q35).</summary>
    public Piix3IsaBridge IsaBridge { get; private set; } = null!;

    /// <summary>The PIIX4 PM function (pc board; null on q35).</summary>
    public Piix4PowerManagement PowerManagement { get; private set; } = null!;

    private void WireI440fxBridges(Func<long> now)
    {
        HostBridge = AddDevice(new I440fxHostBridge());
        IsaBridge = AddDevice(new Piix3IsaBridge());
        for (int irq = 0; irq < Piix3IsaBridge.IsaIrqCount; irq++)
        {
            ConnectToGsi(IsaBridge.Irq[irq], irq);
        }

        PowerManagement = AddDevice(new Piix4PowerManagement());
        Pci.Attach(0, 0, HostBridge);
        Pci.Attach(1, 0, IsaBridge);
        Pci.Attach(1, 3, PowerManagement);
        WirePam(HostBridge.GetPamAccess);
        HostBridge.PamChanged += UpdatePam;

        PmIo = AddDevice(new PmIoBlock(now));
        PmIo.Sci.LeaveUnconnected("QEMU wires the SCI to GSI 9; this board has not yet (no guest before the banner enables SCI_EN)");
        PowerManagement.PmIoChanged += MovePmBlock;
        Ports.Register(ApmControl.BasePort, ApmControl.PortCount, AddDevice(new ApmControl(PmIo)));
        Ports.Register(Gpe0Block.BasePort, Gpe0Block.PortCount, PmIo.Gpe0);
    }

    /// <summary>The PIIX4 PM function's I/O window moves to wherever the guest programs PMBA (SEC: 0xB000).</summary>
    private void MovePmBlock(bool enabled, ushort pmBase)
    {
        if (_pmBlock != null)
        {
            Ports.Unregister(_pmBlockBase, PmIoBlock.PortCount, _pmBlock);
            _pmBlock = null;
        }

        if (enabled && pmBase != 0)
        {
            Ports.Register(pmBase, PmIoBlock.PortCount, PmIo);
            _pmBlock = PmIo;
            _pmBlockBase = pmBase;
        }
    }
}
