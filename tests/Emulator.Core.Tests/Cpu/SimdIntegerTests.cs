using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// The MMX and SSE2 integer operations (Simd.*.cs): each operation's MMX and XMM forms against
/// values worked out by hand from the SDM, the exception checks QEMU 7.2 makes first, and the
/// MMX state switch. Programs loop twice over reloaded inputs, so CI's compile-everything pass
/// runs them as compiled blocks too.
/// </summary>
[Trait("Category", "Unit")]
public class SimdIntegerTests
{
    private const ulong Data = 0x200000;
    private const ulong Handler = 0x180000;

    /// <summary>Runs <paramref name="op"/> on mm0/xmm0 ← (a) and mm1/xmm1 ← (b), both from memory, and returns (mm0, xmm0 low, xmm0 high).</summary>
    private static (ulong Mmx, ulong XmmLow, ulong XmmHigh) Both(Action<Assembler> mmx, Action<Assembler> xmm, ulong aLo, ulong aHi, ulong bLo, ulong bHi)
    {
        using var m = new TestMachine();
        m.WriteU64(Data, aLo);
        m.WriteU64(Data + 8, aHi);
        m.WriteU64(Data + 16, bLo);
        m.WriteU64(Data + 24, bHi);
        m.LoadLong64(a =>
        {
            var loop = a.CreateLabel();
            a.mov(ecx, 2);
            a.Label(ref loop);
            a.movq(mm0, __qword_ptr[Data]);
            a.movq(mm1, __qword_ptr[Data + 16]);
            a.movdqa(xmm0, __xmmword_ptr[Data]);
            a.movdqa(xmm1, __xmmword_ptr[Data + 16]);
            mmx(a);
            xmm(a);
            a.movq(__qword_ptr[Data + 0x40], mm0);
            a.movdqa(__xmmword_ptr[Data + 0x50], xmm0);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
        });
        m.EnableSse();
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Empty(m.Cpu.Unimplemented);
        return (m.ReadU64(Data + 0x40), m.ReadU64(Data + 0x50), m.ReadU64(Data + 0x58));
    }

    /// <summary>A machine whose exceptions go to a HLT (<see cref="Cpu.LastException"/> names the vector).</summary>
    private static TestMachine WithIdt()
    {
        var m = new TestMachine();
        m.Load(Handler, TestMachine.Assemble(64, Handler, a => a.hlt()));
        SystemTestSupport.InstallLongIdt(m, Handler);
        return m;
    }

    [Fact]
    public void SaturatingAddAndSubtract_ClampPerElement()
    {
        // bytes: 0x7F+0x01 → 0x7F signed, 0x80+0xFF → 0x80, 0xF0+0x20 → 0xFF unsigned
        var r = Both(a => a.paddsb(mm0, mm1), a => a.paddsb(xmm0, xmm1), 0x0000_0000_00F0_807F, 0x7F, 0x0000_0000_0020_FF01, 0x01);
        Assert.Equal(0x0000_0000_0010_807FUL, r.Mmx);
        Assert.Equal(r.Mmx, r.XmmLow);
        Assert.Equal(0x7FUL, r.XmmHigh);
        r = Both(a => a.paddusb(mm0, mm1), a => a.paddusb(xmm0, xmm1), 0x0000_0000_00F0_807F, 0, 0x0000_0000_0020_FF01, 0);
        Assert.Equal(0x0000_0000_00FF_FF80UL, r.Mmx);
        r = Both(a => a.psubusw(mm0, mm1), a => a.psubusw(xmm0, xmm1), 0x0001_0005_FFFF_0003, 0, 0x0002_0001_0001_0004, 0);
        Assert.Equal(0x0000_0004_FFFE_0000UL, r.Mmx);
        r = Both(a => a.psubsw(mm0, mm1), a => a.psubsw(xmm0, xmm1), 0x8000_7FFF, 0, 0x0001_FFFF, 0);
        Assert.Equal(0x8000_7FFFUL, r.Mmx);
        Assert.Equal(r.Mmx, r.XmmLow);
    }

    [Fact]
    public void Multiplies_MaddAndSad()
    {
        var r = Both(a => a.pmulhw(mm0, mm1), a => a.pmulhw(xmm0, xmm1), 0x0000_4000_FFFF_8000, 0, 0x0000_0004_0002_8000, 0);
        Assert.Equal(0x0000_0001_FFFF_4000UL, r.Mmx);
        r = Both(a => a.pmulhuw(mm0, mm1), a => a.pmulhuw(xmm0, xmm1), 0xFFFF, 0, 0xFFFF, 0);
        Assert.Equal(0xFFFEUL, r.Mmx);
        r = Both(a => a.pmullw(mm0, mm1), a => a.pmullw(xmm0, xmm1), 0x0003_FFFF, 0, 0x0005_0003, 0);
        Assert.Equal(0x000F_FFFDUL, r.Mmx);
        r = Both(a => a.pmuludq(mm0, mm1), a => a.pmuludq(xmm0, xmm1), 0x1234_5678_FFFF_FFFF, 2, 0xABCD_0000_FFFF_FFFF, 3);
        Assert.Equal(0xFFFF_FFFE_0000_0001UL, r.Mmx);
        Assert.Equal(6UL, r.XmmHigh);

        // PMADDWD: 0x8000 × 0x8000 twice wraps to 0x80000000.
        r = Both(a => a.pmaddwd(mm0, mm1), a => a.pmaddwd(xmm0, xmm1), 0x0002_0003_8000_8000, 0, 0xFFFF_0004_8000_8000, 0);
        Assert.Equal(0x0000_000A_8000_0000UL, r.Mmx);
        r = Both(a => a.psadbw(mm0, mm1), a => a.psadbw(xmm0, xmm1), 0x00FF_0010, 0x0102, 0xFF00_0020, 0x0201);
        Assert.Equal((ulong)(0x10 + 0xFF + 0xFF), r.Mmx);
        Assert.Equal(2UL, r.XmmHigh);
        r = Both(a => a.pavgb(mm0, mm1), a => a.pavgb(xmm0, xmm1), 0x00FF_0001, 0, 0x00FF_0002, 0);
        Assert.Equal(0x00FF_0002UL, r.Mmx);
    }

    [Fact]
    public void PacksAndUnpacks_UseTheLiveWidth()
    {
        // PACKSSWB mm: four words of each operand, the destination's first.
        var r = Both(a => a.packsswb(mm0, mm1), a => a.packsswb(xmm0, xmm1), 0x0001_FF80_8000_7FFF, 0x0005, 0x0002_0003_0004_0100, 0x0006);
        Assert.Equal(0x0203_047F_0180_807FUL, r.Mmx);
        Assert.Equal(0x0000_0005_0180_807FUL, r.XmmLow);
        Assert.Equal(0x0000_0006_0203_047FUL, r.XmmHigh);
        r = Both(a => a.packuswb(mm0, mm1), a => a.packuswb(xmm0, xmm1), 0x0001_FF80_0100_FFFF, 0, 0, 0);
        Assert.Equal(0x0100_FF00UL, r.Mmx);

        // PUNPCKHBW mm interleaves the high four bytes; the XMM form the high eight.
        r = Both(a => a.punpckhbw(mm0, mm1), a => a.punpckhbw(xmm0, xmm1), 0x4433_2211_0000_0000, 0x8877_6655_4433_2211, 0xDDCC_BBAA_0000_0000, 0x1111_1111_DDCC_BBAA);
        Assert.Equal(0xDD44_CC33_BB22_AA11UL, r.Mmx);
        Assert.Equal(0xDD44_CC33_BB22_AA11UL, r.XmmLow);
        r = Both(a => a.punpckldq(mm0, mm1), a => a.punpckldq(xmm0, xmm1), 0x1111_1111_2222_2222, 0, 0x3333_3333_4444_4444, 0);
        Assert.Equal(0x4444_4444_2222_2222UL, r.Mmx);
    }

    [Fact]
    public void Shifts_ByRegisterAndImmediate()
    {
        var r = Both(a => a.psraw(mm0, 15), a => a.psraw(xmm0, 200), 0x8000_7FFF_0001_FFFE, 0, 0, 0);
        Assert.Equal(0xFFFF_0000_0000_FFFFUL, r.Mmx);
        Assert.Equal(r.Mmx, r.XmmLow);
        r = Both(a => a.psrlq(mm0, mm1), a => a.psrlq(xmm0, xmm1), 0x8000_0000_0000_0000, 0x10, 63, 0);
        Assert.Equal(1UL, r.Mmx);
        Assert.Equal(0UL, r.XmmHigh);

        // A count of at least the element width zeroes a logical shift (the whole 64-bit count counts).
        r = Both(a => a.psllw(mm0, mm1), a => a.psllw(xmm0, xmm1), 0xFFFF, 0, 0x1_0000_0000, 0);
        Assert.Equal(0UL, r.Mmx);
        r = Both(a => a.pslld(mm0, 4), a => a.pslld(xmm0, 4), 0xF000_0001, 0, 0, 0);
        Assert.Equal(0x0000_0010UL, r.Mmx);
    }

    [Fact]
    public void WordInsertExtractShuffleAndMask()
    {
        var r = Both(
            a => { a.mov(eax, 0xBEEF); a.pinsrw(mm0, eax, 6); a.pshufw(mm0, mm0, 0b00_01_10_11); },
            a => { a.mov(eax, 0xBEEF); a.pinsrw(xmm0, eax, 6); },
            0x4444_3333_2222_1111, 0x8888_7777_6666_5555, 0, 0);
        Assert.Equal(0x1111_2222_BEEF_4444UL, r.Mmx);
        Assert.Equal(0x8888_BEEF_6666_5555UL, r.XmmHigh);

        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(rax, unchecked((long)0x8000_0080_0001_FF00));
            a.movq(mm3, rax);
            a.pmovmskb(ebx, mm3);
            a.pextrw(edx, mm3, 5);
            a.movq2dq(xmm4, mm3);
            a.pcmpeqb(xmm5, xmm5);
            a.movdq2q(mm6, xmm5);
            a.movd(esi, mm6);
            a.emms();
            a.hlt();
        });
        m.EnableSse();
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0b1001_0010UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0x0001UL, m.Cpu.GetGpr(Gpr.Rdx)); // index 5 modulo the 4 words of an MMX register
        Assert.Equal((UInt128)0x8000_0080_0001_FF00, m.Cpu.Fpu.Xmm[4]);
        Assert.Equal(0xFFFF_FFFFUL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0, m.Cpu.Fpu.TagValid);
    }

    [Fact]
    public void MaskedStores_WriteOnlySelectedBytes()
    {
        using var m = new TestMachine();
        m.WriteU64(Data, 0x1111_1111_1111_1111);
        m.WriteU64(Data + 0x20, 0x1111_1111_1111_1111);
        m.WriteU64(Data + 0x28, 0x1111_1111_1111_1111);
        m.LoadLong64(a =>
        {
            a.mov(rdi, (long)Data);
            a.mov(rax, unchecked((long)0x8877_6655_4433_2211));
            a.movq(mm0, rax);
            a.mov(rax, unchecked((long)0x8000_0080_0000_8000));
            a.movq(mm1, rax);
            a.maskmovq(mm0, mm1);
            a.mov(rdi, (long)Data + 0x20);
            a.movq2dq(xmm0, mm0);
            a.punpcklqdq(xmm0, xmm0);
            a.movq2dq(xmm1, mm1);
            a.pshufd(xmm1, xmm1, 0b01_00_11_10);
            a.maskmovdqu(xmm0, xmm1);
            a.hlt();
        });
        m.EnableSse();
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x8811_1155_1111_2211UL, m.ReadU64(Data));
        Assert.Equal(0x1111_1111_1111_1111UL, m.ReadU64(Data + 0x20));
        Assert.Equal(0x8811_1155_1111_2211UL, m.ReadU64(Data + 0x28));
    }

    [Fact]
    public void MmxForm_SwitchesX87StateEvenWhenItsLoadFaults()
    {
        using var m = WithIdt();
        m.LoadLong64(a =>
        {
            a.fninit();
            a.fld1();
            a.mov(rax, unchecked((long)0x8000_0000_0000_0000));
            a.paddb(mm0, __qword_ptr[rax]);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(Vector.GP, m.Cpu.LastException);
        Assert.Equal(0, m.Cpu.Fpu.Top);
        Assert.Equal(0xFF, m.Cpu.Fpu.TagValid);
    }

    [Theory]
    [InlineData(false, 0UL, Vector.UD)]
    [InlineData(true, CrBits.TS, Vector.NM)]
    [InlineData(true, CrBits.EM, Vector.UD)]
    public void SseForm_ChecksOsfxsrThenTsThenEm(bool osfxsr, ulong cr0Bits, int vector)
    {
        using var m = WithIdt();
        m.LoadLong64(a =>
        {
            a.paddsw(xmm0, xmm1);
            a.hlt();
        });
        if (osfxsr)
        {
            m.EnableSse();
        }

        m.Cpu.WriteCr0(m.Cpu._cr0 | cr0Bits);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(vector, m.Cpu.LastException);
    }

    [Theory]
    [InlineData(0UL, -1)]
    [InlineData(CrBits.TS, Vector.NM)]
    [InlineData(CrBits.EM, Vector.UD)]
    public void MmxForm_IgnoresOsfxsrAndChecksTsThenEm(ulong cr0Bits, int vector)
    {
        using var m = WithIdt();
        m.LoadLong64(a =>
        {
            a.paddsw(mm0, mm1);
            a.emms();
            a.hlt();
        });
        m.Cpu.WriteCr0(m.Cpu._cr0 | cr0Bits);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(vector, m.Cpu.LastException);
    }
}
