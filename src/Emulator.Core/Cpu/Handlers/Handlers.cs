using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Instruction handlers, one partial file per family (DataTransfer, Arithmetic, Logic, Shifts,
/// Bits, ControlFlow, Stack, Strings, Io, FlagOps, System, SystemCalls, SegmentChecks, Hints,
/// Descriptors, Sse, Simd (MMX and SSE integer), X87). A handler runs
/// with <c>cpu._rip</c> at the instruction; control transfers (always the last instruction of a
/// block) find the next instruction's address in <c>cpu._nextRip</c> and overwrite it; anything that changes how later instructions decode or translate sets
/// <c>_exitBlock</c>.
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>Decoded by Iced but not implemented here: #UD in the guest, named in the report.</summary>
    public static void Unimplemented(Cpu cpu, ref DecodedOp op)
    {
        cpu.RecordUnimplemented(op.Insn.Code);
        throw new GuestFault(Vector.UD);
    }

    /// <summary>An ALU r, r/m form with a LOCK QEMU refuses (Cpu.QemuLoadsSourceBeforeRefusingLock): the source's load, then #UD.</summary>
    internal static void LockRefusedAfterLoadingSource(Cpu cpu, ref DecodedOp op)
    {
        cpu.ReadOp1(ref op, op.OpSize);
        throw new GuestFault(Vector.UD);
    }

    /// <summary>Bytes that are no instruction at all (Iced <see cref="Code.INVALID"/>): #UD as on hardware.</summary>
    public static void Invalid(Cpu cpu, ref DecodedOp op) => throw new GuestFault(Vector.UD);
}
