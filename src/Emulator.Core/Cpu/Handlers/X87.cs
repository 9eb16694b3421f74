using System.Numerics;
using Emulator.Core.Cpu.Float;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The x87 subset firmware uses (Intel SDM Vol. 1, chapter 8; Vol. 2): FNINIT/FINIT, control and
/// status word access, FWAIT, loads and stores of m32/m64/m80 reals and m16/m32/m64 integers,
/// constants, FXCH, FCHS, FABS, the four basic operations in all forms (memory real/integer,
/// ST(0)/ST(i), pop), FCOM*/FUCOM*/FTST into C0/C2/C3, FCOMI*/FUCOMI* into ZF/PF/CF, FCMOVcc,
/// FFREE, FINCSTP/FDECSTP, FRNDINT, FSQRT. OVMF's only x87 user is integer conversion in the
/// TLS driver.
/// Precision limitation: registers hold doubles (53-bit significand), not 80-bit extended
/// values; arithmetic rounds to nearest at double precision whatever FCW.PC/RC say (RC is
/// honoured by FIST/FISTP and FRNDINT), 64-bit integers beyond 2^53 lose low bits, and m80
/// loads round. Exceptions are always treated as masked (IE/SF/C1 recorded, no #MF), which
/// matches the FCW of 0x37F that firmware uses.
/// </summary>
internal static unsafe partial class Handlers
{
    private const ushort FswIe = 1 << 0, FswSf = 1 << 6, FswC0 = 1 << 8, FswC1 = 1 << 9, FswC2 = 1 << 10, FswC3 = 1 << 14;
    private const ushort FswConditionBits = FswC0 | FswC1 | FswC2 | FswC3;

    internal static void RegisterX87(HandlerRegistry r)
    {
        r.Add(Mnemonic.Fninit, &Fninit);
        r.Add(Mnemonic.Finit, &Fninit);
        r.Add(Mnemonic.Fnclex, &Fnclex);
        r.Add(Mnemonic.Fclex, &Fnclex);
        r.Add(Mnemonic.Fldcw, &Fldcw);
        r.Add(Mnemonic.Fnstcw, &Fnstcw);
        r.Add(Mnemonic.Fstcw, &Fnstcw);
        r.Add(Mnemonic.Fnstsw, &Fnstsw);
        r.Add(Mnemonic.Fstsw, &Fnstsw);
        r.Add(Code.Wait, &Fwait);
        r.Add(Mnemonic.Fnop, &X87Nop);
        r.Add(Mnemonic.Fld, &Fld);
        r.Add(Mnemonic.Fild, &Fld);
        r.Add(Mnemonic.Fst, &Fst);
        r.Add(Mnemonic.Fstp, &Fstp);
        r.Add(Mnemonic.Fist, &Fist);
        r.Add(Mnemonic.Fistp, &Fistp);
        r.Add(Mnemonic.Fisttp, &Fisttp);
        r.Add(Mnemonic.Fld1, &Fld1);
        r.Add(Mnemonic.Fldz, &Fldz);
        r.Add(Mnemonic.Fldpi, &Fldpi);
        r.Add(Mnemonic.Fldl2e, &Fldl2e);
        r.Add(Mnemonic.Fldl2t, &Fldl2t);
        r.Add(Mnemonic.Fldlg2, &Fldlg2);
        r.Add(Mnemonic.Fldln2, &Fldln2);
        r.Add(Mnemonic.Fxch, &Fxch);
        r.Add(Mnemonic.Fchs, &Fchs);
        r.Add(Mnemonic.Fabs, &Fabs);
        r.Add(Mnemonic.Fsqrt, &Fsqrt);
        r.Add(Mnemonic.Frndint, &Frndint);
        r.Add(Mnemonic.Ffree, &Ffree);
        r.Add(Mnemonic.Ffreep, &Ffreep);
        r.Add(Mnemonic.Fincstp, &Fincstp);
        r.Add(Mnemonic.Fdecstp, &Fdecstp);
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
        r.Add(Mnemonic.Fucom, &Fcom);
        r.Add(Mnemonic.Ficom, &Fcom);
        r.Add(Mnemonic.Fcomp, &Fcomp);
        r.Add(Mnemonic.Fucomp, &Fcomp);
        r.Add(Mnemonic.Ficomp, &Fcomp);
        r.Add(Mnemonic.Fcompp, &Fcompp);
        r.Add(Mnemonic.Fucompp, &Fcompp);
        r.Add(Mnemonic.Ftst, &Ftst);
        r.Add(Mnemonic.Fcomi, &Fcomi);
        r.Add(Mnemonic.Fucomi, &Fcomi);
        r.Add(Mnemonic.Fcomip, &Fcomip);
        r.Add(Mnemonic.Fucomip, &Fcomip);
        r.Add(Mnemonic.Fcmovb, &Fcmovb);
        r.Add(Mnemonic.Fcmove, &Fcmove);
        r.Add(Mnemonic.Fcmovbe, &Fcmovbe);
        r.Add(Mnemonic.Fcmovu, &Fcmovu);
        r.Add(Mnemonic.Fcmovnb, &Fcmovnb);
        r.Add(Mnemonic.Fcmovne, &Fcmovne);
        r.Add(Mnemonic.Fcmovnbe, &Fcmovnbe);
        r.Add(Mnemonic.Fcmovnu, &Fcmovnu);
    }

    /// <summary>FSW as stored: the kept status bits with TOP in bits 13:11.</summary>
    internal static ushort X87StatusWord(FpuState fpu) => (ushort)((fpu.StatusWord & ~0x3800) | (fpu.Top << 11));

    /// <summary>Converts a double to the 80-bit extended format (exact: every double is representable).</summary>
    internal static Float80 X87ToExtended(double d)
    {
        ulong mant;
        ushort signExp;
        ulong bits = (ulong)BitConverter.DoubleToInt64Bits(d);
        int sign = (int)((bits >> 48) & 0x8000);
        int exp = (int)((bits >> 52) & 0x7FF);
        ulong frac = bits & 0xF_FFFF_FFFF_FFFFUL;
        if (exp == 0x7FF)
        {
            mant = (1UL << 63) | (frac << 11);
            signExp = (ushort)(sign | 0x7FFF);
        }
        else if (exp == 0 && frac == 0)
        {
            mant = 0;
            signExp = (ushort)sign;
        }
        else if (exp == 0)
        {
            // Double denormal: normalise, the extended exponent range covers it.
            int top = 63 - BitOperations.LeadingZeroCount(frac);
            mant = frac << (63 - top);
            signExp = (ushort)(sign | (16383 - 1074 + top));
        }
        else
        {
            mant = (1UL << 63) | (frac << 11);
            signExp = (ushort)(sign | (exp - 1023 + 16383));
        }

        return new Float80(mant, signExp);
    }

    /// <summary>Converts an 80-bit extended value to the nearest double (NaN payloads keep their top bits).</summary>
    internal static double X87FromExtended(Float80 value)
    {
        ulong mant = value.Significand;
        ushort signExp = value.SignExponent;
        bool negative = (signExp & 0x8000) != 0;
        int exp = signExp & 0x7FFF;
        double r;
        if (exp == 0x7FFF)
        {
            ulong frac = (mant >> 11) & 0xF_FFFF_FFFF_FFFFUL;
            r = (mant << 1) == 0
                ? double.PositiveInfinity
                : BitConverter.Int64BitsToDouble((long)(0x7FF0_0000_0000_0000UL | (frac == 0 ? 1UL << 51 : frac)));
        }
        else
        {
            r = mant == 0 ? 0.0 : Math.ScaleB((double)mant, exp - 16383 - 63);
        }

        return negative ? -r : r;
    }

    /// <summary>x87 instructions raise #NM when CR0.EM or CR0.TS is set (SDM Vol. 3, 2.5).</summary>
    private static FpuState X87(Cpu cpu)
    {
        if ((cpu._cr0 & (CrBits.EM | CrBits.TS)) != 0)
        {
            throw new GuestFault(Vector.NM);
        }

        return cpu.Fpu;
    }

    private static void X87Flag(FpuState fpu, ushort bits) => fpu.StatusWord |= bits;

    /// <summary>ST(i); an empty register is a masked stack underflow and reads as the default NaN.</summary>
    private static double ReadSt(FpuState fpu, int i)
    {
        int phys = (fpu.Top + i) & 7;
        if ((fpu.TagValid & (1 << phys)) == 0)
        {
            fpu.StatusWord = (ushort)((fpu.StatusWord | FswIe | FswSf) & ~FswC1);
            return double.NaN;
        }

        return X87FromExtended(fpu.St[phys]);
    }

    private static void WriteSt(FpuState fpu, int i, double v)
    {
        int phys = (fpu.Top + i) & 7;
        fpu.St[phys] = X87ToExtended(v);
        fpu.TagValid |= (byte)(1 << phys);
    }

    /// <summary>Pushes; pushing onto a valid register is a masked stack overflow that loads the default NaN.</summary>
    private static void PushSt(FpuState fpu, double v)
    {
        int top = (fpu.Top - 1) & 7;
        if ((fpu.TagValid & (1 << top)) != 0)
        {
            X87Flag(fpu, FswIe | FswSf | FswC1);
            v = double.NaN;
        }

        fpu.Top = top;
        fpu.St[top] = X87ToExtended(v);
        fpu.TagValid |= (byte)(1 << top);
    }

    private static void PopSt(FpuState fpu)
    {
        fpu.TagValid &= (byte)~(1 << fpu.Top);
        fpu.Top = (fpu.Top + 1) & 7;
    }

    /// <summary>A memory operand as a value: real (m32/m64/m80) or integer (m16/m32/m64), by Iced's memory size.</summary>
    private static double ReadX87Memory(Cpu cpu, ref DecodedOp op)
    {
        ulong lin = cpu.MemLinear(ref op);
        return op.Insn.MemorySize switch
        {
            MemorySize.Float32 => BitConverter.Int32BitsToSingle((int)cpu.Read32(lin)),
            MemorySize.Float64 => BitConverter.Int64BitsToDouble((long)cpu.Read64(lin)),
            MemorySize.Float80 => X87FromExtended(new Float80(cpu.Read64(lin), cpu.Read16(cpu.WrapLinear(lin + 8)))),
            MemorySize.Int16 => (short)cpu.Read16(lin),
            MemorySize.Int32 => (int)cpu.Read32(lin),
            _ => (long)cpu.Read64(lin),
        };
    }

    /// <summary>The source of a two-operand form: memory, or ST(Reg1) for the register forms.</summary>
    private static double X87Source(Cpu cpu, FpuState fpu, ref DecodedOp op) =>
        op.Kind0 == OperandKind.Memory ? ReadX87Memory(cpu, ref op) : ReadSt(fpu, op.Kind1 == OperandKind.St ? op.Reg1 : 1);

    private static void Fninit(Cpu cpu, ref DecodedOp op) => X87(cpu).Initialize();

    private static void Fnclex(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        fpu.StatusWord &= 0x7F00;
    }

    private static void Fldcw(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        fpu.ControlWord = cpu.Read16(cpu.MemLinear(ref op));
    }

    private static void Fnstcw(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        cpu.Write16(cpu.MemLinear(ref op), fpu.ControlWord);
    }

    /// <summary>FNSTSW m16 or AX.</summary>
    private static void Fnstsw(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        cpu.WriteOp0(ref op, 2, X87StatusWord(fpu));
    }

    /// <summary>WAIT/FWAIT: #NM only when CR0.TS and CR0.MP are both set; no pending x87 exceptions exist here.</summary>
    private static void Fwait(Cpu cpu, ref DecodedOp op)
    {
        if ((cpu._cr0 & (CrBits.TS | CrBits.MP)) == (CrBits.TS | CrBits.MP))
        {
            throw new GuestFault(Vector.NM);
        }
    }

    private static void X87Nop(Cpu cpu, ref DecodedOp op) => X87(cpu);

    /// <summary>FLD/FILD: memory, or ST(i) read before the push.</summary>
    private static void Fld(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        double v = op.Kind0 == OperandKind.Memory ? ReadX87Memory(cpu, ref op) : ReadSt(fpu, op.Reg0);
        PushSt(fpu, v);
    }

    private static void StoreSt0(Cpu cpu, FpuState fpu, ref DecodedOp op)
    {
        double v = ReadSt(fpu, 0);
        if (op.Kind0 == OperandKind.St)
        {
            WriteSt(fpu, op.Reg0, v);
            return;
        }

        ulong lin = cpu.MemLinear(ref op);
        switch (op.Insn.MemorySize)
        {
            case MemorySize.Float32:
                cpu.Write32(lin, (uint)BitConverter.SingleToInt32Bits((float)v));
                break;
            case MemorySize.Float64:
                cpu.Write64(lin, (ulong)BitConverter.DoubleToInt64Bits(v));
                break;
            default:
                Float80 extended = X87ToExtended(v);
                cpu.ProbeWrite(lin, 10);
                cpu.Write64(lin, extended.Significand);
                cpu.Write16(cpu.WrapLinear(lin + 8), extended.SignExponent);
                break;
        }
    }

    private static void Fst(Cpu cpu, ref DecodedOp op) => StoreSt0(cpu, X87(cpu), ref op);

    private static void Fstp(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        StoreSt0(cpu, fpu, ref op);
        PopSt(fpu);
    }

    /// <summary>
    /// FIST/FISTP/FISTTP: rounds by FCW.RC (or truncates), and stores the integer indefinite
    /// (sign bit only) with IE for NaN or out-of-range values.
    /// </summary>
    private static void StoreInteger(Cpu cpu, FpuState fpu, ref DecodedOp op, bool truncate)
    {
        double v = ReadSt(fpu, 0);
        int size = op.MemSize;
        double r = truncate ? Math.Truncate(v) : RoundX87(fpu, v);
        double limit = size switch { 2 => 32768.0, 4 => 2147483648.0, _ => 9223372036854775808.0 };
        ulong result;
        if (r >= -limit && r < limit)
        {
            result = (ulong)(long)r;
        }
        else
        {
            X87Flag(fpu, FswIe);
            result = Cpu.SignBit(size);
        }

        cpu.WriteSized(cpu.MemLinear(ref op), size, result);
    }

    private static double RoundX87(FpuState fpu, double v) => ((fpu.ControlWord >> 10) & 3) switch
    {
        0 => Math.Round(v, MidpointRounding.ToEven),
        1 => Math.Floor(v),
        2 => Math.Ceiling(v),
        _ => Math.Truncate(v),
    };

    private static void Fist(Cpu cpu, ref DecodedOp op) => StoreInteger(cpu, X87(cpu), ref op, false);

    private static void Fistp(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        StoreInteger(cpu, fpu, ref op, false);
        PopSt(fpu);
    }

    private static void Fisttp(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        StoreInteger(cpu, fpu, ref op, true);
        PopSt(fpu);
    }

    private static void Fld1(Cpu cpu, ref DecodedOp op) => PushSt(X87(cpu), 1.0);

    private static void Fldz(Cpu cpu, ref DecodedOp op) => PushSt(X87(cpu), 0.0);

    private static void Fldpi(Cpu cpu, ref DecodedOp op) => PushSt(X87(cpu), Math.PI);

    private static void Fldl2e(Cpu cpu, ref DecodedOp op) => PushSt(X87(cpu), Math.Log2(Math.E));

    private static void Fldl2t(Cpu cpu, ref DecodedOp op) => PushSt(X87(cpu), Math.Log2(10.0));

    private static void Fldlg2(Cpu cpu, ref DecodedOp op) => PushSt(X87(cpu), Math.Log10(2.0));

    private static void Fldln2(Cpu cpu, ref DecodedOp op) => PushSt(X87(cpu), Math.Log(2.0));

    /// <summary>FXCH ST(i) (ST(1) without an operand); swaps tags too, so empty registers move.</summary>
    private static void Fxch(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        int i = op.Kind1 == OperandKind.St ? op.Reg1 : 1;
        double a = ReadSt(fpu, 0), b = ReadSt(fpu, i);
        WriteSt(fpu, 0, b);
        WriteSt(fpu, i, a);
        fpu.StatusWord &= unchecked((ushort)~FswC1);
    }

    private static void Fchs(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        WriteSt(fpu, 0, -ReadSt(fpu, 0));
    }

    private static void Fabs(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        WriteSt(fpu, 0, Math.Abs(ReadSt(fpu, 0)));
    }

    private static void Fsqrt(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        WriteSt(fpu, 0, Math.Sqrt(ReadSt(fpu, 0)));
    }

    private static void Frndint(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        WriteSt(fpu, 0, RoundX87(fpu, ReadSt(fpu, 0)));
    }

    private static void Ffree(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        fpu.TagValid &= (byte)~(1 << ((fpu.Top + op.Reg0) & 7));
    }

    private static void Ffreep(Cpu cpu, ref DecodedOp op)
    {
        Ffree(cpu, ref op);
        PopSt(cpu.Fpu);
    }

    private static void Fincstp(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        fpu.Top = (fpu.Top + 1) & 7;
    }

    private static void Fdecstp(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        fpu.Top = (fpu.Top - 1) & 7;
    }
}
