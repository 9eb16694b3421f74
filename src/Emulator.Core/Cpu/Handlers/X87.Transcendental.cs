using Emulator.Core.Cpu.Float;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// F2XM1, FYL2X, FYL2XP1 and FPATAN, which QEMU 7.2 computes with its own floatx80 polynomial
/// code (target/i386/tcg/fpu_helper.c helper_f2xm1, helper_fyl2x, helper_fyl2xp1, helper_fpatan;
/// the arithmetic is <see cref="SoftFloat80"/>'s, docs/x87.md "Transcendentals"). None of them
/// touches C0–C3; the three binary ones write ST(1) and pop.
/// </summary>
internal static unsafe partial class Handlers
{
    private static void RegisterX87Transcendental(HandlerRegistry r)
    {
        r.Add(Mnemonic.F2xm1, &F2xm1);
        r.Add(Mnemonic.Fyl2x, &Fyl2x);
        r.Add(Mnemonic.Fyl2xp1, &Fyl2xp1);
        r.Add(Mnemonic.Fpatan, &Fpatan);
    }

    private static void F2xm1(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        St(fpu, 0) = SoftFloat80.TwoToXMinusOne(St(fpu, 0), ref env);
        X87Merge(fpu, env);
        X87Pointers(cpu, fpu, ref op);
    }

    private static void Fyl2x(Cpu cpu, ref DecodedOp op) => X87IntoSt1AndPop(cpu, ref op, &SoftFloat80.YLog2X);

    private static void Fyl2xp1(Cpu cpu, ref DecodedOp op) => X87IntoSt1AndPop(cpu, ref op, &SoftFloat80.YLog2XPlusOne);

    private static void Fpatan(Cpu cpu, ref DecodedOp op) => X87IntoSt1AndPop(cpu, ref op, &SoftFloat80.ArcTan);

    /// <summary>ST(1) = f(ST(0), ST(1)), then fpop, then merge_exception_flags, as the three helpers end.</summary>
    private static void X87IntoSt1AndPop(Cpu cpu, ref DecodedOp op, delegate*<Float80, Float80, ref X87FloatEnv, Float80> f)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        St(fpu, 1) = f(St(fpu, 0), St(fpu, 1), ref env);
        PopSt(fpu);
        X87Merge(fpu, env);
        X87Pointers(cpu, fpu, ref op);
    }
}
