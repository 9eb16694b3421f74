using Emulator.Core.Devices;

namespace Emulator.Core.Machine;

// TEMPORARY until the devices branch lands PcMachine.Devices: the machine's devices that follow IDevice.
public sealed partial class PcMachine
{
    private IReadOnlyList<IDevice> DeviceList => new object?[]
    {
        Pci, HostBridge, PowerManagement, PmIo, Pic, Pic.Master, Pic.Slave, Cmos, LocalApic, IoApic, Hpet, Port92, PostCode, ResetControl, Keyboard, CpuHotplug, FwCfg, Acpi,
    }.Concat(SerialPorts).Concat(_flash).OfType<IDevice>().ToList();
}
