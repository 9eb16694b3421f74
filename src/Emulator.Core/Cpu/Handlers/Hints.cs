using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Hints and no-ops, decoded as QEMU 7.2's TCG decodes them for the <c>qemu64</c> model
/// (target/i386/tcg/translate.c, <c>disas_insn</c>): with one coherent memory and no caches,
/// every accepted form does nothing but may fault, and the decode rules are what matter.
/// <list type="bullet">
/// <item>0F 0D (3DNow! PREFETCH/PREFETCHW, and PREFETCHWT1 and the reserved /3../7 Iced names):
///   a NOP for every memory form with no CPUID check; mod == 3 is #UD.</item>
/// <item>0F 18 (PREFETCHNTA/T0/T1/T2 = /0../3): a NOP for memory operands, #UD for mod == 3;
///   /4../7 are NOPs in both forms (so also PREFETCHIT0/IT1, 0F 18 /7 and /6).</item>
/// <item>0F 19..0F 1F: NOPs whatever the ModRM byte and prefixes say, including 0F 1F /0 (the
///   multi-byte NOP), CLDEMOTE (0F 1C /0), ENDBR32/64 and RDSSPD/Q (F3 0F 1E): qemu64 has no
///   MPX, so 0F 1A/1B are NOPs too (QEMU decodes BND* only with MPX enabled).</item>
/// <item>LFENCE, MFENCE, SFENCE (0F AE E8..FF): barriers with no effect here; SSE and SSE2 are in
///   CPUID.1:EDX. QEMU switches on the ModRM byte only, so the mandatory-prefix forms Iced
///   names INCSSPD/Q (F3 .. E8..EF) and UMONITOR, UMWAIT, TPAUSE (F3/F2/66 .. F0..F7) are
///   LFENCE and MFENCE there.</item>
/// <item>CLFLUSH (0F AE /7): a NOP where the model reports CPUID.1:EDX.CLFSH (qemu64), #UD where
///   it does not (qemu32) or with an F2/F3 prefix (translate.c, CASE_MODRM_MEM_OP(7)). CLFLUSHOPT (66 0F AE /7) and CLWB
///   (66 0F AE /6) are #UD: qemu64 leaves CPUID.7.0:EBX clear.</item>
/// <item>NOP (90, any width) and PAUSE (F3 90): PAUSE only yields the host thread in QEMU.</item>
/// <item>MONITOR and MWAIT (0F 01 C8/C9) are #UD: qemu64 leaves CPUID.1:ECX.MONITOR clear; QEMU
///   has no case at all for AMD's MONITORX and MWAITX (0F 01 FA/FB).</item>
/// </list>
/// A LOCK prefix is no part of these rules for 0F 0D and 0F 18..1F (QEMU never checks it there);
/// the decoder keeps those forms, where Iced rejects them (<see cref="Cpu.QemuRefusesLock"/>).
/// The fences, CLFLUSH and NOP itself (90) are #UD with LOCK, on QEMU as in Iced.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterHints(HandlerRegistry r)
    {
        r.Add(Mnemonic.Nop,              &Nop);
        r.Add(Mnemonic.Pause,            &Pause);
        r.Add(Mnemonic.Reservednop,      &Nop);
        r.Add(Mnemonic.Prefetchnta,      &Nop);
        r.Add(Mnemonic.Prefetcht0,       &Nop);
        r.Add(Mnemonic.Prefetcht1,       &Nop);
        r.Add(Mnemonic.Prefetcht2,       &Nop);
        r.Add(Mnemonic.Prefetchit0,      &Nop);
        r.Add(Mnemonic.Prefetchit1,      &Nop);
        r.Add(Mnemonic.Prefetch,         &Nop);
        r.Add(Mnemonic.Prefetchw,        &Nop);
        r.Add(Mnemonic.Prefetchwt1,      &Nop);
        r.Add(Code.Prefetchreserved3_m8, &Nop);
        r.Add(Code.Prefetchreserved4_m8, &Nop);
        r.Add(Code.Prefetchreserved5_m8, &Nop);
        r.Add(Code.Prefetchreserved6_m8, &Nop);
        r.Add(Code.Prefetchreserved7_m8, &Nop);
        r.Add(Mnemonic.Cldemote,         &Nop);
        r.Add(Mnemonic.Endbr32,          &Nop);
        r.Add(Mnemonic.Endbr64,          &Nop);
        r.Add(Mnemonic.Rdsspd,           &Nop);
        r.Add(Mnemonic.Rdsspq,           &Nop);
        r.Add(Mnemonic.Lfence,           &Nop);
        r.Add(Mnemonic.Mfence,           &Nop);
        r.Add(Mnemonic.Sfence,           &Nop);
        r.Add(Mnemonic.Incsspd,          &Nop);
        r.Add(Mnemonic.Incsspq,          &Nop);
        r.Add(Mnemonic.Umonitor,         &Nop);
        r.Add(Mnemonic.Umwait,           &Nop);
        r.Add(Mnemonic.Tpause,           &Nop);
        r.Add(Code.Clflush_m8,           &Clflush);
        r.Add(Code.Clflushopt_m8,        &Invalid);
        r.Add(Code.Clwb_m8,              &Invalid);
        r.Add(Mnemonic.Monitor,          &Invalid);
        r.Add(Mnemonic.Mwait,            &Invalid);
        r.Add(Mnemonic.Monitorx,         &Invalid);
        r.Add(Mnemonic.Mwaitx,           &Invalid);

        // 0F 0D with a register operand, and 0F 18 /0../3 with one: #UD (the rest of the
        // reserved-NOP space stays a NOP).
        r.Add(Code.Reservednop_rm16_r16_0F0D, &Invalid);
        r.Add(Code.Reservednop_rm32_r32_0F0D, &Invalid);
        r.Add(Code.Reservednop_rm64_r64_0F0D, &Invalid);
        r.Add(Code.Reservednop_rm16_r16_0F18, &ReservedNop0F18);
        r.Add(Code.Reservednop_rm32_r32_0F18, &ReservedNop0F18);
        r.Add(Code.Reservednop_rm64_r64_0F18, &ReservedNop0F18);
    }

    /// <summary>Nothing to do: no flags, no memory access (QEMU computes the address of a hint's memory operand and never touches it).</summary>
    /// <summary>PAUSE: a NOP with its SVM intercept (helper_pause).</summary>
    private static void Pause(Cpu cpu, ref DecodedOp op) => cpu.CheckIntercept(Cpu.SvmExit.Pause);

    internal static void Nop(Cpu cpu, ref DecodedOp op)
    {
    }

    /// <summary>CLFLUSH: nothing to flush, but #UD without CPUID.1:EDX.CLFSH or with a REP prefix, as QEMU 7.2 decodes it.</summary>
    private static void Clflush(Cpu cpu, ref DecodedOp op)
    {
        if ((cpu.Model.Query(1, 0).Edx & (1u << 19)) == 0 || op.Insn.HasRepePrefix || op.Insn.HasRepnePrefix)
        {
            throw new GuestFault(Vector.UD);
        }
    }

    /// <summary>0F 18 outside the four prefetches: a register operand with ModRM.reg 0..3 is a prefetch without memory, #UD.</summary>
    private static void ReservedNop0F18(Cpu cpu, ref DecodedOp op)
    {
        if (op.Kind0 == OperandKind.Gpr && (op.Reg1 & 7) < 4)
        {
            throw new GuestFault(Vector.UD);
        }
    }
}
