using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Which width and operation each MMX and SSE2 integer form runs (Iced <see cref="Code"/> to
/// handler). The XMM forms' m128 alignment follows QEMU 7.2's decode table
/// (target/i386/tcg/decode-new.c.inc <c>opcodes_0F</c> and <c>sse_needs_alignment</c>): class vex4
/// forms check it (<see cref="Xmm"/>), vex7 forms — PSRAW, PSRAD, PSLLW, PSLLD, PSLLQ by a register
/// count — do not (<see cref="XmmUnaligned"/>); an MMX m64 is never checked. docs/cpu-simd.md.
/// </summary>
internal static unsafe partial class Handlers
{
    private static void RegisterSimdIntegerForms(HandlerRegistry r)
    {
        Pair<AddB, Xmm>(r, Code.Paddb_mm_mmm64, Code.Paddb_xmm_xmmm128);
        Pair<AddW, Xmm>(r, Code.Paddw_mm_mmm64, Code.Paddw_xmm_xmmm128);
        Pair<AddD, Xmm>(r, Code.Paddd_mm_mmm64, Code.Paddd_xmm_xmmm128);
        Pair<AddQ, Xmm>(r, Code.Paddq_mm_mmm64, Code.Paddq_xmm_xmmm128);
        Pair<SubB, Xmm>(r, Code.Psubb_mm_mmm64, Code.Psubb_xmm_xmmm128);
        Pair<SubW, Xmm>(r, Code.Psubw_mm_mmm64, Code.Psubw_xmm_xmmm128);
        Pair<SubD, Xmm>(r, Code.Psubd_mm_mmm64, Code.Psubd_xmm_xmmm128);
        Pair<SubQ, Xmm>(r, Code.Psubq_mm_mmm64, Code.Psubq_xmm_xmmm128);
        Pair<AddSatSB, Xmm>(r, Code.Paddsb_mm_mmm64, Code.Paddsb_xmm_xmmm128);
        Pair<AddSatSW, Xmm>(r, Code.Paddsw_mm_mmm64, Code.Paddsw_xmm_xmmm128);
        Pair<AddSatUB, Xmm>(r, Code.Paddusb_mm_mmm64, Code.Paddusb_xmm_xmmm128);
        Pair<AddSatUW, Xmm>(r, Code.Paddusw_mm_mmm64, Code.Paddusw_xmm_xmmm128);
        Pair<SubSatSB, Xmm>(r, Code.Psubsb_mm_mmm64, Code.Psubsb_xmm_xmmm128);
        Pair<SubSatSW, Xmm>(r, Code.Psubsw_mm_mmm64, Code.Psubsw_xmm_xmmm128);
        Pair<SubSatUB, Xmm>(r, Code.Psubusb_mm_mmm64, Code.Psubusb_xmm_xmmm128);
        Pair<SubSatUW, Xmm>(r, Code.Psubusw_mm_mmm64, Code.Psubusw_xmm_xmmm128);
        Pair<CmpEqB, Xmm>(r, Code.Pcmpeqb_mm_mmm64, Code.Pcmpeqb_xmm_xmmm128);
        Pair<CmpEqW, Xmm>(r, Code.Pcmpeqw_mm_mmm64, Code.Pcmpeqw_xmm_xmmm128);
        Pair<CmpEqD, Xmm>(r, Code.Pcmpeqd_mm_mmm64, Code.Pcmpeqd_xmm_xmmm128);
        Pair<CmpGtB, Xmm>(r, Code.Pcmpgtb_mm_mmm64, Code.Pcmpgtb_xmm_xmmm128);
        Pair<CmpGtW, Xmm>(r, Code.Pcmpgtw_mm_mmm64, Code.Pcmpgtw_xmm_xmmm128);
        Pair<CmpGtD, Xmm>(r, Code.Pcmpgtd_mm_mmm64, Code.Pcmpgtd_xmm_xmmm128);
        Pair<MinUB, Xmm>(r, Code.Pminub_mm_mmm64, Code.Pminub_xmm_xmmm128);
        Pair<MaxUB, Xmm>(r, Code.Pmaxub_mm_mmm64, Code.Pmaxub_xmm_xmmm128);
        Pair<MinSW, Xmm>(r, Code.Pminsw_mm_mmm64, Code.Pminsw_xmm_xmmm128);
        Pair<MaxSW, Xmm>(r, Code.Pmaxsw_mm_mmm64, Code.Pmaxsw_xmm_xmmm128);
        Pair<AvgB, Xmm>(r, Code.Pavgb_mm_mmm64, Code.Pavgb_xmm_xmmm128);
        Pair<AvgW, Xmm>(r, Code.Pavgw_mm_mmm64, Code.Pavgw_xmm_xmmm128);
        Pair<MulLowW, Xmm>(r, Code.Pmullw_mm_mmm64, Code.Pmullw_xmm_xmmm128);
        Pair<MulHighW, Xmm>(r, Code.Pmulhw_mm_mmm64, Code.Pmulhw_xmm_xmmm128);
        Pair<MulHighUW, Xmm>(r, Code.Pmulhuw_mm_mmm64, Code.Pmulhuw_xmm_xmmm128);
        Pair<MulUDQ, Xmm>(r, Code.Pmuludq_mm_mmm64, Code.Pmuludq_xmm_xmmm128);
        Pair<MulAddWD, Xmm>(r, Code.Pmaddwd_mm_mmm64, Code.Pmaddwd_xmm_xmmm128);
        Pair<SumAbsDiff, Xmm>(r, Code.Psadbw_mm_mmm64, Code.Psadbw_xmm_xmmm128);
        Pair<BitAnd, Xmm>(r, Code.Pand_mm_mmm64, Code.Pand_xmm_xmmm128);
        Pair<BitAndNot, Xmm>(r, Code.Pandn_mm_mmm64, Code.Pandn_xmm_xmmm128);
        Pair<BitOr, Xmm>(r, Code.Por_mm_mmm64, Code.Por_xmm_xmmm128);
        Pair<BitXor, Xmm>(r, Code.Pxor_mm_mmm64, Code.Pxor_xmm_xmmm128);
        Pair<PackSSWB, Xmm>(r, Code.Packsswb_mm_mmm64, Code.Packsswb_xmm_xmmm128);
        Pair<PackSSDW, Xmm>(r, Code.Packssdw_mm_mmm64, Code.Packssdw_xmm_xmmm128);
        Pair<PackUSWB, Xmm>(r, Code.Packuswb_mm_mmm64, Code.Packuswb_xmm_xmmm128);

        // The low unpacks' MMX source is m32 in the SDM; QEMU 7.2 loads all 64 bits (W,x at MO_64).
        Pair<UnpackLowB, Xmm>(r, Code.Punpcklbw_mm_mmm32, Code.Punpcklbw_xmm_xmmm128);
        Pair<UnpackLowW, Xmm>(r, Code.Punpcklwd_mm_mmm32, Code.Punpcklwd_xmm_xmmm128);
        Pair<UnpackLowD, Xmm>(r, Code.Punpckldq_mm_mmm32, Code.Punpckldq_xmm_xmmm128);
        Pair<UnpackHighB, Xmm>(r, Code.Punpckhbw_mm_mmm64, Code.Punpckhbw_xmm_xmmm128);
        Pair<UnpackHighW, Xmm>(r, Code.Punpckhwd_mm_mmm64, Code.Punpckhwd_xmm_xmmm128);
        Pair<UnpackHighD, Xmm>(r, Code.Punpckhdq_mm_mmm64, Code.Punpckhdq_xmm_xmmm128);
        r.Add(Code.Punpcklqdq_xmm_xmmm128, &SimdBinary<Xmm, UnpackLowQ>);
        r.Add(Code.Punpckhqdq_xmm_xmmm128, &SimdBinary<Xmm, UnpackHighQ>);

        // The bitwise FP forms share PAND..PXOR's bodies; QEMU 7.2 runs them on a misaligned m128 (measured).
        r.Add(Code.Andps_xmm_xmmm128, &SimdBinary<XmmUnaligned, BitAnd>);
        r.Add(Code.Andpd_xmm_xmmm128, &SimdBinary<XmmUnaligned, BitAnd>);
        r.Add(Code.Andnps_xmm_xmmm128, &SimdBinary<XmmUnaligned, BitAndNot>);
        r.Add(Code.Andnpd_xmm_xmmm128, &SimdBinary<XmmUnaligned, BitAndNot>);
        r.Add(Code.Orps_xmm_xmmm128, &SimdBinary<XmmUnaligned, BitOr>);
        r.Add(Code.Orpd_xmm_xmmm128, &SimdBinary<XmmUnaligned, BitOr>);
        r.Add(Code.Xorps_xmm_xmmm128, &SimdBinary<XmmUnaligned, BitXor>);
        r.Add(Code.Xorpd_xmm_xmmm128, &SimdBinary<XmmUnaligned, BitXor>);

        // Shifts by a register or memory count: PSRL* are vex4 (aligned), PSRA* and PSLL* vex7.
        Pair<ShrW, Xmm>(r, Code.Psrlw_mm_mmm64, Code.Psrlw_xmm_xmmm128);
        Pair<ShrD, Xmm>(r, Code.Psrld_mm_mmm64, Code.Psrld_xmm_xmmm128);
        Pair<ShrQ, Xmm>(r, Code.Psrlq_mm_mmm64, Code.Psrlq_xmm_xmmm128);
        Pair<SarW, XmmUnaligned>(r, Code.Psraw_mm_mmm64, Code.Psraw_xmm_xmmm128);
        Pair<SarD, XmmUnaligned>(r, Code.Psrad_mm_mmm64, Code.Psrad_xmm_xmmm128);
        Pair<ShlW, XmmUnaligned>(r, Code.Psllw_mm_mmm64, Code.Psllw_xmm_xmmm128);
        Pair<ShlD, XmmUnaligned>(r, Code.Pslld_mm_mmm64, Code.Pslld_xmm_xmmm128);
        Pair<ShlQ, XmmUnaligned>(r, Code.Psllq_mm_mmm64, Code.Psllq_xmm_xmmm128);
        ImmPair<ShrW>(r, Code.Psrlw_mm_imm8, Code.Psrlw_xmm_imm8);
        ImmPair<ShrD>(r, Code.Psrld_mm_imm8, Code.Psrld_xmm_imm8);
        ImmPair<ShrQ>(r, Code.Psrlq_mm_imm8, Code.Psrlq_xmm_imm8);
        ImmPair<SarW>(r, Code.Psraw_mm_imm8, Code.Psraw_xmm_imm8);
        ImmPair<SarD>(r, Code.Psrad_mm_imm8, Code.Psrad_xmm_imm8);
        ImmPair<ShlW>(r, Code.Psllw_mm_imm8, Code.Psllw_xmm_imm8);
        ImmPair<ShlD>(r, Code.Pslld_mm_imm8, Code.Pslld_xmm_imm8);
        ImmPair<ShlQ>(r, Code.Psllq_mm_imm8, Code.Psllq_xmm_imm8);

        r.Add(Code.Movd_mm_rm32, &MovdToSimd<Mmx>);
        r.Add(Code.Movq_mm_rm64, &MovdToSimd<Mmx>);
        r.Add(Code.Movd_xmm_rm32, &MovdToSimd<Xmm>);
        r.Add(Code.Movq_xmm_rm64, &MovdToSimd<Xmm>);
        r.Add(Code.Movd_rm32_mm, &MovdFromSimd<Mmx>);
        r.Add(Code.Movq_rm64_mm, &MovdFromSimd<Mmx>);
        r.Add(Code.Movd_rm32_xmm, &MovdFromSimd<Xmm>);
        r.Add(Code.Movq_rm64_xmm, &MovdFromSimd<Xmm>);
        r.Add(Code.Movq_mm_mmm64, &MovqMmx);
        r.Add(Code.Movq_mmm64_mm, &MovqMmx);
        r.Add(Code.Movntq_m64_mm, &MovqMmx);
        r.Add(Code.Movq2dq_xmm_mm, &Movq2dq);
        r.Add(Code.Movdq2q_mm_xmm, &Movdq2q);
        r.Add(Code.Emms, &Emms);
        r.Add(Code.Pshufw_mm_mmm64_imm8, &Pshufw);
        r.Add(Code.Pinsrw_mm_r32m16_imm8, &Pinsrw<Mmx>);
        r.Add(Code.Pinsrw_mm_r64m16_imm8, &Pinsrw<Mmx>);
        r.Add(Code.Pinsrw_xmm_r32m16_imm8, &Pinsrw<Xmm>);
        r.Add(Code.Pinsrw_xmm_r64m16_imm8, &Pinsrw<Xmm>);
        r.Add(Code.Pextrw_r32_mm_imm8, &Pextrw<Mmx>);
        r.Add(Code.Pextrw_r64_mm_imm8, &Pextrw<Mmx>);
        r.Add(Code.Pextrw_r32_xmm_imm8, &Pextrw<Xmm>);
        r.Add(Code.Pextrw_r64_xmm_imm8, &Pextrw<Xmm>);
        r.Add(Code.Pmovmskb_r32_mm, &Pmovmskb<Mmx>);
        r.Add(Code.Pmovmskb_r64_mm, &Pmovmskb<Mmx>);
        r.Add(Code.Pmovmskb_r32_xmm, &Pmovmskb<Xmm>);
        r.Add(Code.Pmovmskb_r64_xmm, &Pmovmskb<Xmm>);
        r.Add(Code.Maskmovq_rDI_mm_mm, &Maskmov<Mmx>);
        r.Add(Code.Maskmovdqu_rDI_xmm_xmm, &Maskmov<XmmUnaligned>);
    }

    /// <summary>An operation's MMX form and its SSE form (<typeparamref name="TXmm"/>: the SSE form's m128 alignment rule).</summary>
    private static void Pair<TOp, TXmm>(HandlerRegistry r, Code mmx, Code xmm)
        where TOp : struct, ISimdOp
        where TXmm : struct, ISimdWidth
    {
        r.Add(mmx, &SimdBinary<Mmx, TOp>);
        r.Add(xmm, &SimdBinary<TXmm, TOp>);
    }

    private static void ImmPair<TOp>(HandlerRegistry r, Code mmx, Code xmm)
        where TOp : struct, ISimdOp
    {
        r.Add(mmx, &SimdShiftImm<Mmx, TOp>);
        r.Add(xmm, &SimdShiftImm<Xmm, TOp>);
    }
}
