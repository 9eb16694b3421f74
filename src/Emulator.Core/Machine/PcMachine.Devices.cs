namespace Emulator.Core.Machine;

/// <summary>Platform device wiring: ports, MMIO windows, interrupt lines and clocks.</summary>
public sealed partial class PcMachine
{
    private void WireDevices(MachineOptions options)
    {
    }
}
