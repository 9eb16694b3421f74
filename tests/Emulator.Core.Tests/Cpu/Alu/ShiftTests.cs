using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu.Alu;

/// <summary>Shift and rotate counts, masking, count 0 and the SDM-defined flags.</summary>
[Trait("Category", "Unit")]
public sealed class ShiftTests : IDisposable
{
    private const ulong AllArith = RFlags.Reserved1 | RFlags.Arith;
    private readonly AluSandbox _box = new(64);

    public void Dispose() => _box.Dispose();

    /// <summary>Runs <paramref name="shift"/> with <paramref name="reg"/> = <paramref name="value"/>, then checks the register and the flags under <paramref name="flagMask"/>.</summary>
    private void AssertShift(
        Action<Assembler> shift, int reg, ulong value, ulong result, ulong flags, ulong flagMask = RFlags.Arith, ulong flagsIn = RFlags.Reserved1)
    {
        Assert.True(_box.Run(shift, cpu => cpu._gpr[reg] = value, flagsIn));
        Assert.Equal(result, _box.Reg(reg));
        Assert.Equal(flags, _box.Flags & flagMask);
    }

    [Fact]
    public void CountZeroAfterMasking_LeavesFlags_ButStillZeroExtends32()
    {
        // CL = 32 masks to 0 for a 32-bit operand; lazy flags from the ADD must survive too.
        Assert.True(_box.Run(
            x => { x.add(ebx, ebx); x.shl(eax, cl); },
            cpu => { cpu._gpr[Gpr.Rax] = 0xFFFF_FFFF_8000_0001; cpu._gpr[Gpr.Rbx] = 0x8000_0000; cpu._gpr[Gpr.Rcx] = 32; }));
        Assert.Equal(0x8000_0001UL, _box.Reg(Gpr.Rax));
        Assert.Equal(RFlags.CF | RFlags.OF | RFlags.ZF | RFlags.PF, _box.Flags & RFlags.Arith);

        foreach (var shift in new Action<Assembler>[] { x => x.shr(rax, 64), x => x.sar(ax, cl), x => x.rol(al, cl), x => x.rcr(eax, 0), x => x.shld(eax, ebx, 0) })
        {
            Assert.True(_box.Run(shift, cpu => cpu._gpr[Gpr.Rax] = 0x1234, AllArith));
            Assert.Equal(AllArith, _box.Flags);
            Assert.Equal(0x1234UL, _box.Reg(Gpr.Rax));
        }
    }

    [Fact]
    public void ShiftByOne_DefinedOverflow()
    {
        AssertShift(x => x.shl(al, 1), Gpr.Rax, 0x40, 0x80UL, RFlags.OF | RFlags.SF);
        AssertShift(x => x.shr(rax, 1), Gpr.Rax, 0x8000_0000_0000_0001, 0x4000_0000_0000_0000UL, RFlags.CF | RFlags.OF | RFlags.PF);
        AssertShift(x => x.sar(cx, 1), Gpr.Rcx, 0x8001, 0xC000UL, RFlags.CF | RFlags.SF | RFlags.PF);
    }

    [Fact]
    public void LongCounts_OnNarrowOperands()
    {
        // SHL r8 by 9: everything shifted out, CF = 0 (the bit "shifted out last" is beyond the operand).
        AssertShift(x => x.shl(bl, 9), Gpr.Rbx, 0xFF, 0UL, RFlags.ZF | RFlags.PF);

        // SAR r8 by 20 fills with the sign; CF is the sign too.
        AssertShift(x => x.sar(bl, 20), Gpr.Rbx, 0x80, 0xFFUL, RFlags.CF, flagMask: RFlags.CF);

        // ROL r8 by 8: value unchanged, but the count is not 0 so CF/OF are computed.
        AssertShift(x => x.rol(bl, 8), Gpr.Rbx, 0x81, 0x81UL, RFlags.CF | RFlags.ZF, flagsIn: RFlags.Reserved1 | RFlags.ZF);
    }

    [Fact]
    public void Rotates_TouchOnlyCarryAndOverflow()
    {
        AssertShift(x => x.ror(eax, 1), Gpr.Rax, 1, 0x8000_0000UL, RFlags.CF | RFlags.OF | RFlags.ZF | RFlags.AF, flagsIn: RFlags.Reserved1 | RFlags.ZF | RFlags.AF);
        AssertShift(x => x.rcl(al, 1), Gpr.Rax, 0x80, 0x01UL, RFlags.CF | RFlags.OF, flagsIn: RFlags.Reserved1 | RFlags.CF);

        // RCL r8 by 9 is a full turn through CF: nothing changes.
        AssertShift(x => x.rcl(al, 9), Gpr.Rax, 0x5A, 0x5AUL, RFlags.CF, flagsIn: RFlags.Reserved1 | RFlags.CF);

        Assert.True(_box.Run(x => x.rcr(rax, cl), cpu => { cpu._gpr[Gpr.Rax] = 1; cpu._gpr[Gpr.Rcx] = 1; }, RFlags.Reserved1 | RFlags.CF));
        Assert.Equal(0x8000_0000_0000_0000UL, _box.Reg(Gpr.Rax));
        Assert.Equal(RFlags.CF | RFlags.OF, _box.Flags & RFlags.Arith);
    }

    [Fact]
    public void DoubleShifts()
    {
        Assert.True(_box.Run(x => x.shld(eax, ebx, 8), cpu => { cpu._gpr[Gpr.Rax] = 0x1122_3344; cpu._gpr[Gpr.Rbx] = 0xAABB_CCDD; }));
        Assert.Equal(0x2233_44AAUL, _box.Reg(Gpr.Rax));

        Assert.True(_box.Run(x => x.shrd(rax, rbx, cl), cpu => { cpu._gpr[Gpr.Rax] = 0x11; cpu._gpr[Gpr.Rbx] = 0xFF; cpu._gpr[Gpr.Rcx] = 4; }));
        Assert.Equal(0xF000_0000_0000_0001UL, _box.Reg(Gpr.Rax));
        Assert.Equal(RFlags.SF, _box.Flags & (RFlags.SF | RFlags.CF));

        // 16-bit SHLD by 20 shifts dest:src:dest (Intel, QEMU): 0x1234:0xABCD:0x1234 << 20 → 0xBCD1.
        Assert.True(_box.Run(x => x.shld(ax, bx, 20), cpu => { cpu._gpr[Gpr.Rax] = 0x1234; cpu._gpr[Gpr.Rbx] = 0xABCD; }));
        Assert.Equal(0xBCD1UL, _box.Reg(Gpr.Rax));
    }

    [Fact]
    public void MemoryDestination()
    {
        _box.WriteData(0, [0x81, 0, 0, 0]);
        Assert.True(_box.Run(x => x.sar(__byte_ptr[rdi], 1), cpu => cpu._gpr[Gpr.Rdi] = AluSandbox.DataAt));
        Assert.Equal(0xC0UL, _box.ReadData(0, 4));
        Assert.Equal(RFlags.CF, _box.Flags & RFlags.CF);
    }
}
