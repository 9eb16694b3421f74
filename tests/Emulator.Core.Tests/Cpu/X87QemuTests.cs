using Emulator.Core.Cpu;
using Emulator.Core.Cpu.Float;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// x87 behaviour that follows QEMU 7.2 rather than the SDM or the hardware (docs/x87.md): exception
/// delivery at FWAIT, the environment image, FPREM/FPREM1 quotient bits, FXTRACT, BCD, FCOMI's
/// other flags, FXCH's tags, and precision control where QEMU applies it.
/// </summary>
[Trait("Category", "Unit")]
public class X87QemuTests
{
    private const ulong Data = 0x200000;
    private const ulong Handler = 0x180000;

    private static TestMachine Run(Action<Iced.Intel.Assembler> body, Action<TestMachine>? setup = null)
    {
        var m = new TestMachine();
        m.Load(Handler, TestMachine.Assemble(64, Handler, a => a.hlt()));
        setup?.Invoke(m);
        m.LoadLong64(a =>
        {
            a.mov(rsi, (long)Data);
            a.fninit();
            body(a);
            a.hlt();
        });
        SystemTestSupport.InstallLongIdt(m, Handler);
        m.Run();
        return m;
    }

    private static Float80 St(TestMachine m, int i) => m.Cpu.Fpu.St[(m.Cpu.Fpu.Top + i) & 7];

    private static void WriteFloat80(TestMachine m, ulong address, Float80 v)
    {
        m.WriteU64(address, v.Significand);
        m.WriteU64(address + 8, v.SignExponent);
    }

    [Theory]
    [InlineData(true, Vector.MF, 0)]
    [InlineData(false, -1, 1)]
    public void UnmaskedZeroDivide_RaisesAtFwait_MfWithNe_FerrWithout(bool ne, int vector, int ferrs)
    {
        int asserted = 0;
        using var m = Run(
            a =>
            {
                a.fldcw(__word_ptr[rsi]);
                a.fld1();
                a.fldz();
                a.fdivp(st1, st0);
                a.fnstsw(__word_ptr[rsi + 8]);
                a.wait();
                a.mov(__dword_ptr[rsi + 16], 1);
            },
            m =>
            {
                m.WriteU64(Data, 0x037B); // ZE unmasked
                m.Cpu.Fpu.Ferr = () => asserted++;
                if (ne)
                {
                    m.Cpu._cr0 |= CrBits.NE;
                }
            });
        Assert.Equal(0xB884UL, m.ReadU64(Data + 8) & 0xFFFF); // B, TOP 7, ES, ZE
        Assert.Equal(vector, m.Cpu.LastException);
        Assert.Equal(vector < 0 ? 1UL : 0UL, m.ReadU64(Data + 16));
        Assert.Equal(ferrs, asserted);
    }

    [Fact]
    public void Fnstenv32_StoresTheFullTagWordAndThePointers()
    {
        using var m = Run(a =>
        {
            a.fldz();
            a.fld1();
            a.fld(__tword_ptr[rsi + 0x40]); // a denormal: tag "special"
            a.fadd(__dword_ptr[rsi + 0x60]);
            a.fnstenv(__[rsi + 0x100]);
        }, m => WriteFloat80(m, Data + 0x40, new Float80(1, 0)));
        Assert.Equal(0x037FUL, m.ReadU64(Data + 0x100) & 0xFFFFFFFF);
        Assert.Equal(5UL << 11, m.ReadU64(Data + 0x104) & 0x3800);
        // Physical 5: special, 6: valid (1.0), 7: zero, the rest empty.
        Assert.Equal(0b01_00_10_11_11_11_11_11UL, m.ReadU64(Data + 0x108) & 0xFFFFFFFF);
        ulong fip = m.ReadU64(Data + 0x10C) & 0xFFFFFFFF;
        Assert.Equal((ulong)m.Cpu.GetSegment(Seg.Cs).Selector, m.ReadU64(Data + 0x110) & 0xFFFFFFFF);
        Assert.Equal(Data + 0x60, m.ReadU64(Data + 0x114) & 0xFFFFFFFF);
        Assert.Equal((ulong)m.Cpu.GetSegment(Seg.Ds).Selector, m.ReadU64(Data + 0x118) & 0xFFFFFFFF);
        Assert.Equal(m.Cpu.Fpu.Fip, fip);
        Assert.NotEqual(0UL, fip);
    }

    /// <summary>The 287-only FENI/FDISI/FSETPM, with and without 9B: no-ops on QEMU (translate.c case 0x1c), no #UD.</summary>
    [Fact]
    public void LegacyControlForms_AreNoOps()
    {
        using var m = Run(a =>
        {
            a.fld1();
            a.db(0xDB, 0xE0, 0x9B, 0xDB, 0xE0); // FNENI, FENI
            a.db(0xDB, 0xE1, 0x9B, 0xDB, 0xE1); // FNDISI, FDISI
            a.db(0xDB, 0xE4, 0x9B, 0xDB, 0xE4); // FNSETPM, FSETPM
        });
        Assert.Equal(-1, m.Cpu.LastException);
        Assert.Equal(new Float80(1UL << 63, 0x3FFF), St(m, 0));
        Assert.Equal(0x037F, m.Cpu.Fpu.ControlWord);
    }

    [Fact]
    public void Fprem_ReportsQuotientBits_Fprem1_DoesNot()
    {
        using var m = Run(a =>
        {
            a.fild(__dword_ptr[rsi]);      // 2
            a.fild(__dword_ptr[rsi + 4]);  // 7
            a.fprem();                     // 7 = 3*2 + 1: q = 011
            a.fnstsw(__word_ptr[rsi + 8]);
            a.fstp(__qword_ptr[rsi + 16]);
            a.fild(__dword_ptr[rsi + 4]);
            a.fprem1();                    // 7 = 4*2 - 1
            a.fnstsw(__word_ptr[rsi + 10]);
            a.fstp(__qword_ptr[rsi + 24]);
        }, m =>
        {
            m.WriteU64(Data, 2 | (7UL << 32));
        });
        Assert.Equal((ulong)(0x4000 | 0x200), m.ReadU64(Data + 8) & 0x4700);
        Assert.Equal(1.0, BitConverter.Int64BitsToDouble((long)m.ReadU64(Data + 16)));
        Assert.Equal(0UL, m.ReadU64(Data + 10) & 0x4700);
        Assert.Equal(-1.0, BitConverter.Int64BitsToDouble((long)m.ReadU64(Data + 24)));
    }

    [Fact]
    public void Fxtract_SplitsExponentAndSignificand_DenormalRaisesDe()
    {
        using var m = Run(a =>
        {
            a.fld(__tword_ptr[rsi]);
            a.fxtract();
            a.fnstsw(__word_ptr[rsi + 0x20]);
        }, m => WriteFloat80(m, Data, new Float80(0x0000_0000_0000_0A00UL, 0)));
        Assert.Equal(new Float80(0xA000_0000_0000_0000UL, 0x3FFF), St(m, 0));
        var env = new X87FloatEnv(FloatRounding.NearestEven, X87Precision.Extended);
        Assert.Equal(SoftFloat80.FromInt64(1 - 16383 - 52, ref env), St(m, 1));
        Assert.Equal(2UL, m.ReadU64(Data + 0x20) & 0x3F);
    }

    [Fact]
    public void Fbstp_Fbld_RoundTripPackedBcd()
    {
        using var m = Run(a =>
        {
            a.fild(__qword_ptr[rsi]);
            a.fbstp(__tword_ptr[rsi + 0x10]);
            a.fbld(__tword_ptr[rsi + 0x10]);
            a.fistp(__qword_ptr[rsi + 0x20]);
        }, m => m.WriteU64(Data, unchecked((ulong)-123456789012345678L)));
        Assert.Equal(0x3456789012345678UL, m.ReadU64(Data + 0x10));
        Assert.Equal(0x8012UL, m.ReadU64(Data + 0x18) & 0xFFFF);
        Assert.Equal(unchecked((ulong)-123456789012345678L), m.ReadU64(Data + 0x20));
    }

    [Fact]
    public void Fcomi_KeepsOfSfAf_FxchKeepsTags()
    {
        using var m = Run(a =>
        {
            a.mov(eax, 0x7FFFFFFF);
            a.add(eax, 1);                  // OF, SF, AF set
            a.fld1();
            a.fldz();
            a.ffree(st1);
            a.fxch(st0, st1);               // values swap, the empty tag stays with ST(1)
            a.fcomi(st0, st1);
            a.fnstenv(__[rsi + 0x100]);
        });
        Assert.Equal(RFlags.OF | RFlags.SF | RFlags.AF, m.Cpu.RFlagsValue & (RFlags.OF | RFlags.SF | RFlags.AF));
        Assert.Equal(SoftFloat80.One, St(m, 0));
        Assert.Equal(3UL, (m.ReadU64(Data + 0x108) >> 14) & 3); // physical 7 = ST(1): empty
    }

    [Fact]
    public void Fist16_OutOfRange_IsIntegerIndefiniteWithIeAlone()
    {
        using var m = Run(a =>
        {
            a.fild(__dword_ptr[rsi]);
            a.fist(__word_ptr[rsi + 8]);
            a.fnstsw(__word_ptr[rsi + 16]);
        }, m => m.WriteU64(Data, 40000));
        Assert.Equal(0x8000UL, m.ReadU64(Data + 8) & 0xFFFF);
        Assert.Equal(1UL, m.ReadU64(Data + 16) & 0x3F);
    }

    [Fact]
    public void FsqrtOfNegativeZero_SetsC2()
    {
        using var m = Run(a =>
        {
            a.fldz();
            a.fchs();
            a.fsqrt();
            a.fnstsw(__word_ptr[rsi]);
        });
        Assert.Equal(0x400UL, m.ReadU64(Data) & 0x4700);
        Assert.Equal(new Float80(0, 0x8000), St(m, 0));
    }

    /// <summary>QEMU packs every floatx80 result at FCW.PC (floatx80_round_pack_canonical): FLD m64 and FRNDINT round too.</summary>
    [Fact]
    public void PrecisionControl_RoundsLoadsAndFrndint_AsQemu()
    {
        var env = new X87FloatEnv(FloatRounding.NearestEven, X87Precision.Single);
        Float80 loaded = SoftFloat80.FromFloat64(BitConverter.DoubleToUInt64Bits(1.0 + Math.Pow(2, -40)), ref env);
        Assert.Equal(SoftFloat80.One, loaded);
        Assert.Equal(FloatExceptions.Inexact, env.Flags);
        env.Flags = FloatExceptions.None;
        Float80 big = new((1UL << 63) | (1UL << 33), 0x3FFF + 30); // 2^30 + 1
        Assert.Equal(new Float80(1UL << 63, 0x3FFF + 30), SoftFloat80.RoundToInt(big, ref env));
        Assert.Equal(FloatExceptions.Inexact, env.Flags);
    }

    [Fact]
    public void NaNPropagation_LargerSignificandWins_SNaNSilencedWithIe()
    {
        var env = new X87FloatEnv(FloatRounding.NearestEven, X87Precision.Extended);
        var q1 = new Float80(0xC000_0000_0000_0001UL, 0x7FFF);
        var q2 = new Float80(0xC000_0000_0000_0002UL, 0xFFFF);
        var s = new Float80(0x8000_0000_0000_0005UL, 0x7FFF);
        Assert.Equal(q2, SoftFloat80.Add(q1, q2, ref env));
        Assert.Equal(FloatExceptions.None, env.Flags);
        Assert.Equal(q1, SoftFloat80.Mul(s, q1, ref env));
        Assert.Equal(FloatExceptions.Invalid, env.Flags);
        Assert.Equal(SoftFloat80.DefaultNaN, SoftFloat80.Add(new Float80(1, 0x3FFF), SoftFloat80.One, ref env));
    }
}
