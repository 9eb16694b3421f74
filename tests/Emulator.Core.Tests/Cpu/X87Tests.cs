using Emulator.Core.Cpu;
using Emulator.Core.Cpu.Float;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>x87: the TLS driver's integer-conversion pattern, arithmetic, comparisons and format conversion.</summary>
[Trait("Category", "Unit")]
public class X87Tests
{
    private const ulong Data = 0x200000;

    private static TestMachine Run(Action<Iced.Intel.Assembler> body)
    {
        var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(rsi, (long)Data);
            a.fninit();
            body(a);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        return m;
    }

    [Theory]
    [InlineData(0L, 0x3FFF, 0UL)]
    [InlineData(1L, 0x3FFF, 0x8000000000000000UL)]
    [InlineData(-3L, 0xC000, 0xC000000000000000UL)]
    [InlineData(1L << 40, 0x3FFF + 40, 0x8000000000000000UL)]
    public void Fild_Fistp_RoundTrip_And_80BitImage(long value, int signExp, ulong mantissa)
    {
        using var m = new TestMachine();
        m.WriteU64(Data, (ulong)value);
        m.LoadLong64(a =>
        {
            a.fninit();
            a.fild(__qword_ptr[Data]);
            a.fld(st0);
            a.fstp(__tword_ptr[Data + 0x10]);
            a.fistp(__qword_ptr[Data + 8]);
            a.fnstsw(ax);
            a.hlt();
        });
        m.Run();
        Assert.Equal((ulong)value, m.ReadU64(Data + 8));
        if (value != 0)
        {
            Assert.Equal(mantissa, m.ReadU64(Data + 0x10));
            Assert.Equal((ulong)signExp, m.ReadU64(Data + 0x18) & 0xFFFF);
        }

        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rax) & 0x3841);
    }

    [Theory]
    [InlineData(2.5, 0, 2L)]
    [InlineData(3.5, 0, 4L)]
    [InlineData(-2.5, 1, -3L)]
    [InlineData(2.1, 2, 3L)]
    [InlineData(-2.9, 3, -2L)]
    [InlineData(1e30, 0, long.MinValue)]
    public void Fistp_HonoursRoundingControl(double v, int rc, long expected)
    {
        using var m = new TestMachine();
        m.WriteU64(Data, (ulong)BitConverter.DoubleToInt64Bits(v));
        m.WriteU64(Data + 8, (ulong)(0x037F | (rc << 10)));
        m.LoadLong64(a =>
        {
            a.fninit();
            a.fldcw(__word_ptr[Data + 8]);
            a.fld(__qword_ptr[Data]);
            a.fistp(__qword_ptr[Data + 16]);
            a.fnstcw(__word_ptr[Data + 24]);
            a.hlt();
        });
        m.Run();
        Assert.Equal((ulong)expected, m.ReadU64(Data + 16));
        Assert.Equal((ulong)(0x037F | (rc << 10)), m.ReadU64(Data + 24) & 0xFFFF);
    }

    [Fact]
    public void Arithmetic_AllForms()
    {
        using var m = new TestMachine();
        m.WriteU64(Data, (ulong)BitConverter.DoubleToInt64Bits(10.0));
        m.WriteU64(Data + 8, BitConverter.SingleToUInt32Bits(4.0f));
        m.WriteU64(Data + 16, 3);
        m.LoadLong64(a =>
        {
            a.fninit();
            a.fld(__qword_ptr[Data]);        // 10
            a.fmul(__dword_ptr[Data + 8]);   // 40
            a.fisub(__dword_ptr[Data + 16]); // 37
            a.fld1();                        // 1, 37
            a.fadd(st0, st1);                // 38, 37
            a.fsubr(st1, st0);               // 38, 1
            a.fdivp(st1, st0);               // 1/38
            a.fld(__qword_ptr[Data]);
            a.fmulp(st1, st0);               // 10/38
            a.fchs();
            a.fabs();
            a.fstp(__qword_ptr[Data + 32]);
            a.hlt();
        });
        m.Run();
        Assert.Equal(10.0 / 38.0, BitConverter.Int64BitsToDouble((long)m.ReadU64(Data + 32)));
        Assert.Equal(0, m.Cpu.Fpu.TagValid);
    }

    [Theory]
    [InlineData(1.0, 2.0, RFlags.CF)]
    [InlineData(2.0, 1.0, 0UL)]
    [InlineData(2.0, 2.0, RFlags.ZF)]
    [InlineData(double.NaN, 2.0, RFlags.ZF | RFlags.PF | RFlags.CF)]
    public void Fcomi_SetsFlags_And_FcmovSelects(double top, double next, ulong flags)
    {
        using var m = new TestMachine();
        m.WriteU64(Data, (ulong)BitConverter.DoubleToInt64Bits(next));
        m.WriteU64(Data + 8, (ulong)BitConverter.DoubleToInt64Bits(top));
        m.LoadLong64(a =>
        {
            a.fninit();
            a.fld(__qword_ptr[Data]);
            a.fld(__qword_ptr[Data + 8]);
            a.fcomi(st0, st1);
            a.fcmovb(st0, st1);
            a.fstp(__qword_ptr[Data + 16]);
            a.fstp(st0);
            a.hlt();
        });
        m.Run();
        Assert.Equal(flags, m.Cpu.RFlagsValue & (RFlags.ZF | RFlags.PF | RFlags.CF | RFlags.OF | RFlags.SF));
        double selected = BitConverter.Int64BitsToDouble((long)m.ReadU64(Data + 16));
        Assert.Equal((flags & RFlags.CF) != 0 ? next : top, selected);
        Assert.Equal(0, m.Cpu.Fpu.TagValid);
    }

    [Fact]
    public void Fxch_FcomStatus_FnstswAx()
    {
        using var m = Run(a =>
        {
            a.fld1();
            a.fldz();
            a.fxch(st0, st1);
            a.fcom(st0, st1);
            a.fnstsw(ax);
            a.wait();
        });
        Assert.Equal(new Float80(1UL << 63, 0x3FFF), m.Cpu.Fpu.St[m.Cpu.Fpu.Top & 7]);
        ulong sw = m.Cpu.GetGpr(Gpr.Rax) & 0xFFFF;
        Assert.Equal(0UL, sw & 0x4500);
        Assert.Equal(6UL, (sw >> 11) & 7);
    }

    [Fact]
    public void Fucomip_Pops()
    {
        using var m = Run(a =>
        {
            a.fldz();
            a.fld1();
            a.fucomip(st0, st1);
        });
        Assert.Equal(0UL, m.Cpu.RFlagsValue & (RFlags.ZF | RFlags.PF | RFlags.CF));
        Assert.Equal(0x80, m.Cpu.Fpu.TagValid);
    }

    /// <summary>QEMU 7.2 keeps no stack-fault check: a ninth push overwrites ST(7)'s register, no IE, no SF.</summary>
    [Fact]
    public void NinthPush_IsNoStackFault_AsInQemu()
    {
        using var m = Run(a =>
        {
            for (int i = 0; i < 8; i++)
            {
                a.fld1();
            }

            a.fldz();
            a.fnstsw(ax);
        });
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rax) & 0x41);
        Assert.Equal(SoftFloat80.Zero, m.Cpu.Fpu.St[m.Cpu.Fpu.Top]);
        Assert.Equal(0xFF, m.Cpu.Fpu.TagValid);
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(-0.0)]
    [InlineData(double.Epsilon)]
    [InlineData(double.MaxValue)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(123456789.0625)]
    public void ExtendedConversion_RoundTripsDoubles(double v)
    {
        var env = new X87FloatEnv(FloatRounding.NearestEven, X87Precision.Extended);
        Float80 extended = SoftFloat80.FromFloat64(BitConverter.DoubleToUInt64Bits(v), ref env);
        Assert.Equal(BitConverter.DoubleToUInt64Bits(v), SoftFloat80.ToFloat64(extended, ref env));
        Assert.Equal(FloatExceptions.None, env.Flags);
    }

    [Fact]
    public void X87_WithCr0Em_RaisesNm()
    {
        using var m = new TestMachine();
        const ulong handler = 0x180000;
        m.Load(handler, TestMachine.Assemble(64, handler, a => a.hlt()));
        m.LoadLong64(a =>
        {
            a.fld1();
            a.hlt();
        });
        SystemTestSupport.InstallLongIdt(m, handler);
        m.Cpu._cr0 |= CrBits.EM;
        m.Run();
        Assert.Equal(Vector.NM, m.Cpu.LastException);
    }
}
