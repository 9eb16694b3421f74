using Emulator.Core.Memory;

namespace Emulator.Core.Machine;

/// <summary>
/// Maps an interrupt controller's registers and tells the CPU after every write (EOI, TPR,
/// enable ...), because a write can make an interrupt deliverable. The CPU checks for interrupts
/// only at such events and at timer deadlines, not after every block.
/// </summary>
public sealed class InterruptControllerWindow(IMmioDevice controller, Cpu.Cpu cpu) : IMmioDevice
{
    public string Name => controller.Name;

    public AccessSizes Sizes => controller.Sizes;

    public ulong Read(ulong offset, int size) => controller.Read(offset, size);

    public void Write(ulong offset, int size, ulong value)
    {
        controller.Write(offset, size, value);
        cpu.InterruptStateChanged();
    }
}
