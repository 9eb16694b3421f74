using Emulator.Core.Devices.Pci;
using Emulator.Core.Devices.Q35;
using Emulator.Core.Devices.Virtio;

namespace Emulator.Core.Machine;

/// <summary>
/// The virtio-blk-pci disks of <see cref="MachineOptions.VirtioDrives"/>, on pc and q35 alike,
/// created after every other device as QEMU creates if=virtio drives after the board and the
/// explicit -devices: each in its slot or the first free one (after
/// <see cref="MachineOptions.AbsentDefaultPciSlots"/> left for QEMU's default VGA and NIC),
/// named virtio-blk0, virtio-blk1… in that order. BAR0's legacy registers, BAR1's MSI-X table
/// and BAR4's modern registers (above 4 GiB too) follow the guest's BARs; INTA goes to the PIRQ the board routes the slot to: on pc
/// PIRQ (slot − 1 + pin) mod 4 through the PIIX3 (hw/isa/piix3.c pci_slot_get_pirq), on q35
/// through the ICH9's D<n>IR or its default table (ich9_lpc_map_irq; PIRQE–H for slots 1–24).
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>The virtio-blk-pci functions in the order of <see cref="MachineOptions.VirtioDrives"/>.</summary>
    public IReadOnlyList<VirtioBlkPci> VirtioDisks { get; private set; } = [];

    private void WireVirtioDrives(MachineOptions options)
    {
        var disks = new List<VirtioBlkPci>();
        var leftEmpty = FreeSlots().Take(options.AbsentDefaultPciSlots).ToHashSet();
        foreach (var drive in options.VirtioDrives)
        {
            int slot = drive.Slot ?? FreeSlots().Where(s => !leftEmpty.Contains(s)).DefaultIfEmpty(-1).First();
            if (slot < 1 || slot >= PciHost.MaxDevices)
            {
                throw new MachineConfigurationException(slot < 1 && drive.Slot == null
                    ? "virtio-blk: no free PCI slot on bus 0"
                    : $"virtio-blk: PCI slot {slot} is not on bus 0 (1–{PciHost.MaxDevices - 1})");
            }

            if (Pci.FunctionAt(slot, 0) is { } taken)
            {
                throw new MachineConfigurationException($"virtio-blk: PCI slot {slot} is already used by {taken.Name}");
            }

            var disk = AddDevice(new VirtioBlkPci($"virtio-blk{disks.Count}", Bus, drive.Backend));
            Pci.Attach(slot, 0, disk);
            var legacy = new MovablePortWindow(Ports, 0, (int)VirtioBlkPci.LegacySize, disk.Legacy);
            disk.LegacyIoChanged += legacy.Place;
            var msix = new MovableMmioWindow(Bus, disk.Name + "-msix", disk.Msix);
            disk.MsixMmioChanged += (enabled, msixBase) => msix.Place(enabled, msixBase, MsixTable.BarSize);
            var modern = new MovableMmioWindow(Bus, disk.Name + "-modern", disk.Modern);
            disk.ModernMmioChanged += (enabled, modernBase) => modern.Place(enabled, modernBase, VirtioModernRegisters.BarSize);
            if (options.Chipset == PcChipset.Q35)
            {
                disk.Irq.Connect("ich9-lpc PIRQ by slot", level => Lpc.SetPirq(Lpc.ChipsetConfig.PirqFor(slot, 0), level));
            }
            else
            {
                int pirq = Piix3IsaBridge.PirqFor(slot, 0);
                disk.Irq.Connect($"piix3-isa PIRQ{(char)('A' + pirq)}", level => IsaBridge.SetPirq(pirq, level));
            }

            disks.Add(disk);
        }

        VirtioDisks = disks;
    }

    /// <summary>The slots on bus 0 with no function yet, lowest first.</summary>
    private IEnumerable<int> FreeSlots() => Enumerable.Range(1, PciHost.MaxDevices - 1).Where(slot => Pci.FunctionAt(slot, 0) == null);
}
