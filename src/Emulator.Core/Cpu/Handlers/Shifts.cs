using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD, SHRD (Intel SDM Vol. 2). The count (1, CL or
/// imm8) is masked to 5 bits, 6 for 64-bit operands; a masked count of 0 changes no flag. The
/// destination is always written back (a 32-bit register is zero-extended even for count 0),
/// and flags the SDM leaves undefined follow QEMU 7.2's TCG:
/// <list type="bullet">
/// <item>shifts: CF is the last bit shifted out, OF = MSB(result) XOR MSB(value shifted by
/// count-1) for every count, AF = 0;</item>
/// <item>ROL/ROR: only CF and OF, computed from the result for every non-zero count;</item>
/// <item>RCL/RCR: count taken modulo 9 or 17 for bytes and words, OF = MSB(result XOR source);</item>
/// <item>SHLD/SHRD: a 16-bit operand with a count above 16 shifts dest:src:dest, as Intel does.</item>
/// </list>
/// Rotates hold their flags materialised, as QEMU's CC_OP_EFLAGS/ADCOX do, which decides BT's
/// undefined flags afterwards (see <c>Bits.cs</c>).
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterShifts(HandlerRegistry r)
    {
        r.Add(Mnemonic.Shl, &LogicalShift<S1, ToLeft>, &LogicalShift<S2, ToLeft>, &LogicalShift<S4, ToLeft>, &LogicalShift<S8, ToLeft>);
        r.Add(Mnemonic.Sal, &LogicalShift<S1, ToLeft>, &LogicalShift<S2, ToLeft>, &LogicalShift<S4, ToLeft>, &LogicalShift<S8, ToLeft>);
        r.Add(Mnemonic.Shr, &LogicalShift<S1, ToRight>, &LogicalShift<S2, ToRight>, &LogicalShift<S4, ToRight>, &LogicalShift<S8, ToRight>);
        r.Add(Mnemonic.Sar, &Sar<S1>, &Sar<S2>, &Sar<S4>, &Sar<S8>);
        r.Add(Mnemonic.Rol, &Rotate<S1, ToLeft>, &Rotate<S2, ToLeft>, &Rotate<S4, ToLeft>, &Rotate<S8, ToLeft>);
        r.Add(Mnemonic.Ror, &Rotate<S1, ToRight>, &Rotate<S2, ToRight>, &Rotate<S4, ToRight>, &Rotate<S8, ToRight>);
        r.Add(Mnemonic.Rcl, &RotateCarry<S1, ToLeft>, &RotateCarry<S2, ToLeft>, &RotateCarry<S4, ToLeft>, &RotateCarry<S8, ToLeft>);
        r.Add(Mnemonic.Rcr, &RotateCarry<S1, ToRight>, &RotateCarry<S2, ToRight>, &RotateCarry<S4, ToRight>, &RotateCarry<S8, ToRight>);
        r.Add(Mnemonic.Shld, &DoubleShift<S2, ToLeft>, &DoubleShift<S2, ToLeft>, &DoubleShift<S4, ToLeft>, &DoubleShift<S8, ToLeft>);  // no byte form
        r.Add(Mnemonic.Shrd, &DoubleShift<S2, ToRight>, &DoubleShift<S2, ToRight>, &DoubleShift<S4, ToRight>, &DoubleShift<S8, ToRight>);
    }

    /// <summary>
    /// The direction of a shift or rotate as a type argument, like <see cref="IOpSize"/>: each
    /// instantiation compiles to its own body with the direction folded away, so the mirror-image
    /// pairs (SHL/SHR, ROL/ROR, RCL/RCR, SHLD/SHRD) share one source without a branch per instruction.
    /// </summary>
    internal interface IDirection
    {
        static abstract bool Left { get; }
    }

    internal readonly struct ToLeft : IDirection
    {
        public static bool Left => true;
    }

    internal readonly struct ToRight : IDirection
    {
        public static bool Left => false;
    }

    /// <summary>The masked count of a shift or rotate: operand 1 is CL or an immediate (1 for the D0-D3 forms).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ShiftCount<S>(Cpu cpu, OperandKind kind, ulong imm)
        where S : struct, IOpSize
    {
        ulong raw = kind == OperandKind.Immediate ? imm : cpu._gpr[Gpr.Rcx];
        return (int)raw & (S.Size == 8 ? 63 : 31);
    }

    /// <summary>CF in bit 0, OF in bit 11, from bit <paramref name="msb"/> of the values given.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong CarryOverflow(ulong cf, ulong ofSource, int msb) =>
        (cf & 1) | (((ofSource >> msb) & 1) << 11);

    /// <summary>
    /// Reads the destination and the masked count (through <see cref="RotateCarryCount{S}"/> for
    /// RCL/RCR). A count of 0 writes the destination back unchanged, which zero-extends a 32-bit
    /// register, and returns false: the caller then changes no flag.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ShiftOperands<S>(Cpu cpu, ref DecodedOp op, OperandKind countKind, bool throughCarry, out ulong dst, out ulong lin, out int count)
        where S : struct, IOpSize
    {
        dst = ReadDest(cpu, ref op, S.Size, out lin);
        count = ShiftCount<S>(cpu, countKind, op.Imm);
        if (throughCarry)
        {
            count = RotateCarryCount<S>(count);
        }

        if (count != 0)
        {
            return true;
        }

        WriteDest(cpu, ref op, S.Size, lin, dst);
        return false;
    }

    /// <summary>SHL and SHR, mirror images: CF is the last bit out, at the MSB or bit 0 of the value shifted by count-1.</summary>
    private static void LogicalShift<S, D>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
        where D : struct, IDirection =>
        LogicalShiftJit<S, D>(cpu, op.Kind0, op.Kind1, op.Reg0, op.Imm, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness, recordFlags: true);

    private static void Sar<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        SarJit<S>(cpu, op.Kind0, op.Kind1, op.Reg0, op.Imm, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness, recordFlags: true);

    /// <summary>
    /// ROL and ROR: CF is the bit that came round (bit 0 after ROL, the MSB after ROR); OF is
    /// CF XOR the MSB after ROL, the two top bits XORed after ROR.
    /// </summary>
    private static void Rotate<S, D>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
        where D : struct, IDirection
    {
        if (!ShiftOperands<S>(cpu, ref op, op.Kind1, throughCarry: false, out ulong dst, out ulong lin, out int count))
        {
            RotateCountZero(cpu, op.Kind1);
            return;
        }

        int bits = S.Size * 8;
        int n = count & (bits - 1);
        ulong res = n == 0 ? dst
            : D.Left ? ((dst << n) | (dst >> (bits - n))) & Cpu.Mask(S.Size)
            : ((dst >> n) | (dst << (bits - n))) & Cpu.Mask(S.Size);
        WriteDest(cpu, ref op, S.Size, lin, res);
        ulong cf = D.Left ? res & 1 : res >> (bits - 1);
        ulong of = D.Left ? (res >> (bits - 1)) ^ cf : cf ^ (res >> (bits - 2));
        SetCarryOverflow(cpu, CarryOverflow(cf, of, 0));
    }

    /// <summary>
    /// QEMU computes EFLAGS before a rotate by CL whatever the count, but not before a rotate by
    /// an immediate 0; the values do not change, only how they are held.
    /// </summary>
    private static void RotateCountZero(Cpu cpu, OperandKind countKind)
    {
        if (countKind != OperandKind.Immediate)
        {
            cpu.MaterializeFlags();
        }
    }

    /// <summary>Replaces CF and OF (bits 0 and 11 of <paramref name="cfOf"/>), keeping the other flags.</summary>
    private static void SetCarryOverflow(Cpu cpu, ulong cfOf)
    {
        cpu.MaterializeFlags();
        cpu._flags = (cpu._flags & ~(RFlags.CF | RFlags.OF)) | cfOf;
    }

    /// <summary>RCL and RCR (QEMU helper_rcl, helper_rcr): mirror-image rotates through CF over width + 1 bits; OF = MSB(result XOR source).</summary>
    private static void RotateCarry<S, D>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
        where D : struct, IDirection
    {
        cpu.MaterializeFlags();
        if (!ShiftOperands<S>(cpu, ref op, op.Kind1, throughCarry: true, out ulong dst, out ulong lin, out int count))
        {
            return;
        }

        int bits = S.Size * 8;
        ulong cf = cpu._flags & RFlags.CF;
        ulong res = D.Left
            ? (dst << count) | (cf << (count - 1))
            : (dst >> count) | (cf << (bits - count));
        if (count > 1)
        {
            res |= D.Left ? dst >> (bits + 1 - count) : dst << (bits + 1 - count);
        }

        WriteDest(cpu, ref op, S.Size, lin, res);
        ulong cfOut = D.Left ? dst >> (bits - count) : dst >> (count - 1);
        SetCarryOverflow(cpu, CarryOverflow(cfOut, dst ^ res, bits - 1));
    }

    /// <summary>RCL/RCR rotate through width + 1 bits: bytes take the count modulo 9, words modulo 17.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RotateCarryCount<S>(int masked)
        where S : struct, IOpSize => S.Size switch
        {
            1 => masked % 9,
            2 => masked % 17,
            _ => masked,
        };

    /// <summary>
    /// SHLD/SHRD r/m, r, imm8/CL: the destination shifted left (right), filled from the source's
    /// high (low) bits.
    /// </summary>
    private static void DoubleShift<S, D>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
        where D : struct, IDirection
    {
        if (!ShiftOperands<S>(cpu, ref op, op.Kind2, throughCarry: false, out ulong dst, out ulong lin, out int count))
        {
            return;
        }

        ulong src = cpu.ReadGpr(op.Reg1, S.Size);
        ulong res, shm1;
        if (S.Size == 8)
        {
            shm1 = D.Left ? dst << (count - 1) : dst >> (count - 1);
            res = D.Left ? (dst << count) | (src >> (64 - count)) : (dst >> count) | (src << (64 - count));
        }
        else if (D.Left)
        {
            // QEMU concatenates into 64 bits and shifts once: dest:src for 32-bit operands,
            // dest:src:dest for 16-bit ones (Intel's behaviour for counts above 16).
            ulong wide = S.Size == 4 ? (dst << 32) | src : (dst << 32) | (src << 16) | dst;
            shm1 = (wide << (count - 1)) >> 32;
            res = (wide << count) >> 32;
        }
        else
        {
            // Likewise src:dest, and dest:src:dest for 16-bit operands.
            ulong wide = S.Size == 4 ? (src << 32) | dst : (dst << 32) | (src << 16) | dst;
            shm1 = wide >> (count - 1);
            res = wide >> count;
        }

        WriteDest(cpu, ref op, S.Size, lin, res);
        int msb = S.Size * 8 - 1;
        cpu.SetResultFlags(S.Size, res, CarryOverflow(D.Left ? shm1 >> msb : shm1, shm1 ^ res, msb));
    }
}
