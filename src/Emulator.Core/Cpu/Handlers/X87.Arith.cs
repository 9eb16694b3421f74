using Emulator.Core.Cpu.Float;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// x87 arithmetic and comparisons (QEMU 7.2 fpu_helper.c helper_f*_ST0_FT0 / _STN_ST0, fcom, fucom,
/// fcomi, fucomi, fcmov). Every form funnels into one body per operation: the destination is
/// ST(0) for memory and D8 forms, ST(i) for DC/DE forms; the source is a memory operand (QEMU's
/// FT0: m32/m64 reals converted with their flags merged, m16/m32 integers converted at FCW's
/// precision and rounding with their flags dropped, helper_fildl_FT0) or the other register.
/// </summary>
internal static unsafe partial class Handlers
{
    private enum X87Op
    {
        Add,
        Sub,
        SubReverse,
        Mul,
        Div,
        DivReverse,
    }

    private static void RegisterX87Arith(HandlerRegistry r)
    {
        r.Add(Mnemonic.Fadd, &Fadd);
        r.Add(Mnemonic.Fiadd, &Fadd);
        r.Add(Mnemonic.Faddp, &Faddp);
        r.Add(Mnemonic.Fsub, &Fsub);
        r.Add(Mnemonic.Fisub, &Fsub);
        r.Add(Mnemonic.Fsubp, &Fsubp);
        r.Add(Mnemonic.Fsubr, &Fsubr);
        r.Add(Mnemonic.Fisubr, &Fsubr);
        r.Add(Mnemonic.Fsubrp, &Fsubrp);
        r.Add(Mnemonic.Fmul, &Fmul);
        r.Add(Mnemonic.Fimul, &Fmul);
        r.Add(Mnemonic.Fmulp, &Fmulp);
        r.Add(Mnemonic.Fdiv, &Fdiv);
        r.Add(Mnemonic.Fidiv, &Fdiv);
        r.Add(Mnemonic.Fdivp, &Fdivp);
        r.Add(Mnemonic.Fdivr, &Fdivr);
        r.Add(Mnemonic.Fidivr, &Fdivr);
        r.Add(Mnemonic.Fdivrp, &Fdivrp);
        r.Add(Mnemonic.Fcom, &Fcom);
        r.Add(Mnemonic.Ficom, &Fcom);
        r.Add(Mnemonic.Fucom, &Fucom);
        r.Add(Mnemonic.Fcomp, &Fcomp);
        r.Add(Mnemonic.Ficomp, &Fcomp);
        r.Add(Mnemonic.Fucomp, &Fucomp);
        r.Add(Mnemonic.Fcompp, &Fcompp);
        r.Add(Mnemonic.Fucompp, &Fucompp);
        r.Add(Mnemonic.Ftst, &Ftst);
        r.Add(Mnemonic.Fcomi, &Fcomi);
        r.Add(Mnemonic.Fucomi, &Fucomi);
        r.Add(Mnemonic.Fcomip, &Fcomip);
        r.Add(Mnemonic.Fucomip, &Fucomip);
        r.Add(Mnemonic.Fcmovb, &Fcmovb);
        r.Add(Mnemonic.Fcmove, &Fcmove);
        r.Add(Mnemonic.Fcmovbe, &Fcmovbe);
        r.Add(Mnemonic.Fcmovu, &Fcmovu);
        r.Add(Mnemonic.Fcmovnb, &Fcmovnb);
        r.Add(Mnemonic.Fcmovne, &Fcmovne);
        r.Add(Mnemonic.Fcmovnbe, &Fcmovnbe);
        r.Add(Mnemonic.Fcmovnu, &Fcmovnu);
        RegisterX87Unary(r);
        RegisterX87Transcendental(r);
    }

    /// <summary>The source operand: memory as QEMU's FT0 (<paramref name="env"/> takes a real's conversion flags), else ST(Reg1), else ST(1).</summary>
    private static Float80 X87Source(Cpu cpu, FpuState fpu, ref DecodedOp op, ref X87FloatEnv env)
    {
        if (op.Kind0 != OperandKind.Memory)
        {
            return St(fpu, op.Kind1 == OperandKind.St ? op.Reg1 : 1);
        }

        ulong lin = cpu.MemLinear(ref op);
        switch (op.Insn.MemorySize)
        {
            case MemorySize.Float32:
                return SoftFloat80.FromFloat32(cpu.Read32(lin), ref env);
            case MemorySize.Float64:
                return SoftFloat80.FromFloat64(cpu.Read64(lin), ref env);
            default:
                X87FloatEnv discarded = env;
                return SoftFloat80.FromInt64(ReadX87Integer(cpu, lin, op.MemSize), ref discarded);
        }
    }

    private static void X87Arith(Cpu cpu, ref DecodedOp op, X87Op kind, bool pop)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        Float80 s = X87Source(cpu, fpu, ref op, ref env);
        int dst = op.Kind0 == OperandKind.St ? op.Reg0 : 0;
        Float80 d = St(fpu, dst);
        St(fpu, dst) = kind switch
        {
            X87Op.Add => SoftFloat80.Add(d, s, ref env),
            X87Op.Sub => SoftFloat80.Sub(d, s, ref env),
            X87Op.SubReverse => SoftFloat80.Sub(s, d, ref env),
            X87Op.Mul => SoftFloat80.Mul(d, s, ref env),
            X87Op.Div => SoftFloat80.Div(d, s, ref env),
            _ => SoftFloat80.Div(s, d, ref env),
        };
        X87Merge(fpu, env);
        if (pop)
        {
            PopSt(fpu);
        }

        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fadd(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.Add, false);

    private static void Faddp(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.Add, true);

    private static void Fsub(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.Sub, false);

    private static void Fsubp(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.Sub, true);

    private static void Fsubr(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.SubReverse, false);

    private static void Fsubrp(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.SubReverse, true);

    private static void Fmul(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.Mul, false);

    private static void Fmulp(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.Mul, true);

    private static void Fdiv(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.Div, false);

    private static void Fdivp(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.Div, true);

    private static void Fdivr(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.DivReverse, false);

    private static void Fdivrp(Cpu cpu, ref DecodedOp op) => X87Arith(cpu, ref op, X87Op.DivReverse, true);

    /// <summary>
    /// FCOM/FUCOM/FICOM (and P, PP): C3, C2, C0 from floatx80_compare(_quiet) (fcom_ccval: less
    /// 0x0100, equal 0x4000, greater 0, unordered 0x4500), C1 kept; FCOMI/FUCOMI put the same into
    /// ZF, PF, CF and leave OF, SF and AF as they were (helper_fcomi_ST0_FT0 keeps the other flags).
    /// </summary>
    private static void X87Compare(Cpu cpu, ref DecodedOp op, bool quiet, int pops, bool toEflags)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        Float80 s = X87Source(cpu, fpu, ref op, ref env);
        int relation = SoftFloat80.Compare(St(fpu, 0), s, quiet, ref env);
        if (toEflags)
        {
            ulong bits = relation switch
            {
                -1 => RFlags.CF,
                0 => RFlags.ZF,
                1 => 0,
                _ => RFlags.ZF | RFlags.PF | RFlags.CF,
            };
            cpu.MaterializeFlags();
            cpu._flags = (cpu._flags & ~(RFlags.ZF | RFlags.PF | RFlags.CF)) | bits;
        }
        else
        {
            X87ConditionCodes(fpu, relation);
        }

        X87Merge(fpu, env);
        for (int i = 0; i < pops; i++)
        {
            PopSt(fpu);
        }

        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>fcom_ccval: less C0, equal C3, greater none, unordered C3 C2 C0; C1 kept.</summary>
    private static void X87ConditionCodes(FpuState fpu, int relation)
    {
        int codes = relation switch
        {
            -1 => FswC0,
            0 => FswC3,
            1 => 0,
            _ => FswC3 | FswC2 | FswC0,
        };
        fpu.StatusWord = (ushort)((fpu.StatusWord & ~(FswC3 | FswC2 | FswC0)) | codes);
    }

    private static void Fcom(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, false, 0, false);

    private static void Fucom(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, true, 0, false);

    private static void Fcomp(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, false, 1, false);

    private static void Fucomp(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, true, 1, false);

    private static void Fcompp(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, false, 2, false);

    private static void Fucompp(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, true, 2, false);

    private static void Fcomi(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, false, 0, true);

    private static void Fucomi(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, true, 0, true);

    private static void Fcomip(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, false, 1, true);

    private static void Fucomip(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, true, 1, true);

    /// <summary>FTST: helper_fldz_FT0 then the signaling compare.</summary>
    private static void Ftst(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        int relation = SoftFloat80.Compare(St(fpu, 0), SoftFloat80.Zero, false, ref env);
        X87ConditionCodes(fpu, relation);
        X87Merge(fpu, env);
        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>FCMOVcc ST(0), ST(i) with the EFLAGS condition code <paramref name="cc"/>: the value moves, tags stay.</summary>
    private static void X87ConditionalMove(Cpu cpu, ref DecodedOp op, int cc)
    {
        var fpu = X87(cpu);
        if (cpu.Condition(cc))
        {
            St(fpu, 0) = St(fpu, op.Reg1);
        }

        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fcmovb(Cpu cpu, ref DecodedOp op) => X87ConditionalMove(cpu, ref op, 2);

    private static void Fcmovnb(Cpu cpu, ref DecodedOp op) => X87ConditionalMove(cpu, ref op, 3);

    private static void Fcmove(Cpu cpu, ref DecodedOp op) => X87ConditionalMove(cpu, ref op, 4);

    private static void Fcmovne(Cpu cpu, ref DecodedOp op) => X87ConditionalMove(cpu, ref op, 5);

    private static void Fcmovbe(Cpu cpu, ref DecodedOp op) => X87ConditionalMove(cpu, ref op, 6);

    private static void Fcmovnbe(Cpu cpu, ref DecodedOp op) => X87ConditionalMove(cpu, ref op, 7);

    private static void Fcmovu(Cpu cpu, ref DecodedOp op) => X87ConditionalMove(cpu, ref op, 10);

    private static void Fcmovnu(Cpu cpu, ref DecodedOp op) => X87ConditionalMove(cpu, ref op, 11);
}
