using System.Runtime.CompilerServices;
using Emulator.Core.Cpu.Jit;

namespace Emulator.Core.Cpu;

/// <summary>
/// The block compiler's forms of the branch and stack handlers (see <c>JitTwins.cs</c>): JMP and
/// Jcc with their displacement as a constant, and the stack forms of 64-bit and 32-bit code.
/// </summary>
internal static unsafe partial class Handlers
{
    [JitTwin(nameof(JmpRelative), Pure = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void JmpRelativeJit(Cpu cpu, ulong Disp, byte OpSize) =>
        cpu._nextRip = Cpu.IpMask(cpu._nextRip + Disp, OpSize);

    [JitTwin(nameof(Jo), Pure = true, Condition = 0, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jno), Pure = true, Condition = 1, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jb), Pure = true, Condition = 2, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jae), Pure = true, Condition = 3, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Je), Pure = true, Condition = 4, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jne), Pure = true, Condition = 5, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jbe), Pure = true, Condition = 6, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Ja), Pure = true, Condition = 7, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Js), Pure = true, Condition = 8, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jns), Pure = true, Condition = 9, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jp), Pure = true, Condition = 10, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jnp), Pure = true, Condition = 11, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jl), Pure = true, Condition = 12, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jge), Pure = true, Condition = 13, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jle), Pure = true, Condition = 14, FlagsWritten = TwinFlags.None)]
    [JitTwin(nameof(Jg), Pure = true, Condition = 15, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void JccJit(Cpu cpu, int cc, ulong Disp, byte OpSize)
    {
        if (cpu.Condition(cc))
        {
            JmpRelativeJit(cpu, Disp, OpSize);
        }
    }

    [JitTwin(nameof(PushReg64), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PushReg64Jit(Cpu cpu, byte Reg0)
    {
        ulong value = cpu.GprRef(Reg0);
        ulong sp = cpu._gpr[Gpr.Rsp] - 8;
        cpu.Write64(sp, value); // 64-bit mode: SS base 0, no wrap (Cpu.Linear)
        cpu._gpr[Gpr.Rsp] = sp;
    }

    [JitTwin(nameof(PopReg64), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PopReg64Jit(Cpu cpu, byte Reg0)
    {
        ulong sp = cpu._gpr[Gpr.Rsp];
        ulong value = cpu.Read64(sp); // 64-bit mode: SS base 0, no wrap (Cpu.Linear)
        cpu._gpr[Gpr.Rsp] = sp + 8;
        cpu.GprRef(Reg0) = value;
    }

    [JitTwin(nameof(CallRelative64), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CallRelative64Jit(Cpu cpu, ulong Disp)
    {
        ulong ret = cpu._nextRip;
        ulong sp = cpu._gpr[Gpr.Rsp] - 8;
        cpu.Write64(sp, ret); // 64-bit mode: SS base 0, no wrap (Cpu.Linear)
        cpu._gpr[Gpr.Rsp] = sp;
        cpu._nextRip = ret + Disp;
    }

    [JitTwin(nameof(Ret64), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Ret64Jit(Cpu cpu)
    {
        ulong sp = cpu._gpr[Gpr.Rsp];
        ulong target = cpu.Read64(sp); // 64-bit mode: SS base 0, no wrap (Cpu.Linear)
        cpu._gpr[Gpr.Rsp] = sp + 8;
        cpu._nextRip = target;
    }

    [JitTwin(nameof(PushReg32), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PushReg32Jit(Cpu cpu, ref DecodedOp op, byte Reg0)
    {
        if (cpu._stackSize != 4)
        {
            Push(cpu, ref op);
            return;
        }

        Push32(cpu, (uint)cpu.GprRef(Reg0));
    }

    [JitTwin(nameof(PushImm32), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PushImm32Jit(Cpu cpu, ref DecodedOp op, ulong Imm)
    {
        if (cpu._stackSize != 4)
        {
            Push(cpu, ref op);
            return;
        }

        Push32(cpu, (uint)Imm);
    }

    [JitTwin(nameof(PopReg32), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PopReg32Jit(Cpu cpu, ref DecodedOp op, byte Reg0)
    {
        if (cpu._stackSize != 4)
        {
            Pop(cpu, ref op);
            return;
        }

        cpu.GprRef(Reg0) = Pop32(cpu);
    }

    [JitTwin(nameof(CallRelative32), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CallRelative32Jit(Cpu cpu, ref DecodedOp op, ulong Disp)
    {
        if (cpu._stackSize != 4)
        {
            CallRelative(cpu, ref op);
            return;
        }

        ulong ret = cpu._nextRip;
        Push32(cpu, (uint)ret);
        cpu._nextRip = (uint)(ret + Disp);
    }

    [JitTwin(nameof(Ret32), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Ret32Jit(Cpu cpu, ref DecodedOp op)
    {
        if (cpu._stackSize != 4)
        {
            RetNear(cpu, ref op);
            return;
        }

        cpu._nextRip = Pop32(cpu);
    }

    [JitTwin(nameof(Leave), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LeaveJit(Cpu cpu, byte OpSize)
    {
        int size = OpSize;
        ulong bp = cpu.StackMask(cpu._gpr[Gpr.Rbp]);
        ulong v = cpu.ReadSized(cpu.Linear(Seg.Ss, bp), size);
        cpu.SetSp(bp + (ulong)size);
        cpu.WriteGpr(Gpr.Rbp, size, v);
    }

    /// <summary><see cref="Push(Cpu, ref DecodedOp)"/>: PUSH r/m and the forms without a handler of their own.</summary>
    [JitTwin(nameof(Push), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PushJit(Cpu cpu, byte OpSize, OperandKind Kind0, byte Reg0, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
    {
        int size = OpSize;
        cpu.Push(size, cpu.ReadOperand(size, Kind0, Reg0, Imm, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness));
    }

    [JitTwin(nameof(CallIndirect), FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CallIndirectJit(Cpu cpu, byte OpSize, OperandKind Kind0, byte Reg0, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness)
    {
        int size = OpSize;
        ulong target = cpu.ReadOperand(size, Kind0, Reg0, Imm, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness);
        cpu.Push(size, cpu._nextRip);
        cpu._nextRip = Cpu.IpMask(target, size);
    }

    [JitTwin(nameof(JmpIndirect), PureWithoutMemory = true, FlagsWritten = TwinFlags.None)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void JmpIndirectJit(Cpu cpu, byte OpSize, OperandKind Kind0, byte Reg0, ulong Imm, byte MemBase, byte MemIndex, byte MemScaleShift, ulong Disp, byte EaMaskShift, byte MemSeg, ulong nextRip, int bitness) =>
        cpu._nextRip = Cpu.IpMask(cpu.ReadOperand(OpSize, Kind0, Reg0, Imm, MemBase, MemIndex, MemScaleShift, Disp, EaMaskShift, MemSeg, nextRip, bitness), OpSize);
}
