using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// BT, BTS, BTR, BTC, BSF, BSR, BSWAP, SETcc, CMOVcc (Intel SDM Vol. 2). qemu64 advertises
/// neither POPCNT nor ABM/BMI1, so POPCNT stays #UD, and the F3-prefixed BSF/BSR encodings Iced
/// reads as TZCNT/LZCNT run as BSF/BSR, as on QEMU 7.2 and on CPUs without those extensions.
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>Condition number (Jcc/SETcc/CMOVcc order, O = 0 … G = 15) of every <see cref="Code"/>.</summary>
    private static readonly byte[] ConditionOfCode = BuildConditionTable();

    internal static void RegisterBits(HandlerRegistry r)
    {
        // None of these has a byte form: the first slot only keeps the table total.
        r.Add(Mnemonic.Bt,    &Bt<S2>,  &Bt<S2>,  &Bt<S4>,  &Bt<S8>);
        r.Add(Mnemonic.Bts,   &Bts<S2>, &Bts<S2>, &Bts<S4>, &Bts<S8>);
        r.Add(Mnemonic.Btr,   &Btr<S2>, &Btr<S2>, &Btr<S4>, &Btr<S8>);
        r.Add(Mnemonic.Btc,   &Btc<S2>, &Btc<S2>, &Btc<S4>, &Btc<S8>);
        r.Add(Mnemonic.Bsf,   &Bsf<S2>, &Bsf<S2>, &Bsf<S4>, &Bsf<S8>);
        r.Add(Mnemonic.Bsr,   &Bsr<S2>, &Bsr<S2>, &Bsr<S4>, &Bsr<S8>);
        r.Add(Code.Tzcnt_r16_rm16, &Bsf<S2>);
        r.Add(Code.Tzcnt_r32_rm32, &Bsf<S4>);
        r.Add(Code.Tzcnt_r64_rm64, &Bsf<S8>);
        r.Add(Code.Lzcnt_r16_rm16, &Bsr<S2>);
        r.Add(Code.Lzcnt_r32_rm32, &Bsr<S4>);
        r.Add(Code.Lzcnt_r64_rm64, &Bsr<S8>);
        r.Add(Code.Bswap_r16, &Bswap32);
        r.Add(Code.Bswap_r32, &Bswap32);
        r.Add(Code.Bswap_r64, &Bswap64);
        foreach (var m in new[]
        {
            Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete, Mnemonic.Setne,
            Mnemonic.Setbe, Mnemonic.Seta, Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp,
            Mnemonic.Setl, Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg,
        })
        {
            r.Add(m, &Setcc);
        }

        foreach (var m in new[]
        {
            Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove, Mnemonic.Cmovne,
            Mnemonic.Cmovbe, Mnemonic.Cmova, Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp, Mnemonic.Cmovnp,
            Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg,
        })
        {
            r.Add(m, &Cmovcc<S2>, &Cmovcc<S2>, &Cmovcc<S4>, &Cmovcc<S8>);
        }
    }

    private static byte[] BuildConditionTable()
    {
        var table = new byte[CodeCount.Value];
        for (int c = 0; c < table.Length; c++)
        {
            var cc = ((Code)c).ConditionCode();
            table[c] = cc == ConditionCode.None ? (byte)0 : (byte)(cc - ConditionCode.o);
        }

        return table;
    }

    private static void Bt<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize => BitTest<S>(cpu, ref op, 0);

    private static void Bts<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize => BitTest<S>(cpu, ref op, 1);

    private static void Btr<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize => BitTest<S>(cpu, ref op, 2);

    private static void Btc<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize => BitTest<S>(cpu, ref op, 3);

    /// <summary>
    /// BT/BTS/BTR/BTC (<paramref name="action"/> 0..3). A register bit offset with a memory
    /// operand addresses beyond it: the signed offset selects the operand-sized word at
    /// EA + (offset >> log2(width)) × size (SDM Vol. 2, BT, "bit base"); an immediate offset is
    /// taken modulo the width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BitTest<S>(Cpu cpu, ref DecodedOp op, int action)
        where S : struct, IOpSize
    {
        int log2 = S.Size switch { 2 => 1, 4 => 2, _ => 3 };
        ulong offset = op.Kind1 == OperandKind.Immediate ? op.Imm : cpu.ReadGpr(op.Reg1, S.Size);
        int bit = (int)offset & (S.Size * 8 - 1);
        ulong lin = 0, value;
        if (op.Kind0 == OperandKind.Gpr)
        {
            // The whole register, as QEMU holds it: its upper bits reach the undefined OF below.
            value = cpu._gpr[op.Reg0];
        }
        else
        {
            ulong ea = cpu.EffectiveAddress(ref op);
            if (op.Kind1 != OperandKind.Immediate)
            {
                ea += (ulong)((SignExtend(offset, S.Size) >> (3 + log2)) << log2);
                ea = op.AddrSize switch { 8 => ea, 4 => (uint)ea, _ => (ushort)ea };
            }

            lin = cpu.Linear(op.MemSeg, ea);
            value = cpu.ReadSized(lin, S.Size);
        }

        ulong shifted = value >> bit;
        if (action != 0)
        {
            ulong mask = 1UL << bit;
            value = action switch { 1 => value | mask, 2 => value & ~mask, _ => value ^ mask };
            WriteDest(cpu, ref op, S.Size, lin, value);
        }

        SetBitTestFlags(cpu, ref op, shifted);
    }

    /// <summary>
    /// CF = the tested bit, ZF unchanged, the rest undefined. QEMU 7.2 keeps the previous result
    /// and width for ZF/SF/PF, clears AF and computes OF = MSB(result XOR value >> bit) when the
    /// flags were held lazily, and replaces only CF when they were materialised; so do we. QEMU
    /// holds them lazily only when the flag-writing instruction is in the same translation
    /// block; at a block start it materialises them.
    /// </summary>
    private static void SetBitTestFlags(Cpu cpu, ref DecodedOp op, ulong shifted)
    {
        if (op.FlagsWrittenInBlock == 0)
        {
            cpu.MaterializeFlags();
        }

        if (cpu._lazy == LazyOp.None)
        {
            cpu._flags = (cpu._flags & ~RFlags.CF) | (shifted & 1);
            return;
        }

        int msb = cpu._lazySize * 8 - 1;
        cpu._lazy = LazyOp.Result;
        cpu._lazyAux = CarryOverflow(shifted, shifted ^ cpu._lazyRes, msb);
    }

    /// <summary>BSF: index of the lowest set bit; a zero source sets ZF and leaves the destination's value (QEMU, hardware).</summary>
    private static void Bsf<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        ulong src = cpu.ReadOp1(ref op, S.Size);
        ulong res = src == 0 ? cpu._gpr[op.Reg0] : (ulong)BitOperations.TrailingZeroCount(src);

        // Written at the operand size even for a zero source: a 32-bit destination is zero-extended, as QEMU does.
        cpu.WriteGpr(op.Reg0, S.Size, res);
        cpu.SetLogicFlags(S.Size, src);
    }

    /// <summary>BSR: index of the highest set bit; a zero source as for BSF.</summary>
    private static void Bsr<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        ulong src = cpu.ReadOp1(ref op, S.Size);
        ulong res = src == 0 ? cpu._gpr[op.Reg0] : (ulong)(63 - BitOperations.LeadingZeroCount(src));
        cpu.WriteGpr(op.Reg0, S.Size, res);
        cpu.SetLogicFlags(S.Size, src);
    }

    /// <summary>BSWAP r32; the 16-bit form (undefined in the SDM) swaps the whole 32-bit register, as QEMU 7.2 does.</summary>
    private static void Bswap32(Cpu cpu, ref DecodedOp op) =>
        cpu.WriteGpr(op.Reg0, 4, BinaryPrimitives.ReverseEndianness((uint)cpu._gpr[op.Reg0]));

    private static void Bswap64(Cpu cpu, ref DecodedOp op) =>
        cpu._gpr[op.Reg0] = BinaryPrimitives.ReverseEndianness(cpu._gpr[op.Reg0]);

    private static void Setcc(Cpu cpu, ref DecodedOp op) =>
        SetccJit(cpu, (int)op.Insn.Code, op.Kind0, op.Reg0, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    /// <summary>
    /// CMOVcc: the source is read (and may fault) whatever the condition, and the destination is
    /// always written, so a 32-bit CMOV zero-extends its register even when the condition is false.
    /// </summary>
    private static void Cmovcc<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        CmovccJit<S>(cpu, (int)op.Insn.Code, op.Kind1, op.Reg0, op.Reg1, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);
}
