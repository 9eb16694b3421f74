using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>MOV and friends between registers, memory and immediates (Intel SDM Vol. 2).</summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterDataTransfer(HandlerRegistry r)
    {
        r.Add(Mnemonic.Mov, &Mov);
    }

    private static void Mov(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        cpu.WriteOp0(ref op, size, cpu.ReadOp1(ref op, size));
    }
}
