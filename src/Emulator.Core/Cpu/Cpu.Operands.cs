using System.Runtime.CompilerServices;

namespace Emulator.Core.Cpu;

/// <summary>
/// Operand access shared by every handler: general registers at any width (with AH..BH and the
/// 64-bit rule that 32-bit writes zero the upper half), effective addresses, and generic
/// read/write of operand N whatever its kind. Handlers never re-implement these.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>
    /// General register <paramref name="reg"/> (0..15) without a bounds check: register numbers
    /// come from the decoder, never from guest data, and the hot handlers index with them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref ulong GprRef(int reg) => ref Unsafe.Add(ref Unsafe.As<GprFile, ulong>(ref _gpr), (nint)(uint)reg);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadGpr(int reg, int size)
    {
        if (size == 8)
        {
            return GprRef(reg);
        }

        if (size == 4)
        {
            return (uint)GprRef(reg);
        }

        if (size == 2)
        {
            return (ushort)GprRef(reg);
        }

        return reg >= Gpr.HighByteBase ? (byte)(GprRef(reg - Gpr.HighByteBase) >> 8) : (byte)GprRef(reg);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteGpr(int reg, int size, ulong value)
    {
        if (size == 8)
        {
            GprRef(reg) = value;
        }
        else if (size == 4)
        {
            // Intel SDM Vol. 1, 3.4.1.1: 32-bit results are zero-extended into the full register.
            GprRef(reg) = (uint)value;
        }
        else if (size == 2)
        {
            GprRef(reg) = (GprRef(reg) & ~0xFFFFUL) | (ushort)value;
        }
        else if (reg >= Gpr.HighByteBase)
        {
            ref ulong r = ref GprRef(reg - Gpr.HighByteBase);
            r = (r & ~0xFF00UL) | ((ulong)(byte)value << 8);
        }
        else
        {
            GprRef(reg) = (GprRef(reg) & ~0xFFUL) | (byte)value;
        }
    }

    /// <summary>The offset part of the memory operand (base + index·scale + displacement, wrapped to the address size).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong EffectiveAddress(ref DecodedOp op) =>
        EffectiveAddress(op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, _rip + op.Length);

    /// <summary>
    /// <see cref="EffectiveAddress(ref DecodedOp)"/> from the operand's parts: the one body of the
    /// address computation, which the block compiler's twins call with the parts as constants.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong EffectiveAddress(byte memBase, byte memIndex, byte memScaleShift, ulong disp, byte eaMaskShift, ulong nextRip)
    {
        // Absent base and index registers name the always-zero slot, so only RIP-relative
        // addressing branches; the mask wraps to the address size (Intel SDM Vol. 1, 3.7.5).
        ulong ea = memBase == DecodedOp.RipBase ? nextRip : GprRef(memBase);
        ea += disp + (GprRef(memIndex) << memScaleShift);
        return ea & (ulong.MaxValue >> eaMaskShift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong MemLinear(ref DecodedOp op) =>
        MemLinear(op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, _rip + op.Length, _bitness);

    /// <summary>The linear address of a memory operand from its parts and the mode (16, 32, 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong MemLinear(byte memBase, byte memIndex, byte memScaleShift, ulong disp, byte eaMaskShift, byte memSeg, ulong nextRip, int bitness) =>
        Linear(memSeg, EffectiveAddress(memBase, memIndex, memScaleShift, disp, eaMaskShift, nextRip), bitness);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadOp0(ref DecodedOp op, int size) => ReadOperand(ref op, op.Kind0, op.Reg0, size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadOp1(ref DecodedOp op, int size) => ReadOperand(ref op, op.Kind1, op.Reg1, size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadOp2(ref DecodedOp op, int size) => ReadOperand(ref op, op.Kind2, op.Reg2, size);

    /// <summary>Reads an operand of any kind: register, immediate, memory (the op has at most one), segment selector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ReadOperand(ref DecodedOp op, OperandKind kind, byte reg, int size) =>
        ReadOperand(size, kind, reg, op.Imm, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, _rip + op.Length, _bitness);

    /// <summary><see cref="ReadOperand(ref DecodedOp, OperandKind, byte, int)"/> from the operand's parts (the twins pass them as constants).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadOperand(int size, OperandKind kind, byte reg, ulong imm, byte memBase, byte memIndex, byte memScaleShift, ulong disp, byte eaMaskShift, byte memSeg, ulong nextRip, int bitness) => kind switch
    {
        OperandKind.Gpr => ReadGpr(reg, size),
        OperandKind.Immediate => imm & Mask(size),
        OperandKind.Memory => ReadSized(MemLinear(memBase, memIndex, memScaleShift, disp, eaMaskShift, memSeg, nextRip, bitness), size),
        OperandKind.Segment => _seg[reg].Selector,
        _ => throw new GuestFault(Vector.UD),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteOp0(ref DecodedOp op, int size, ulong value)
    {
        if (op.Kind0 == OperandKind.Gpr)
        {
            WriteGpr(op.Reg0, size, value);
        }
        else if (op.Kind0 == OperandKind.Memory)
        {
            WriteSized(MemLinear(ref op), size, value);
        }
        else
        {
            throw new GuestFault(Vector.UD);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Push(int size, ulong value)
    {
        ulong sp = _gpr[Gpr.Rsp] - (ulong)size;
        ulong spMasked = StackMask(sp);
        WriteSized(Linear(Seg.Ss, spMasked), size, value);
        SetSp(sp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Pop(int size)
    {
        ulong sp = _gpr[Gpr.Rsp];
        ulong v = ReadSized(Linear(Seg.Ss, StackMask(sp)), size);
        SetSp(sp + (ulong)size);
        return v;
    }

    /// <summary>Reads the stack slot <paramref name="offset"/> bytes above SP without popping.</summary>
    internal ulong PeekStack(int size, ulong offset) =>
        ReadSized(Linear(Seg.Ss, StackMask(_gpr[Gpr.Rsp] + offset)), size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong StackMask(ulong sp) => _stackSize switch
    {
        8 => sp,
        4 => (uint)sp,
        _ => (ushort)sp,
    };

    /// <summary>Writes SP at the stack's width, leaving the upper bits alone for a 16-bit stack.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetSp(ulong sp) => SetSp(sp, _stackSize);

    /// <summary>Writes SP at a given stack width (2, 4 or 8 bytes), leaving the upper bits alone for 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetSp(ulong sp, int stackSize)
    {
        if (stackSize == 8)
        {
            _gpr[Gpr.Rsp] = sp;
        }
        else if (stackSize == 4)
        {
            _gpr[Gpr.Rsp] = (uint)sp;
        }
        else
        {
            _gpr[Gpr.Rsp] = (_gpr[Gpr.Rsp] & ~0xFFFFUL) | (ushort)sp;
        }
    }

    /// <summary>Masks an instruction pointer to the operand size of a near transfer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong IpMask(ulong ip, int size) => size switch
    {
        8 => ip,
        4 => (uint)ip,
        _ => (ushort)ip,
    };
}
