using Emulator.Core.Cpu.Float;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The x87 FPU as QEMU 7.2 TCG executes it (target/i386/tcg/translate.c, case 0xd8 ... 0xdf, and
/// target/i386/tcg/fpu_helper.c; docs/x87.md): 80-bit registers computed by <see cref="SoftFloat80"/>
/// with FCW's rounding and precision control, exception flags merged into FSW with ES/B set while
/// an unmasked one is pending, #MF (CR0.NE=1) or FERR# (CR0.NE=0) only at FWAIT/WAIT and FNOP.
/// As in QEMU, the stack is not checked: a push onto a valid register or a read of an empty one
/// is an ordinary access (no SF, no stack-fault IE), and tags change only by push, pop, FFREE,
/// FNINIT/FSAVE, FLDENV/FRSTOR and FXRSTOR. FIP/FCS are recorded by every non-control instruction
/// and FDP/FDS by its memory operand (shown by FSTENV/FSAVE); FOP is not kept.
/// This file: registration, the stack and status helpers, control instructions, loads and stores.
/// </summary>
internal static unsafe partial class Handlers
{
    private const ushort FswIe = 1 << 0, FswC0 = 1 << 8, FswC1 = 1 << 9, FswC2 = 1 << 10, FswC3 = 1 << 14;
    private const ushort FswEs = 1 << 7, FswBusy = 1 << 15;

    /// <summary>C0, C1, C2 and C3: what FINCSTP, FPREM and FXAM clear first (QEMU's fpus &amp;= ~0x4700).</summary>
    private const ushort FswConditionBits = FswC0 | FswC1 | FswC2 | FswC3;

    internal static void RegisterX87(HandlerRegistry r)
    {
        r.Add(Mnemonic.Fninit, &Fninit);
        r.Add(Mnemonic.Finit, &X87WaitForm);
        r.Add(Mnemonic.Fnclex, &Fnclex);
        r.Add(Mnemonic.Fclex, &X87WaitForm);
        r.Add(Mnemonic.Fldcw, &Fldcw);
        r.Add(Mnemonic.Fnstcw, &Fnstcw);
        r.Add(Mnemonic.Fstcw, &X87WaitForm);
        r.Add(Mnemonic.Fnstsw, &Fnstsw);
        r.Add(Mnemonic.Fstsw, &X87WaitForm);
        r.Add(Code.Wait, &Fwait);
        r.Add(Mnemonic.Fnop, &Fnop);
        r.Add(Mnemonic.Fneni, &X87Legacy);
        r.Add(Mnemonic.Fndisi, &X87Legacy);
        r.Add(Mnemonic.Fnsetpm, &X87Legacy);
        r.Add(Mnemonic.Feni, &X87WaitForm);
        r.Add(Mnemonic.Fdisi, &X87WaitForm);
        r.Add(Mnemonic.Fsetpm, &X87WaitForm);
        r.Add(Mnemonic.Fstpnce, &Fstp);
        r.Add(Mnemonic.Fld, &Fld);
        r.Add(Mnemonic.Fild, &Fld);
        r.Add(Mnemonic.Fbld, &Fbld);
        r.Add(Mnemonic.Fst, &Fst);
        r.Add(Mnemonic.Fstp, &Fstp);
        r.Add(Mnemonic.Fist, &Fist);
        r.Add(Mnemonic.Fistp, &Fistp);
        r.Add(Mnemonic.Fisttp, &Fisttp);
        r.Add(Mnemonic.Fbstp, &Fbstp);
        r.Add(Mnemonic.Fld1, &Fld1);
        r.Add(Mnemonic.Fldz, &Fldz);
        r.Add(Mnemonic.Fldpi, &Fldpi);
        r.Add(Mnemonic.Fldl2e, &Fldl2e);
        r.Add(Mnemonic.Fldl2t, &Fldl2t);
        r.Add(Mnemonic.Fldlg2, &Fldlg2);
        r.Add(Mnemonic.Fldln2, &Fldln2);
        r.Add(Mnemonic.Fxch, &Fxch);
        r.Add(Mnemonic.Ffree, &Ffree);
        r.Add(Mnemonic.Ffreep, &Ffreep);
        r.Add(Mnemonic.Fincstp, &Fincstp);
        r.Add(Mnemonic.Fdecstp, &Fdecstp);
        RegisterX87Arith(r);
        RegisterX87Environment(r);
    }

    /// <summary>FSW as stored: the kept status bits with TOP in bits 13:11.</summary>
    internal static ushort X87StatusWord(FpuState fpu) => fpu.StatusWordWithTop;

    /// <summary>x87 instructions raise #NM when CR0.EM or CR0.TS is set (QEMU: HF_EM_MASK | HF_TS_MASK for D8–DF).</summary>
    private static FpuState X87(Cpu cpu)
    {
        if ((cpu._cr0 & (CrBits.EM | CrBits.TS)) != 0)
        {
            throw new GuestFault(Vector.NM);
        }

        return cpu.Fpu;
    }

    /// <summary>
    /// What QEMU records after a non-control x87 instruction (translate.c update_fip/update_fdp):
    /// FCS:FIP = CS and the instruction's EIP/RIP; for a memory operand FDS:FDP = the segment
    /// named (override or default) and the offset before segmentation.
    /// </summary>
    private static void X87Pointers(Cpu cpu, FpuState fpu, ref DecodedOp op)
    {
        fpu.Fcs = cpu._seg[Seg.Cs].Selector;
        fpu.Fip = cpu._rip;
        if (op.Kind0 == OperandKind.Memory || op.Kind1 == OperandKind.Memory)
        {
            int seg = op.MemSeg == Seg.None ? Seg.Ds : op.MemSeg;
            fpu.Fds = cpu._seg[seg].Selector;
            fpu.Fdp = cpu.EffectiveAddress(ref op);
        }
    }

    /// <summary>fpu_set_exception: ORs the flags in; ES and B follow any flag whose FCW mask bit is clear.</summary>
    private static void X87Raise(FpuState fpu, int flags)
    {
        int sw = fpu.StatusWord | flags;
        if ((sw & ~fpu.ControlWord & 0x3F) != 0)
        {
            sw |= FswEs | FswBusy;
        }

        fpu.StatusWord = (ushort)sw;
    }

    private static X87FloatEnv X87Env(FpuState fpu) => X87FloatEnv.FromControlWord(fpu.ControlWord);

    /// <summary>merge_exception_flags: what an operation raised, into FSW (run even when nothing was, as QEMU does).</summary>
    private static void X87Merge(FpuState fpu, in X87FloatEnv env) => X87Raise(fpu, (int)env.Flags);

    private static ref Float80 St(FpuState fpu, int i) => ref fpu.St[(fpu.Top + i) & 7];

    /// <summary>fpush then the value: TOP − 1, its tag valid, whatever the register held.</summary>
    private static void PushSt(FpuState fpu, Float80 v)
    {
        fpu.Top = (fpu.Top - 1) & 7;
        fpu.TagValid |= (byte)(1 << fpu.Top);
        fpu.St[fpu.Top] = v;
    }

    private static void PopSt(FpuState fpu)
    {
        fpu.TagValid &= (byte)~(1 << fpu.Top);
        fpu.Top = (fpu.Top + 1) & 7;
    }

    private static Float80 ReadFloat80(Cpu cpu, ulong lin) => new(cpu.Read64(lin), cpu.Read16(cpu.WrapLinear(lin + 8)));

    /// <summary>do_fstt: the significand, then the sign and exponent (a fault on the second leaves the first written).</summary>
    private static void WriteFloat80(Cpu cpu, ulong lin, Float80 v)
    {
        cpu.Write64(lin, v.Significand);
        cpu.Write16(cpu.WrapLinear(lin + 8), v.SignExponent);
    }

    private static void Fninit(Cpu cpu, ref DecodedOp op) => X87(cpu).Initialize();

    /// <summary>helper_fclex: fpus &amp;= 0x7F00 (flags, SF, ES and B cleared).</summary>
    private static void Fnclex(Cpu cpu, ref DecodedOp op) => X87(cpu).StatusWord &= 0x7F00;

    /// <summary>helper_fldcw: only FCW changes; a flag unmasked here sets ES at the next merging instruction.</summary>
    private static void Fldcw(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        fpu.ControlWord = cpu.Read16(cpu.MemLinear(ref op));
    }

    private static void Fnstcw(Cpu cpu, ref DecodedOp op) => cpu.Write16(cpu.MemLinear(ref op), X87(cpu).ControlWord);

    /// <summary>FNSTSW m16 or AX.</summary>
    private static void Fnstsw(Cpu cpu, ref DecodedOp op) => cpu.WriteOp0(ref op, 2, X87StatusWord(X87(cpu)));

    /// <summary>WAIT/FWAIT: #NM when CR0.TS and CR0.MP are both set, else the pending-exception check.</summary>
    private static void Fwait(Cpu cpu, ref DecodedOp op)
    {
        if ((cpu._cr0 & (CrBits.TS | CrBits.MP)) == (CrBits.TS | CrBits.MP))
        {
            throw new GuestFault(Vector.NM);
        }

        X87CheckPending(cpu);
    }

    /// <summary>
    /// FINIT, FCLEX, FSTCW, FSTSW, FSTENV, FSAVE, FENI, FDISI, FSETPM: Iced decodes 9B with the no-wait form as one
    /// instruction; QEMU runs the 9B as WAIT first (translate.c case 0x9b), so these do the same.
    /// </summary>
    private static void X87WaitForm(Cpu cpu, ref DecodedOp op)
    {
        Fwait(cpu, ref op);
        switch (op.Insn.Mnemonic)
        {
            case Mnemonic.Finit: Fninit(cpu, ref op); break;
            case Mnemonic.Fclex: Fnclex(cpu, ref op); break;
            case Mnemonic.Fstcw: Fnstcw(cpu, ref op); break;
            case Mnemonic.Fstsw: Fnstsw(cpu, ref op); break;
            case Mnemonic.Fstenv: Fnstenv(cpu, ref op); break;
            case Mnemonic.Feni or Mnemonic.Fdisi or Mnemonic.Fsetpm: X87Legacy(cpu, ref op); break;
            default: Fnsave(cpu, ref op); break;
        }
    }

    /// <summary>FNENI, FNDISI, FNSETPM: 287-only, no-ops that still record FIP (translate.c case 0x1c).</summary>
    private static void X87Legacy(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>FNOP: QEMU checks pending exceptions here too (translate.c: "check exceptions (FreeBSD FPU probe)").</summary>
    private static void Fnop(Cpu cpu, ref DecodedOp op)
    {
        X87(cpu);
        X87CheckPending(cpu);
    }

    /// <summary>
    /// helper_fwait/fpu_raise_exception: with FSW.ES set, #MF when CR0.NE is set; otherwise FERR#
    /// (QEMU raises GSI 13 unless IGNNE is asserted) and execution goes on.
    /// </summary>
    private static void X87CheckPending(Cpu cpu)
    {
        var fpu = cpu.Fpu;
        if ((fpu.StatusWord & FswEs) == 0)
        {
            return;
        }

        if ((cpu._cr0 & CrBits.NE) != 0)
        {
            throw new GuestFault(Vector.MF);
        }

        fpu.AssertFerr();
    }

    /// <summary>FLD/FILD: memory (m32/m64 real rounded at FCW's precision, integers exactly, m80 as stored), or ST(i) read before the push.</summary>
    private static void Fld(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        if (op.Kind0 != OperandKind.Memory)
        {
            Float80 v = St(fpu, op.Reg0);
            PushSt(fpu, v);
        }
        else
        {
            ulong lin = cpu.MemLinear(ref op);
            var env = X87Env(fpu);
            switch (op.Insn.MemorySize)
            {
                case MemorySize.Float32:
                    PushSt(fpu, SoftFloat80.FromFloat32(cpu.Read32(lin), ref env));
                    X87Merge(fpu, env);
                    break;
                case MemorySize.Float64:
                    PushSt(fpu, SoftFloat80.FromFloat64(cpu.Read64(lin), ref env));
                    X87Merge(fpu, env);
                    break;
                case MemorySize.Float80:
                    PushSt(fpu, ReadFloat80(cpu, lin));
                    break;
                default:
                    // helper_fildl_ST0/fildll_ST0: integers load at full precision, flags dropped.
                    env.Precision = X87Precision.Extended;
                    PushSt(fpu, SoftFloat80.FromInt64(ReadX87Integer(cpu, lin, op.MemSize), ref env));
                    break;
            }
        }

        X87Pointers(cpu, fpu, ref op);
    }

    private static long ReadX87Integer(Cpu cpu, ulong lin, int size) => size switch
    {
        2 => (short)cpu.Read16(lin),
        4 => (int)cpu.Read32(lin),
        _ => (long)cpu.Read64(lin),
    };

    /// <summary>FST/FSTP: to ST(i) as is; to m32/m64 converted (flags merged before the store); to m80 as is.</summary>
    private static void StoreSt0(Cpu cpu, FpuState fpu, ref DecodedOp op)
    {
        Float80 v = St(fpu, 0);
        if (op.Kind0 == OperandKind.St)
        {
            St(fpu, op.Reg0) = v;
            return;
        }

        ulong lin = cpu.MemLinear(ref op);
        var env = X87Env(fpu);
        switch (op.Insn.MemorySize)
        {
            case MemorySize.Float32:
                uint single = SoftFloat80.ToFloat32(v, ref env);
                X87Merge(fpu, env);
                cpu.Write32(lin, single);
                break;
            case MemorySize.Float64:
                ulong dbl = SoftFloat80.ToFloat64(v, ref env);
                X87Merge(fpu, env);
                cpu.Write64(lin, dbl);
                break;
            default:
                WriteFloat80(cpu, lin, v);
                break;
        }
    }

    private static void Fst(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        StoreSt0(cpu, fpu, ref op);
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fstp(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        StoreSt0(cpu, fpu, ref op);
        PopSt(fpu);
        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>
    /// FIST/FISTP/FISTTP (helper_fist*_ST0): rounded by FCW.RC or truncated. m32/m64: NaN and
    /// out-of-range give IE and the integer indefinite. m16 converts to 32 bits first: a result
    /// outside int16 becomes −32768 with IE alone (any PE dropped).
    /// </summary>
    private static void StoreInteger(Cpu cpu, FpuState fpu, ref DecodedOp op, bool truncate)
    {
        var env = X87Env(fpu);
        FloatRounding rounding = truncate ? FloatRounding.TowardZero : env.Rounding;
        int size = op.MemSize;
        long v;
        if (size == 8)
        {
            v = SoftFloat80.ToInt(St(fpu, 0), rounding, long.MinValue, long.MaxValue, ref env);
        }
        else
        {
            v = SoftFloat80.ToInt(St(fpu, 0), rounding, int.MinValue, int.MaxValue, ref env);
            if (size == 2 && v != (short)v)
            {
                env.Flags = FloatExceptions.Invalid;
            }
        }

        if ((env.Flags & FloatExceptions.Invalid) != 0)
        {
            v = long.MinValue >> (64 - (size * 8));
        }

        X87Merge(fpu, env);
        cpu.WriteSized(cpu.MemLinear(ref op), size, (ulong)v);
    }

    private static void Fist(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        StoreInteger(cpu, fpu, ref op, false);
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fistp(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        StoreInteger(cpu, fpu, ref op, false);
        PopSt(fpu);
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fisttp(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        StoreInteger(cpu, fpu, ref op, true);
        PopSt(fpu);
        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>FLD1, FLDZ and the others (helper_fld*_ST0): QEMU's constants, some one unit lower when RC rounds down or toward zero (FLDL2T: higher when up).</summary>
    private static void PushConstant(Cpu cpu, ref DecodedOp op, Float80 nearest, Float80 other, bool otherWhenDown)
    {
        var fpu = X87(cpu);
        var rc = (FloatRounding)((fpu.ControlWord >> 10) & 3);
        bool useOther = otherWhenDown ? rc is FloatRounding.Down or FloatRounding.TowardZero : rc == FloatRounding.Up;
        PushSt(fpu, useOther ? other : nearest);
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fld1(Cpu cpu, ref DecodedOp op) => PushConstant(cpu, ref op, SoftFloat80.One, SoftFloat80.One, true);

    private static void Fldz(Cpu cpu, ref DecodedOp op) => PushConstant(cpu, ref op, SoftFloat80.Zero, SoftFloat80.Zero, true);

    private static void Fldpi(Cpu cpu, ref DecodedOp op) =>
        PushConstant(cpu, ref op, new Float80(0xc90fdaa22168c235UL, 0x4000), new Float80(0xc90fdaa22168c234UL, 0x4000), true);

    private static void Fldl2e(Cpu cpu, ref DecodedOp op) =>
        PushConstant(cpu, ref op, new Float80(0xb8aa3b295c17f0bcUL, 0x3fff), new Float80(0xb8aa3b295c17f0bbUL, 0x3fff), true);

    private static void Fldl2t(Cpu cpu, ref DecodedOp op) =>
        PushConstant(cpu, ref op, new Float80(0xd49a784bcd1b8afeUL, 0x4000), new Float80(0xd49a784bcd1b8affUL, 0x4000), false);

    private static void Fldlg2(Cpu cpu, ref DecodedOp op) =>
        PushConstant(cpu, ref op, new Float80(0x9a209a84fbcff799UL, 0x3ffd), new Float80(0x9a209a84fbcff798UL, 0x3ffd), true);

    private static void Fldln2(Cpu cpu, ref DecodedOp op) =>
        PushConstant(cpu, ref op, new Float80(0xb17217f7d1cf79acUL, 0x3ffe), new Float80(0xb17217f7d1cf79abUL, 0x3ffe), true);

    /// <summary>FXCH ST(i) (ST(1) without an operand): helper_fxchg_ST0_STN swaps the values; tags and C1 stay.</summary>
    private static void Fxch(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        int i = op.Kind1 == OperandKind.St ? op.Reg1 : 1;
        (St(fpu, 0), St(fpu, i)) = (St(fpu, i), St(fpu, 0));
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Ffree(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        fpu.TagValid &= (byte)~(1 << ((fpu.Top + op.Reg0) & 7));
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Ffreep(Cpu cpu, ref DecodedOp op)
    {
        Ffree(cpu, ref op);
        PopSt(cpu.Fpu);
    }

    /// <summary>FINCSTP/FDECSTP: TOP moves, C0–C3 are cleared, tags stay.</summary>
    private static void X87MoveTop(Cpu cpu, ref DecodedOp op, int delta)
    {
        var fpu = X87(cpu);
        fpu.Top = (fpu.Top + delta) & 7;
        fpu.StatusWord &= unchecked((ushort)~FswConditionBits);
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fincstp(Cpu cpu, ref DecodedOp op) => X87MoveTop(cpu, ref op, 1);

    private static void Fdecstp(Cpu cpu, ref DecodedOp op) => X87MoveTop(cpu, ref op, -1);
}
