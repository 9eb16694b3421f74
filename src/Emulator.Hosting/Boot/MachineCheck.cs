using Emulator.Core.Devices.Pci;
using Emulator.Core.Machine;

namespace Emulator.Hosting.Boot;

/// <summary>Checks that the machine built is the board that was asked for, before the guest runs.</summary>
internal static class MachineCheck
{
    /// <summary>The host bridge's PCI device IDs (00:00.0 offset 2), which OVMF itself goes by (OvmfPkg/Include/OvmfPlatforms.h).</summary>
    private const ushort I440fxDeviceId = 0x1237, Q35MchDeviceId = 0x29C0;

    /// <summary>
    /// A machine whose host bridge is not <paramref name="chipset"/>'s (an emu built before the Q35
    /// board, issue 17) is disposed and refused in one line, instead of booting the firmware on
    /// the wrong board. Reads 00:00.0's IDs through the configuration ports and puts the address
    /// register back, so the guest's view is unchanged.
    /// </summary>
    public static void RequireChipset(PcMachine machine, PcChipset chipset)
    {
        ushort expected = chipset == PcChipset.Q35 ? Q35MchDeviceId : I440fxDeviceId;
        // Straight to the host bridge, not through the port bus: the busy-wait skipper counts the guest's port accesses.
        var host = machine.Pci;
        uint saved = host.Read(PciHost.AddressOffset, 4);
        host.Write(PciHost.AddressOffset, 4, PciHost.AddressEnable);
        uint ids = host.Read(PciHost.DataOffset, 4);
        host.Write(PciHost.AddressOffset, 4, saved);
        if (ids >> 16 != expected)
        {
            machine.Dispose();
            throw new UsageException(chipset == PcChipset.Q35
                ? "the q35 machine is not part of this emu build yet (its host bridge is missing); use the pc machine"
                : $"the machine's host bridge is {ids >> 16:x4}, not the i440FX's {expected:x4}");
        }
    }
}
