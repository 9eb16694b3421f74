using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu.Alu;

/// <summary>MUL, IMUL, DIV, IDIV (faults included) and the BCD adjustments.</summary>
[Trait("Category", "Unit")]
public sealed class MulDivTests : IDisposable
{
    private readonly AluSandbox _box = new(64);

    public void Dispose() => _box.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Div_ByZero_RaisesDeAndChangesNothing(int size)
    {
        bool ok = _box.Run(
            a =>
            {
                switch (size)
                {
                    case 1: a.div(cl); break;
                    case 2: a.div(cx); break;
                    case 4: a.div(ecx); break;
                    default: a.div(rcx); break;
                }
            },
            cpu =>
            {
                cpu._gpr[Gpr.Rax] = 0x1234;
                cpu._gpr[Gpr.Rdx] = 0x5678;
            });
        Assert.False(ok);
        Assert.Equal(Vector.DE, _box.Fault);
        Assert.Equal(0x1234UL, _box.Reg(Gpr.Rax));
        Assert.Equal(0x5678UL, _box.Reg(Gpr.Rdx));
    }

    /// <summary>DIV quotients too wide for the destination, and IDIV's minimum-by-minus-one and other overflows.</summary>
    [Theory]
    [InlineData(false, 1, 0x1000UL, 0UL, 0x10UL)]
    [InlineData(false, 2, 0x0000UL, 0x10UL, 0x10UL)]
    [InlineData(false, 4, 0UL, 1UL, 1UL)]
    [InlineData(false, 8, 0UL, 1UL, 1UL)]
    [InlineData(true, 1, 0xFF80UL, 0UL, 0xFFUL)]
    [InlineData(true, 2, 0x8000UL, 0xFFFFUL, 0xFFFFUL)]
    [InlineData(true, 4, 0x8000_0000UL, 0xFFFF_FFFFUL, 0xFFFF_FFFFUL)]
    [InlineData(true, 8, 0x8000_0000_0000_0000UL, ulong.MaxValue, ulong.MaxValue)]
    [InlineData(true, 8, 0UL, 0x8000_0000_0000_0000UL, ulong.MaxValue)]
    [InlineData(true, 8, 0UL, 1UL, 2UL)]
    public void DivAndIdiv_QuotientOverflow_RaiseDe(bool signed, int size, ulong rax, ulong rdx, ulong divisor)
    {
        bool ok = _box.Run(a => EmitDiv(a, size, signed), cpu => Set(cpu, rax, rdx, divisor));
        Assert.False(ok);
        Assert.Equal(Vector.DE, _box.Fault);
    }

    [Theory]
    [InlineData(1, 0xFFF9UL, 0UL, 2UL, 0xFFFDUL, 0UL)]                           // AX = -7 / 2: AL = -3, AH = -1
    [InlineData(2, 0xFFF9UL, 0xFFFFUL, 2UL, 0xFFFDUL, 0xFFFFUL)]
    [InlineData(4, 0xFFFF_FFF9UL, 0xFFFF_FFFFUL, 2UL, 0xFFFF_FFFDUL, 0xFFFF_FFFFUL)]
    [InlineData(8, 0xFFFF_FFFF_FFFF_FFF9UL, ulong.MaxValue, 2UL, 0xFFFF_FFFF_FFFF_FFFDUL, ulong.MaxValue)]
    [InlineData(8, 0UL, 0xFFFF_FFFF_C000_0000UL, 0x8000_0000_0000_0000UL, 0x8000_0000UL, 0UL)]       // -2^94 / -2^63
    public void Idiv_TruncatesTowardZero(int size, ulong rax, ulong rdx, ulong divisor, ulong expectRax, ulong expectRdx)
    {
        Assert.True(_box.Run(a => EmitDiv(a, size, signed: true), cpu => Set(cpu, rax, rdx, divisor)));
        Assert.Equal(expectRax, _box.Reg(Gpr.Rax) & (size == 1 ? 0xFFFFUL : ulong.MaxValue));
        Assert.Equal(expectRdx, _box.Reg(Gpr.Rdx));
    }

    [Fact]
    public void Div64_UsesTheFull128BitDividend()
    {
        Assert.True(_box.Run(a => a.div(rcx), cpu => Set(cpu, 5, 1, 2)));
        Assert.Equal(0x8000_0000_0000_0002UL, _box.Reg(Gpr.Rax));
        Assert.Equal(1UL, _box.Reg(Gpr.Rdx));
    }

    [Fact]
    public void Div32_ZeroExtendsBothResults_AndLeavesFlags()
    {
        ulong flags = RFlags.Reserved1 | RFlags.CF | RFlags.ZF | RFlags.OF;
        Assert.True(_box.Run(a => a.div(ecx), cpu => Set(cpu, 0xFFFF_FFFF_0000_0007, 0xFFFF_FFFF_0000_0000, 2), flags));
        Assert.Equal(3UL, _box.Reg(Gpr.Rax));
        Assert.Equal(1UL, _box.Reg(Gpr.Rdx));
        Assert.Equal(flags, _box.Flags);
    }

    [Fact]
    public void Mul64_FullProductAndCarry()
    {
        Assert.True(_box.Run(a => a.mul(rcx), cpu => Set(cpu, ulong.MaxValue, 0, ulong.MaxValue)));
        Assert.Equal(1UL, _box.Reg(Gpr.Rax));
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFEUL, _box.Reg(Gpr.Rdx));
        Assert.Equal(RFlags.CF | RFlags.OF, _box.Flags & (RFlags.CF | RFlags.OF));
    }

    [Fact]
    public void Mul8_WritesAxOnly_FlagsFromAl()
    {
        Assert.True(_box.Run(a => a.mul(cl), cpu => Set(cpu, 0xAAAA_0080, 0x1234, 2)));
        Assert.Equal(0xAAAA_0100UL, _box.Reg(Gpr.Rax));
        Assert.Equal(0x1234UL, _box.Reg(Gpr.Rdx));

        // QEMU: CF = OF = (AH != 0), ZF/SF/PF from AL, AF clear.
        Assert.Equal(RFlags.CF | RFlags.OF | RFlags.ZF | RFlags.PF, _box.Flags & RFlags.Arith);
    }

    [Fact]
    public void Imul_OneOperand_SignedProductAndOverflow()
    {
        Assert.True(_box.Run(a => a.imul(cl), cpu => Set(cpu, 0xFF, 0, 1)));
        Assert.Equal(0xFFFFUL, _box.Reg(Gpr.Rax));
        Assert.Equal(0UL, _box.Flags & RFlags.CF);

        Assert.True(_box.Run(a => a.imul(rcx), cpu => Set(cpu, 1UL << 62, 0, 2)));
        Assert.Equal(1UL << 63, _box.Reg(Gpr.Rax));
        Assert.Equal(0UL, _box.Reg(Gpr.Rdx));
        Assert.Equal(RFlags.CF | RFlags.OF, _box.Flags & (RFlags.CF | RFlags.OF));
    }

    [Fact]
    public void Imul_TwoAndThreeOperands_Truncate()
    {
        Assert.True(_box.Run(a => a.imul(ax, cx), cpu => Set(cpu, 0xFFFF_4000, 0, 4)));
        Assert.Equal(0xFFFF_0000UL, _box.Reg(Gpr.Rax));
        Assert.Equal(RFlags.CF | RFlags.OF, _box.Flags & (RFlags.CF | RFlags.OF));

        Assert.True(_box.Run(a => a.imul(eax, ecx, -2), cpu => Set(cpu, 0xFFFF_FFFF_0000_0000, 0, 21)));
        Assert.Equal(0xFFFF_FFD6UL, _box.Reg(Gpr.Rax));
        Assert.Equal(0UL, _box.Flags & (RFlags.CF | RFlags.OF));

        Assert.True(_box.Run(a => a.imul(rax, rcx, 0x4000_0000), cpu => Set(cpu, 0, 0, 4)));
        Assert.Equal(0x1_0000_0000UL, _box.Reg(Gpr.Rax));
    }

    [Fact]
    public void RealMode_DivideByZero_GoesThroughTheIvt()
    {
        using var box = new AluSandbox(16);
        Assert.False(box.Run(a => a.div(cl), cpu => cpu._gpr[Gpr.Rax] = 5));
        Assert.Equal(Vector.DE, box.Fault);
        Assert.False(box.Run(a => a.aam(0)));
        Assert.Equal(Vector.DE, box.Fault);
    }

    [Theory]
    [InlineData("daa", 0xAEUL, RFlags.Reserved1, 0x14UL, RFlags.CF | RFlags.AF | RFlags.PF)]
    [InlineData("daa", 0x12UL, RFlags.Reserved1, 0x12UL, RFlags.PF)]
    [InlineData("das", 0xEEUL, RFlags.Reserved1 | RFlags.CF | RFlags.AF, 0x88UL, RFlags.CF | RFlags.AF | RFlags.SF | RFlags.PF)]
    [InlineData("aaa", 0x010EUL, RFlags.Reserved1, 0x0204UL, RFlags.CF | RFlags.AF)]
    [InlineData("aaa", 0x0105UL, RFlags.Reserved1 | RFlags.ZF, 0x0105UL, RFlags.ZF)]
    [InlineData("aas", 0x02FDUL, RFlags.Reserved1 | RFlags.AF, 0x0107UL, RFlags.CF | RFlags.AF)]
    [InlineData("aam", 0x003FUL, RFlags.Reserved1, 0x0603UL, RFlags.PF)]
    [InlineData("aad", 0x0603UL, RFlags.Reserved1, 0x003FUL, RFlags.PF)]
    [InlineData("salc", 0x1234UL, RFlags.Reserved1 | RFlags.CF, 0x12FFUL, RFlags.CF)]
    public void Bcd_Adjustments_Protected32(string insn, ulong ax, ulong flagsIn, ulong expectAx, ulong expectArith)
    {
        using var box = new AluSandbox(32);
        byte[] code = insn switch
        {
            "daa" => [0x27],
            "das" => [0x2F],
            "aaa" => [0x37],
            "aas" => [0x3F],
            "aam" => [0xD4, 0x0A],
            "aad" => [0xD5, 0x0A],
            _ => [0xD6],
        };
        Assert.True(box.Run([.. code, 0xF4], cpu => cpu._gpr[Gpr.Rax] = 0xABCD_0000 | ax, flagsIn));
        Assert.Equal(0xABCD_0000 | expectAx, box.Reg(Gpr.Rax));
        Assert.Equal(expectArith, box.Flags & RFlags.Arith);
    }

    private static void Set(global::Emulator.Core.Cpu.Cpu cpu, ulong rax, ulong rdx, ulong rcx)
    {
        cpu._gpr[Gpr.Rax] = rax;
        cpu._gpr[Gpr.Rdx] = rdx;
        cpu._gpr[Gpr.Rcx] = rcx;
    }

    private static void EmitDiv(Iced.Intel.Assembler a, int size, bool signed)
    {
        switch (size, signed)
        {
            case (1, false): a.div(cl); break;
            case (2, false): a.div(cx); break;
            case (4, false): a.div(ecx); break;
            case (8, false): a.div(rcx); break;
            case (1, true): a.idiv(cl); break;
            case (2, true): a.idiv(cx); break;
            case (4, true): a.idiv(ecx); break;
            default: a.idiv(rcx); break;
        }
    }
}
