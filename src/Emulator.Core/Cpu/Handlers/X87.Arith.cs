namespace Emulator.Core.Cpu;

/// <summary>
/// x87 arithmetic and comparisons (Intel SDM Vol. 2, FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR, FCOM,
/// FUCOM, FTST, FCOMI/FUCOMI, FCMOVcc). Every form funnels into one body per operation:
/// memory real or integer against ST(0), ST(0) against ST(i), ST(i) against ST(0) with optional
/// pop. FCOM and FUCOM differ only in which NaNs signal, which masked exceptions make invisible
/// here. Results round at double precision (see <c>X87.cs</c>).
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

    /// <summary>Destination ST(Reg0) (ST(0) for memory forms) combined with the source; pops for the P forms.</summary>
    private static void X87Arith(Cpu cpu, ref DecodedOp op, X87Op kind, bool pop)
    {
        var fpu = X87(cpu);
        double s = X87Source(cpu, fpu, ref op);
        int dst = op.Kind0 == OperandKind.St ? op.Reg0 : 0;
        double d = ReadSt(fpu, dst);
        if (kind is X87Op.Div or X87Op.DivReverse)
        {
            double divisor = kind == X87Op.Div ? s : d, dividend = kind == X87Op.Div ? d : s;
            if (divisor == 0 && dividend != 0 && double.IsFinite(dividend))
            {
                // Masked zero-divide (ZE, FSW bit 2): the result is a signed infinity.
                X87Flag(fpu, 1 << 2);
            }
        }

        double r = kind switch
        {
            X87Op.Add => d + s,
            X87Op.Sub => d - s,
            X87Op.SubReverse => s - d,
            X87Op.Mul => d * s,
            X87Op.Div => d / s,
            _ => s / d,
        };
        WriteSt(fpu, dst, r);
        if (pop)
        {
            PopSt(fpu);
        }
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

    /// <summary>C3/C2/C0 for a comparison (SDM Vol. 1, Table 8-6): greater 000, less C0, equal C3, unordered all three.</summary>
    private static void SetCompareCodes(FpuState fpu, double a, double b)
    {
        ushort codes = double.IsNaN(a) || double.IsNaN(b) ? (ushort)(FswC3 | FswC2 | FswC0)
            : a < b ? FswC0
            : a == b ? FswC3
            : (ushort)0;
        fpu.StatusWord = (ushort)((fpu.StatusWord & ~FswConditionBits) | codes);
    }

    private static void X87Compare(Cpu cpu, ref DecodedOp op, int pops)
    {
        var fpu = X87(cpu);
        SetCompareCodes(fpu, ReadSt(fpu, 0), X87Source(cpu, fpu, ref op));
        for (int i = 0; i < pops; i++)
        {
            PopSt(fpu);
        }
    }

    private static void Fcom(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, 0);

    private static void Fcomp(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, 1);

    private static void Fcompp(Cpu cpu, ref DecodedOp op) => X87Compare(cpu, ref op, 2);

    private static void Ftst(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        SetCompareCodes(fpu, ReadSt(fpu, 0), 0.0);
    }

    /// <summary>FCOMI/FUCOMI: ZF, PF, CF as C3, C2, C0 would be; OF, SF and AF cleared (SDM Vol. 2, FCOMI).</summary>
    private static void X87CompareFlags(Cpu cpu, ref DecodedOp op, bool pop)
    {
        var fpu = X87(cpu);
        double a = ReadSt(fpu, 0), b = ReadSt(fpu, op.Reg1);
        ulong bits = double.IsNaN(a) || double.IsNaN(b) ? RFlags.ZF | RFlags.PF | RFlags.CF
            : a < b ? RFlags.CF
            : a == b ? RFlags.ZF
            : 0;
        cpu.MaterializeFlags();
        cpu._flags = (cpu._flags & ~RFlags.Arith) | bits;
        fpu.StatusWord &= unchecked((ushort)~FswC1);
        if (pop)
        {
            PopSt(fpu);
        }
    }

    private static void Fcomi(Cpu cpu, ref DecodedOp op) => X87CompareFlags(cpu, ref op, false);

    private static void Fcomip(Cpu cpu, ref DecodedOp op) => X87CompareFlags(cpu, ref op, true);

    /// <summary>FCMOVcc ST(0), ST(i) with the EFLAGS condition code <paramref name="cc"/>.</summary>
    private static void X87ConditionalMove(Cpu cpu, ref DecodedOp op, int cc)
    {
        var fpu = X87(cpu);
        if (cpu.Condition(cc))
        {
            WriteSt(fpu, 0, ReadSt(fpu, op.Reg1));
        }
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
