namespace Emulator.Core.Cpu;

/// <summary>
/// A fault raised by the guest's own execution (#GP, #PF, #UD ...). Thrown by handlers and caught
/// only by the run loop, which delivers it through the IVT/IDT. Faults are rare in a firmware
/// boot, so the cost of an exception is acceptable; HLT, interrupts and loop exits never use one.
/// </summary>
public sealed class GuestFault : Exception
{
    public GuestFault(int vector, uint? errorCode = null)
        : base($"guest fault vector {vector}")
    {
        Vector = vector;
        ErrorCode = errorCode;
    }

    public int Vector { get; }

    public uint? ErrorCode { get; }
}
