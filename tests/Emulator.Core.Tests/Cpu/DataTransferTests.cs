using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>MOV, MOVZX, MOVSX, MOVSXD, LEA, XCHG, XLAT, LAHF/SAHF and the NOP family (Intel SDM Vol. 2).</summary>
[Trait("Category", "Unit")]
public class DataTransferTests
{
    [Fact]
    public void Mov_RegisterMemoryImmediateAndMoffsForms_Long64()
    {
        using var m = new TestMachine();
        m.WriteU64(0x300000, 0x0123_4567_89AB_CDEFUL);
        m.LoadLong64(a =>
        {
            a.mov(rax, ulong.MaxValue);
            a.mov(eax, 0x12345678);
            a.mov(rbx, ulong.MaxValue);
            a.mov(bx, 0x1234);
            a.mov(rcx, ulong.MaxValue);
            a.mov(cl, 0x12);
            a.mov(ch, 0x34);
            a.mov(rdx, __qword_ptr[0x300000]);
            a.mov(__dword_ptr[0x300010], 0xFEDCBA98);
            a.mov(__word_ptr[0x300014], bx);
            a.mov(__byte_ptr[0x300016], ch);
            a.mov(r8, -5);
            a.mov(r9d, r8d);
            a.mov(r10b, 0x7F);
            a.mov(sil, r10b);
            a.mov(rdi, 0);
            a.AddInstruction(Instruction.Create(Code.Mov_EAX_moffs32, Register.EAX, new MemoryOperand(Register.None, 0x300000, 8)));
            a.mov(__qword_ptr[0x300020], rax);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x89AB_CDEFUL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0xFFFF_FFFF_FFFF_1234UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0xFFFF_FFFF_FFFF_3412UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(0x0123_4567_89AB_CDEFUL, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(0x0034_1234_FEDC_BA98UL, m.ReadU64(0x300010));
        Assert.Equal(ulong.MaxValue - 4, m.Cpu.GetGpr(Gpr.R8));
        Assert.Equal(0xFFFF_FFFBUL, m.Cpu.GetGpr(Gpr.R9));
        Assert.Equal(0x7FUL, m.Cpu.GetGpr(Gpr.Rsi) & 0xFF);
        Assert.Equal(0x89AB_CDEFUL, m.ReadU64(0x300020));
    }

    /// <summary>MOV r/m, Sreg reads the selector (zero-extended into a 32-bit register).</summary>
    [Fact]
    public void Mov_FromSegmentRegister()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.mov(eax, 0xFFFFFFFF);
            a.mov(eax, ds);
            a.mov(__word_ptr[0x300000], cs);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)TestMachine.Data32, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal((ulong)TestMachine.Code32, m.Bus.Read(0x300000, 2));
    }

    public static TheoryData<int, int, ulong> ExtendCases => new()
    {
        { 1, 2, 0x7F }, { 1, 2, 0x80 }, { 1, 4, 0xFF }, { 1, 8, 0x80 }, { 1, 8, 0x00 },
        { 2, 4, 0x7FFF }, { 2, 4, 0x8000 }, { 2, 8, 0xFFFF }, { 4, 8, 0x7FFF_FFFF }, { 4, 8, 0x8000_0000 },
        { 4, 4, 0x8000_0000 }, { 2, 2, 0x8001 },
    };

    /// <summary>MOVZX, MOVSX and MOVSXD from registers and memory at every size pair; the destination's unused bits follow the write-size rules.</summary>
    [Theory]
    [MemberData(nameof(ExtendCases))]
    public void MovzxMovsx_EverySizePair(int src, int dst, ulong value)
    {
        using var m = new TestMachine();
        m.WriteU64(0x300000, value);
        var regCode = (src, dst) switch
        {
            (1, 2) => (Code.Movzx_r16_rm8, Code.Movsx_r16_rm8),
            (1, 4) => (Code.Movzx_r32_rm8, Code.Movsx_r32_rm8),
            (1, 8) => (Code.Movzx_r64_rm8, Code.Movsx_r64_rm8),
            (2, 4) => (Code.Movzx_r32_rm16, Code.Movsx_r32_rm16),
            (2, 8) => (Code.Movzx_r64_rm16, Code.Movsx_r64_rm16),
            (4, 8) => (Code.Mov_r32_rm32, Code.Movsxd_r64_rm32),
            (4, 4) => (Code.Mov_r32_rm32, Code.Movsxd_r32_rm32),
            _ => (Code.Mov_r16_rm16, Code.Movsxd_r16_rm16),
        };
        Register Reg(int size, int n) => size switch
        {
            1 => Register.AL + n,
            2 => Register.AX + n,
            4 => Register.EAX + n,
            _ => Register.RAX + n,
        };
        m.LoadLong64(a =>
        {
            a.mov(rbx, 0x5555_5555_5555_5555UL);
            a.mov(rdx, 0x5555_5555_5555_5555UL);
            a.mov(rsi, 0x5555_5555_5555_5555UL);
            a.mov(rdi, 0x5555_5555_5555_5555UL);
            a.mov(rcx, value);
            var zxSrc = regCode.Item1 == Code.Mov_r32_rm32 ? Reg(4, 1) : Reg(src, 1);
            a.AddInstruction(Instruction.Create(regCode.Item1, Reg(dst == 8 && regCode.Item1 == Code.Mov_r32_rm32 ? 4 : dst, 3), zxSrc));
            a.AddInstruction(Instruction.Create(regCode.Item2, Reg(dst, 2), Reg(src, 1)));
            a.AddInstruction(Instruction.Create(regCode.Item2, Reg(dst, 7), new MemoryOperand(Register.None, 0x300000, 8)));
            a.AddInstruction(Instruction.Create(regCode.Item1, Reg(dst == 8 && regCode.Item1 == Code.Mov_r32_rm32 ? 4 : dst, 6), new MemoryOperand(Register.None, 0x300000, 8)));
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        int srcShift = 64 - src * 8;
        ulong zx = (value << srcShift) >> srcShift;
        ulong sx = (ulong)((long)(value << srcShift) >> srcShift);
        ulong Merge(ulong v) => dst switch
        {
            2 => 0x5555_5555_5555_0000UL | (v & 0xFFFF),
            4 => v & 0xFFFF_FFFF,
            _ => v,
        };
        Assert.Equal(Merge(zx), m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(Merge(sx), m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(Merge(sx), m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(Merge(zx), m.Cpu.GetGpr(Gpr.Rsi));
    }

    /// <summary>LEA computes at the address size, then truncates or zero-extends to the operand size.</summary>
    [Fact]
    public void Lea_AddressSizeVersusOperandSize()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(rbx, 0x1_0000_0000UL);
            a.mov(rcx, 0xFFFF_FFFF_FFFF_FFFFUL);
            a.lea(rax, __[rbx + rcx * 4 + 8]);
            a.lea(edx, __[rbx + rcx * 4 + 8]);
            a.mov(rsi, ulong.MaxValue);
            a.lea(si, __[rbx + 0x12345]);
            a.lea(rdi, __[ebx + ecx + 0x10]);
            var end = a.CreateLabel();
            a.lea(r8, __[end]);
            a.Label(ref end);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x1_0000_0004UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(4UL, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(0xFFFF_FFFF_FFFF_2345UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0xFUL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(m.Cpu.Rip - 1, m.Cpu.GetGpr(Gpr.R8));
    }

    /// <summary>16-bit addressing in 32-bit code (67h) and 32-bit addressing in real mode.</summary>
    [Fact]
    public void Lea_MixedAddressSizes()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.mov(ebx, 0x1234FFF0);
            a.mov(esi, 0x00000020);
            a.lea(eax, __[bx + si + 4]);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x14UL, m.Cpu.GetGpr(Gpr.Rax));

        using var r = new TestMachine();
        r.LoadReal(a =>
        {
            a.mov(ebx, 0x12340000);
            a.mov(ecx, 0x00010002);
            a.lea(eax, __[ebx + ecx * 2]);
            a.lea(dx, __[ebx + ecx * 2]);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, r.Run());
        Assert.Equal(0x12360004UL, r.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0x0004UL, r.Cpu.GetGpr(Gpr.Rdx) & 0xFFFF);
    }

    [Fact]
    public void Xchg_RegistersMemoryAndNops()
    {
        using var m = new TestMachine();
        m.WriteU64(0x300000, 0x1111_2222_3333_4444UL);
        m.LoadLong64(a =>
        {
            a.mov(rax, 0xAAAA_AAAA_0000_0001UL);
            a.mov(rbx, 0xBBBB_BBBB_0000_0002UL);
            a.xchg(rax, rbx);
            a.mov(rcx, 0x0102);
            a.xchg(cl, ch);
            a.mov(rdx, 0x5555);
            a.xchg(__qword_ptr[0x300000], rdx);
            a.mov(rsi, ulong.MaxValue);
            a.mov(rdi, 7);
            a.xchg(si, di);
            a.mov(r8, ulong.MaxValue);
            a.db(0x90);                         // NOP: RAX is not zero-extended
            a.db(0x41, 0x90);                   // xchg r8d, eax: both zero-extended
            a.mov(r9, ulong.MaxValue);
            a.db(0x87, 0xC0);                   // xchg eax, eax (87 /r): zero-extends RAX
            a.db(0x0F, 0x1F, 0x44, 0x00, 0x00); // multi-byte NOP
            a.db(0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00);
            a.pause();
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0xAAAA_AAAA_0000_0001UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0x0201UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(0x1111_2222_3333_4444UL, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(0x5555UL, m.ReadU64(0x300000));
        Assert.Equal(0xFFFF_FFFF_FFFF_0007UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0xFFFFUL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(0xFFFF_FFFFUL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0x0000_0002UL, m.Cpu.GetGpr(Gpr.R8));
    }

    /// <summary>A lone 0x90 leaves all of RAX alone in 64-bit mode.</summary>
    [Fact]
    public void Nop_DoesNotZeroExtendRax()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(rax, 0xDEAD_BEEF_0000_0001UL);
            a.db(0x90);
            a.db(0x48, 0x90);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0xDEAD_BEEF_0000_0001UL, m.Cpu.GetGpr(Gpr.Rax));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(64)]
    public void Xlat_IndexesWithUnsignedAlOnly(int bitness)
    {
        using var m = new TestMachine();
        ulong table = bitness == 16 ? 0x2000UL : 0x300000UL;
        for (int i = 0; i < 256; i++)
        {
            m.Bus.Write(table + (ulong)i, 1, (ulong)(255 - i));
        }

        void Build(Assembler a)
        {
            a.mov(eax, 0x7777_77F0);
            if (bitness == 64)
            {
                a.mov(rbx, table);
            }
            else
            {
                a.mov(ebx, (uint)table);
            }

            a.xlatb();
            a.hlt();
        }

        m.Load(bitness, Build);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x7777_770FUL, m.Cpu.GetGpr(Gpr.Rax));
    }

    /// <summary>SAHF loads SF, ZF, AF, PF, CF from AH and leaves OF; LAHF stores them with bit 1 set.</summary>
    [Theory]
    [InlineData(0x00)]
    [InlineData(0xFF)]
    [InlineData(0xD5)]
    [InlineData(0x41)]
    [InlineData(0x2A)]
    public void SahfLahf_RoundTrip(byte ah)
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.mov(eax, 0x7FFFFFFF);
            a.add(eax, 1);
            a.mov(eax, (uint)ah << 8);
            a.sahf();
            a.mov(eax, 0);
            a.lahf();
            a.pushfq();
            a.pop(rbx);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        ulong expected = (ulong)(ah & 0xD5) | RFlags.Reserved1;
        Assert.Equal(expected << 8, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(expected | RFlags.OF, m.Cpu.GetGpr(Gpr.Rbx) & 0xFFF);
    }
}
