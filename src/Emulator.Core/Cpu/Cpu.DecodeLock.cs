using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Which instructions QEMU 7.2 runs with a LOCK prefix. The SDM allows LOCK only on the
/// read-modify-write forms with a memory destination and raises #UD for everything else; QEMU's
/// decoder (target/i386/tcg/translate.c, disas_insn, as Debian's 7.2 with the 7.2.x stable
/// patches builds it) has no such general rule: it records LOCK as a prefix and only some
/// paths look at it. Everything QEMU does not refuse runs as without LOCK (MOV, XCHG and XADD
/// between registers, the shifts, IMUL, LAHF, DAS, PUSH, string instructions, x87 …).
/// QEMU raises #UD for LOCK on:
/// <list type="bullet">
/// <item>gen_op (the ALU group ADD/OR/ADC/SBB/AND/SUB/XOR/CMP in 00–3F and 80–83): a register
///   destination, and CMP always ("Invalid lock prefix when destination is not memory or
///   OP_CMPL", the 7.2.x stable fix); except the XOR r, r zeroing idiom, which disas_insn
///   handles before gen_op (xor_zero).</item>
/// <item>gen_inc (INC/DEC 40–4F, FE/FF /0 /1) with a register destination; NOT and NEG
///   (F6/F7 /2 /3) and CMPXCHG (0F B0/B1) with a register.</item>
/// <item>90 (NOP, PAUSE, and XCHG r8, rAX with REX.B: the LOCK test comes first, "XXX: correct
///   lock test for all insn").</item>
/// <item>Everything disas_insn_new decodes (0F 10–17, 28–2F, 38–3A, 50–79, 7C–7F, C2, C4–C6,
///   D0–FE: SSE, MMX) and VEX, except where operand 0 is integer memory (decode-new.c.inc
///   refuses LOCK unless decode.op[0] is X86_OP_INT with an address): MOVD/MOVQ r/m, xmm
///   (66 0F 7E, type E) with a memory destination runs with LOCK, and stores nothing: the LOCK
///   path calls the operation without gen_writeback. The M-type stores (MOVLPS, MOVNTPS …)
///   carry no unit (X86_OP_SKIP) and are refused.</item>
/// <item>0F AE except LDMXCSR/STMXCSR (FXSAVE, FXRSTOR, XSAVE*, CLFLUSH, the fences, RDFSBASE …),
///   POPCNT, RDRAND/RDSEED, XGETBV/XSETBV, RDPKRU/WRPKRU.</item>
/// </list>
/// BT/BTS/BTR/BTC with a register and LOCK are not matched: QEMU's LOCK path then reads or
/// atomically updates memory at a stale address (bt_op uses A0, which the register form never
/// set; BTS/BTR/BTC abort TCG, "tcg fatal error"), so emu keeps the SDM's #UD
/// (docs/cpu-fuzzer.md). The decision is made once per decoded instruction, when a block is
/// built (<see cref="DecodeAsQemu"/>): executing costs nothing.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>
    /// Whether QEMU 7.2 raises #UD for <paramref name="insn"/> (decoded without its LOCK
    /// prefix, valid without it) when LOCK precedes it.
    /// </summary>
    internal static bool QemuRefusesLock(in Instruction insn)
    {
        var info = insn.Code.ToOpCode();
        if (info.Encoding != EncodingKind.Legacy)
        {
            return true;
        }

        uint opcode = PrimaryOpcode(info);
        bool registerDestination = insn.OpCount > 0 && insn.Op0Kind == OpKind.Register;
        return info.Table switch
        {
            OpCodeTableKind.Normal => RefusesLockOneByte(in insn, opcode, info.GroupIndex, registerDestination),
            OpCodeTableKind.T0F => RefusesLockTwoByte(in insn, opcode, info.GroupIndex, registerDestination),
            _ => true,
        };
    }

    /// <summary>
    /// An MMX form of the new decoder (an MM register operand) that QEMU refuses with LOCK: it
    /// validates the form (CR0.TS #NM, CR0.EM #UD) and calls gen_helper_enter_mmx before it looks
    /// at LOCK (decode-new.c.inc, disas_insn_new: validate_vex, enter_mmx, gen_load_ea — an address
    /// only —, then the PREFIX_LOCK test), so the #UD comes with TOP = 0 and every tag valid.
    /// </summary>
    internal static bool QemuEntersMmxBeforeRefusingLock(in Instruction insn)
    {
        // With 66/F2/F3 (MOVQ2DQ, MOVDQ2Q, the 66 conversions) QEMU skips enter_mmx here. So it
        // does for CVTPI2PS, CVT[T]PS2PI (0F 2A/2C/2D): their entries are not X86_SPECIAL_MMX,
        // they enter MMX state in the generator (gen_CVTPI2Px …), which LOCK never reaches.
        var info = insn.Code.ToOpCode();
        if (info.Encoding != EncodingKind.Legacy || info.Table != OpCodeTableKind.T0F
            || info.MandatoryPrefix is not (MandatoryPrefix.None or MandatoryPrefix.PNP)
            || PrimaryOpcode(info) is 0x2A or 0x2C or 0x2D)
        {
            return false;
        }

        for (int i = 0; i < insn.OpCount; i++)
        {
            if (insn.GetOpKind(i) == OpKind.Register && insn.GetOpRegister(i).IsMM())
            {
                return QemuRefusesLock(in insn);
            }
        }

        return false;
    }

    /// <summary>
    /// An SSE form of the new decoder that QEMU refuses with LOCK: its table entry has an
    /// exception class, and disas_insn_new runs validate_vex (#UD without CR4.OSFXSR, #NM with
    /// CR0.TS, #UD with CR0.EM) before the PREFIX_LOCK test, so with CR0.TS the answer is #NM.
    /// Not the forms qemu64 lacks (has_cpuid_feature comes first: #UD), the MMX forms
    /// (<see cref="QemuEntersMmxBeforeRefusingLock"/>), nor the entries without a class: EMMS,
    /// MOVQ2DQ/MOVDQ2Q (MMX operands) and CVTPI2PS/PD, CVT[T]PS2PI/PD2PI (0F 2A/2C/2D without
    /// F2/F3; their memory forms have no MMX operand).
    /// </summary>
    internal static bool QemuChecksSseBeforeRefusingLock(in Instruction insn)
    {
        var info = insn.Code.ToOpCode();
        if (info.Encoding != EncodingKind.Legacy || info.Table != OpCodeTableKind.T0F || insn.Code == Code.Emms
            || !insn.Code.CpuidFeatures().All(f => f is CpuidFeature.SSE or CpuidFeature.SSE2 or CpuidFeature.SSE3 or CpuidFeature.X64)
            || (PrimaryOpcode(info) is 0x2A or 0x2C or 0x2D && info.MandatoryPrefix is MandatoryPrefix.None or MandatoryPrefix.PNP or MandatoryPrefix.P66))
        {
            return false;
        }

        for (int i = 0; i < insn.OpCount; i++)
        {
            if (insn.GetOpKind(i) == OpKind.Register && insn.GetOpRegister(i).IsMM())
            {
                return false;
            }
        }

        return PrimaryOpcode(info) is >= 0x10 and <= 0x17 or >= 0x28 and <= 0x2F or >= 0x50 and <= 0x7F
            or 0xC2 or >= 0xC4 and <= 0xC6 or >= 0xD0 and <= 0xFE && QemuRefusesLock(in insn);
    }

    /// <summary>
    /// An ALU form with a register destination and a memory source (ADD … CMP r, r/m: 02/03,
    /// 0A/0B … 3A/3B) that QEMU refuses with LOCK: disas_insn's "OP Gv, Ev" case loads the source
    /// (gen_op_ld_v) before gen_op tests the prefix, so a fault of that load (#GP, #SS, #PF) comes
    /// first and #UD only after it.
    /// </summary>
    internal static bool QemuLoadsSourceBeforeRefusingLock(in Instruction insn)
    {
        var info = insn.Code.ToOpCode();
        return info.Encoding == EncodingKind.Legacy && info.Table == OpCodeTableKind.Normal
            && PrimaryOpcode(info) is var opcode && opcode < 0x40 && (opcode & 7) is 2 or 3
            && insn.Op0Kind == OpKind.Register && insn.Op1Kind == OpKind.Memory;
    }

    /// <summary>
    /// LOCK MOVD/MOVQ m, xmm or m, mm (0F 7E and 66 0F 7E, QEMU's MOVD_from with an E,y
    /// destination): QEMU computes the address and writes nothing (no access, so no fault
    /// either). Not the other MOVQ stores, 0F 7F (MOVDQ W,x) and 66 0F D6 (MOVQ W,x): an SSE/MMX
    /// destination, which disas_insn_new refuses with LOCK (#UD, after enter_mmx for 0F 7F).
    /// </summary>
    internal static bool QemuLockedStoreDoesNothing(in Instruction insn) =>
        insn.HasLockPrefix && insn.Code is Code.Movd_rm32_mm or Code.Movq_rm64_mm or Code.Movd_rm32_xmm or Code.Movq_rm64_xmm
        && insn.Op0Kind == OpKind.Memory;

    /// <summary>
    /// The opcode byte after the escape: Iced gives the forms whose ModRM byte is part of the
    /// opcode (the fences 0F AE E8–FF, 0F 01 C0–FF) a two-byte opcode, the ModRM in the low byte.
    /// </summary>
    private static uint PrimaryOpcode(OpCodeInfo info) => info.OpCodeLength == 2 ? info.OpCode >> 8 : info.OpCode;

    private static bool RefusesLockOneByte(in Instruction insn, uint opcode, int group, bool registerDestination)
    {
        if (opcode < 0x40 && (opcode & 7) < 6)
        {
            // gen_op: a register destination or CMP; the XOR r, r idiom never reaches it.
            bool zeroingXor = (opcode & 0xFE) is 0x30 or 0x32 && insn.Op0Kind == OpKind.Register
                && insn.Op1Kind == OpKind.Register && insn.Op0Register == insn.Op1Register;
            return !zeroingXor && (registerDestination || (opcode >> 3) == 7);
        }

        return opcode switch
        {
            >= 0x80 and <= 0x83 => registerDestination || group == 7,
            >= 0x40 and <= 0x4F => true, // INC/DEC r outside 64-bit mode (REX there)
            0xFE or 0xFF => group is 0 or 1 && registerDestination,
            0xF6 or 0xF7 => group is 2 or 3 && registerDestination,
            // 90 itself (Iced gives 90+r one opcode): NOP, PAUSE, or XCHG r8, rAX with REX.B.
            0x90 => insn.Mnemonic != Mnemonic.Xchg || (insn.Op0Register.GetFullRegister().GetNumber() & 7) == 0,
            _ => false,
        };
    }

    private static bool RefusesLockTwoByte(in Instruction insn, uint opcode, int group, bool registerDestination) => opcode switch
    {
        // MOVD/MOVQ r/m, xmm (66 0F 7E) and r/m, mm (0F 7E) to memory: accepted, and no store (see
        // QemuLockedStoreDoesNothing); the MMX form still switches to MMX state (gen_helper_enter_mmx).
        0x7E => insn.Op0Kind != OpKind.Memory || insn.Op1Kind != OpKind.Register || !(insn.Op1Register.IsXMM() || insn.Op1Register.IsMM()),
        >= 0x0E and <= 0x17 or >= 0x28 and <= 0x2F or >= 0x38 and <= 0x3A or >= 0x50 and <= 0x79
            or >= 0x7C and <= 0x7F or 0xC2 or >= 0xC4 and <= 0xC6 or >= 0xD0 and <= 0xFE => true,
        0xAE => !(group is 2 or 3 && insn.Op0Kind == OpKind.Memory),
        0xB0 or 0xB1 => registerDestination,
        // BT group with a register: QEMU's result is unpredictable (see the summary); #UD as the SDM.
        0xA3 or 0xAB or 0xB3 or 0xBB or 0xBA => registerDestination,
        0xB8 => true,
        0xC7 => group is 6 or 7,
        0x01 => insn.Mnemonic is Mnemonic.Xgetbv or Mnemonic.Xsetbv or Mnemonic.Rdpkru or Mnemonic.Wrpkru,
        _ => false,
    };
}
