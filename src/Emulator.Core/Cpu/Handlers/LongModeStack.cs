using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The 64-bit-mode forms of PUSH reg, POP reg, CALL rel32 and RET: together about 50 million of
/// the boot's instructions. These encodings exist only in 64-bit mode, where the stack is always
/// 64 bits wide (SDM Vol. 1, 6.2.5: no SS.B, no 16-bit wrap) and the operand size is 64, so the
/// width switches of the general handlers (<see cref="Cpu.Push"/>, <see cref="Cpu.StackMask"/>,
/// <see cref="Cpu.SetSp"/>) fold away. Order of effects is the general handlers': the stack
/// access first (it may fault), then RSP, then the register or RIP.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterLongModeStack(HandlerRegistry r)
    {
        r.Add(Code.Push_r64, &PushReg64);
        r.Add(Code.Pop_r64, &PopReg64);
        r.Add(Code.Call_rel32_64, &CallRelative64);
        r.Add(Code.Retnq, &Ret64);
    }

    private static void PushReg64(Cpu cpu, ref DecodedOp op)
    {
        ulong value = cpu.GprRef(op.Reg0);
        ulong sp = cpu._gpr[Gpr.Rsp] - 8;
        cpu.Write64(cpu.Linear(Seg.Ss, sp), value);
        cpu._gpr[Gpr.Rsp] = sp;
    }

    /// <summary>POP reg: RSP moves before the register is written, so POP RSP loads the popped value.</summary>
    private static void PopReg64(Cpu cpu, ref DecodedOp op)
    {
        ulong sp = cpu._gpr[Gpr.Rsp];
        ulong value = cpu.Read64(cpu.Linear(Seg.Ss, sp));
        cpu._gpr[Gpr.Rsp] = sp + 8;
        cpu.GprRef(op.Reg0) = value;
    }

    private static void CallRelative64(Cpu cpu, ref DecodedOp op)
    {
        ulong ret = cpu._nextRip;
        ulong sp = cpu._gpr[Gpr.Rsp] - 8;
        cpu.Write64(cpu.Linear(Seg.Ss, sp), ret);
        cpu._gpr[Gpr.Rsp] = sp;
        cpu._nextRip = ret + op.Disp;
    }

    private static void Ret64(Cpu cpu, ref DecodedOp op)
    {
        ulong sp = cpu._gpr[Gpr.Rsp];
        ulong target = cpu.Read64(cpu.Linear(Seg.Ss, sp));
        cpu._gpr[Gpr.Rsp] = sp + 8;
        cpu._nextRip = target;
    }
}
