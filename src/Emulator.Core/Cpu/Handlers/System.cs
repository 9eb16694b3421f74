using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>System instructions: HLT (Intel SDM Vol. 2).</summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterSystem(HandlerRegistry r)
    {
        r.Add(Code.Hlt, &Hlt);
    }

    /// <summary>HLT: stop fetching until an interrupt; the run loop idles virtual time forward or stops.</summary>
    private static void Hlt(Cpu cpu, ref DecodedOp op)
    {
        if (cpu._cpl != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        cpu._halted = true;
        cpu._exitBlock = true;
    }
}
