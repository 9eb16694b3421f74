using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The 64-bit-mode forms of PUSH reg, POP reg, CALL rel32 and RET: together about 50 million of
/// the boot's instructions. These encodings exist only in 64-bit mode, where the stack is always
/// 64 bits wide (SDM Vol. 1, 6.2.5: no SS.B, no 16-bit wrap) and the operand size is 64, so the
/// width switches of the general handlers (<see cref="Cpu.Push"/>, <see cref="Cpu.StackMask"/>,
/// <see cref="Cpu.SetSp"/>) fold away. The 32-bit forms (the 4 MB build's IA32 SEC and PEI pass
/// arguments on the stack) take the same shortcut when the stack is 32 bits wide (SS.B set) and
/// fall back to the general handlers otherwise. Order of effects is the general handlers': the
/// stack access first (it may fault), then RSP, then the register or RIP.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterLongModeStack(HandlerRegistry r)
    {
        r.Add(Code.Push_r64, &PushReg64);
        r.Add(Code.Pop_r64, &PopReg64);
        r.Add(Code.Call_rel32_64, &CallRelative64);
        r.Add(Code.Retnq, &Ret64);
        r.Add(Code.Push_r32, &PushReg32);
        r.Add(Code.Pushd_imm32, &PushImm32);
        r.Add(Code.Pushd_imm8, &PushImm32);
        r.Add(Code.Pop_r32, &PopReg32);
        r.Add(Code.Call_rel32_32, &CallRelative32);
        r.Add(Code.Retnd, &Ret32);
    }

    private static void PushReg32(Cpu cpu, ref DecodedOp op) =>
        PushReg32Jit(cpu, ref op, op.Reg0);

    private static void PushImm32(Cpu cpu, ref DecodedOp op) =>
        PushImm32Jit(cpu, ref op, op.Imm);

    private static void PopReg32(Cpu cpu, ref DecodedOp op) =>
        PopReg32Jit(cpu, ref op, op.Reg0);

    private static void CallRelative32(Cpu cpu, ref DecodedOp op) =>
        CallRelative32Jit(cpu, ref op, op.Disp);

    private static void Ret32(Cpu cpu, ref DecodedOp op) =>
        Ret32Jit(cpu, ref op);

    /// <summary>A 4-byte pop from a 32-bit stack: the read first (it may fault), then ESP, wrapping at 4 GiB.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Pop32(Cpu cpu)
    {
        ulong sp = cpu._gpr[Gpr.Rsp];
        uint value = cpu.Read32(cpu.Linear(Seg.Ss, (uint)sp));
        cpu._gpr[Gpr.Rsp] = (uint)(sp + 4);
        return value;
    }

    /// <summary>A 4-byte push on a 32-bit stack: ESP wraps at 4 GiB and the upper half of RSP is cleared, as <see cref="Cpu.SetSp"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Push32(Cpu cpu, uint value)
    {
        uint sp = (uint)(cpu._gpr[Gpr.Rsp] - 4);
        cpu.Write32(cpu.Linear(Seg.Ss, sp), value);
        cpu._gpr[Gpr.Rsp] = sp;
    }

    private static void PushReg64(Cpu cpu, ref DecodedOp op) =>
        PushReg64Jit(cpu, op.Reg0);

    /// <summary>POP reg: RSP moves before the register is written, so POP RSP loads the popped value.</summary>
    private static void PopReg64(Cpu cpu, ref DecodedOp op) =>
        PopReg64Jit(cpu, op.Reg0);

    private static void CallRelative64(Cpu cpu, ref DecodedOp op) =>
        CallRelative64Jit(cpu, op.Disp);

    private static void Ret64(Cpu cpu, ref DecodedOp op) =>
        Ret64Jit(cpu);
}
