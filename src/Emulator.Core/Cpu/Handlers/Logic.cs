using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// AND, OR, XOR, TEST, NOT (Intel SDM Vol. 2). The logic operations clear CF and OF and set
/// ZF/SF/PF from the result; AF is undefined and, as in QEMU, cleared. NOT changes no flag.
/// AND, OR, TEST and XOR's immediate forms run the operations in <c>AluForms.cs</c>; XOR's
/// register forms are here for the zeroing idiom.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterLogic(HandlerRegistry r)
    {
        r.Add(Mnemonic.Xor,  &Xor<S1>,  &Xor<S2>,  &Xor<S4>,  &Xor<S8>);
        r.Add(Mnemonic.Not,  &Not<S1>,  &Not<S2>,  &Not<S4>,  &Not<S8>);
        RegisterAluForms<AndOp>(r, Mnemonic.And);
        RegisterAluForms<OrOp>(r, Mnemonic.Or);
        RegisterAluForms<XorOp>(r, Mnemonic.Xor, registerOperandForms: false);
        RegisterAluForms<TestOp>(r, Mnemonic.Test);

        // F6 /1 and F7 /1, an undocumented alias of TEST on real CPUs, are #UD on QEMU 7.2 (its
        // group-3 decoder has no case 1); the reference machine decides.
        r.Add(Code.Test_rm8_imm8_F6r1,   &TestAlias);
        r.Add(Code.Test_rm16_imm16_F7r1, &TestAlias);
        r.Add(Code.Test_rm32_imm32_F7r1, &TestAlias);
        r.Add(Code.Test_rm64_imm32_F7r1, &TestAlias);
    }

    /// <summary>
    /// F6/F7 /1: QEMU's group 3 loads a memory operand before it switches on /r (disas_insn,
    /// case 0xf6/0xf7), so the load's fault (#GP for a non-canonical address, #PF) comes first;
    /// then the missing case 1 is #UD.
    /// </summary>
    private static void TestAlias(Cpu cpu, ref DecodedOp op)
    {
        if (op.Kind0 == OperandKind.Memory)
        {
            cpu.ReadOp0(ref op, op.OpSize);
        }

        throw new GuestFault(Vector.UD);
    }

    private static void Xor<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        XorJit<S>(cpu, op.Kind0, op.Kind1, op.Reg0, op.Reg1, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness, recordFlags: true);

    private static void Not<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        ulong dst = ReadDest(cpu, ref op, S.Size, out ulong lin);
        WriteDest(cpu, ref op, S.Size, lin, ~dst);
    }
}
