using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu.Alu;

/// <summary>Logic operations, BT*, BSF/BSR, BSWAP, SETcc and CMOVcc.</summary>
[Trait("Category", "Unit")]
public sealed class BitAndLogicTests : IDisposable
{
    private const ulong Base = AluSandbox.DataAt + 0x100;
    private readonly AluSandbox _box = new(64);

    public void Dispose() => _box.Dispose();

    [Fact]
    public void Logic_ClearsCarryOverflowAndAux_NotTouchesNothing()
    {
        ulong all = RFlags.Reserved1 | RFlags.Arith;
        Assert.True(_box.Run(x => x.and(eax, 0x80), cpu => cpu._gpr[Gpr.Rax] = 0xFFFF_FFFF_FFFF_FFFF, all));
        Assert.Equal(0x80UL, _box.Reg(Gpr.Rax));
        Assert.Equal(0UL, _box.Flags & RFlags.Arith);

        Assert.True(_box.Run(x => x.test(al, 0x81), cpu => cpu._gpr[Gpr.Rax] = 0x80, all));
        Assert.Equal(RFlags.SF, _box.Flags & RFlags.Arith);

        Assert.True(_box.Run(x => x.not(bx), cpu => cpu._gpr[Gpr.Rbx] = 0x1_00FF, all));
        Assert.Equal(0x1_FF00UL, _box.Reg(Gpr.Rbx));
        Assert.Equal(all, _box.Flags);
    }

    [Fact]
    public void XorZeroingIdiom()
    {
        Assert.True(_box.Run(x => x.xor(ecx, ecx), cpu => cpu._gpr[Gpr.Rcx] = ulong.MaxValue, RFlags.Reserved1 | RFlags.CF | RFlags.OF | RFlags.SF));
        Assert.Equal(0UL, _box.Reg(Gpr.Rcx));
        Assert.Equal(RFlags.ZF | RFlags.PF, _box.Flags & RFlags.Arith);
    }

    [Fact]
    public void TestAliasF6Slash1_IsUndefinedAsOnQemu()
    {
        Assert.False(_box.Run([0xF6, 0xC8, 0x01, 0xF4]));
        Assert.Equal(Vector.UD, _box.Fault);
    }

    [Theory]
    [InlineData(-1L, 0xFCUL, 31, true)]       // dword at Base-4, bit 31
    [InlineData(-33L, 0xF8UL, 31, true)]      // dword at Base-8
    [InlineData(35L, 0x04UL, 3, false)]       // dword at Base+4, bit 3
    public void Bt_MemoryWithRegisterOffset_AddressesBeyondTheOperand(long offset, ulong dwordAt, int bit, bool set)
    {
        var data = new byte[0x200];
        _box.WriteData(0, data);
        if (set)
        {
            _box.WriteData(0x100 + (ulong)(sbyte)(byte)dwordAt, BitConverter.GetBytes(1u << bit));
        }

        Assert.True(_box.Run(x => x.bt(__dword_ptr[rsi], eax), cpu => { cpu._gpr[Gpr.Rsi] = Base; cpu._gpr[Gpr.Rax] = (ulong)offset; }));
        Assert.Equal(set ? RFlags.CF : 0, _box.Flags & RFlags.CF);

        Assert.True(_box.Run(x => x.btc(__dword_ptr[rsi], eax), cpu => { cpu._gpr[Gpr.Rsi] = Base; cpu._gpr[Gpr.Rax] = (ulong)offset; }));
        Assert.Equal(set ? 0UL : 1UL << bit, _box.ReadData(0x100 + (ulong)(sbyte)(byte)dwordAt, 4));
    }

    [Fact]
    public void BtsBtr_RegisterAndImmediate()
    {
        Assert.True(_box.Run(x => { x.bts(rax, 63); x.btr(ecx, ebx); }, cpu => { cpu._gpr[Gpr.Rcx] = 0xFFFF_FFFF_FFFF_FFFF; cpu._gpr[Gpr.Rbx] = 33; }));
        Assert.Equal(0x8000_0000_0000_0000UL, _box.Reg(Gpr.Rax));
        Assert.Equal(0xFFFF_FFFDUL, _box.Reg(Gpr.Rcx));
        Assert.Equal(RFlags.CF, _box.Flags & RFlags.CF);
    }

    [Fact]
    public void Bt_KeepsZeroFlag()
    {
        Assert.True(_box.Run(x => { x.sub(edx, edx); x.bt(eax, 0); }, cpu => cpu._gpr[Gpr.Rax] = 1));
        Assert.Equal(RFlags.CF | RFlags.ZF, _box.Flags & (RFlags.CF | RFlags.ZF));
    }

    [Fact]
    public void BsfBsr_FindBits_ZeroSourceKeepsDestination()
    {
        Assert.True(_box.Run(x => { x.bsf(rbx, rax); x.bsr(rcx, rax); }, cpu => cpu._gpr[Gpr.Rax] = 0x0100_0000_0000_1000));
        Assert.Equal(12UL, _box.Reg(Gpr.Rbx));
        Assert.Equal(56UL, _box.Reg(Gpr.Rcx));
        Assert.Equal(0UL, _box.Flags & RFlags.ZF);

        // Zero source: ZF = 1, the destination keeps its value (a 32-bit one zero-extended, as QEMU).
        Assert.True(_box.Run(
            x => { x.bsf(bx, ax); x.bsr(ecx, eax); },
            cpu => { cpu._gpr[Gpr.Rbx] = 0xAAAA_BBBB_CCCC_DDDD; cpu._gpr[Gpr.Rcx] = 0xAAAA_BBBB_CCCC_DDDD; }));
        Assert.Equal(0xAAAA_BBBB_CCCC_DDDDUL, _box.Reg(Gpr.Rbx));
        Assert.Equal(0xCCCC_DDDDUL, _box.Reg(Gpr.Rcx));
        Assert.Equal(RFlags.ZF, _box.Flags & RFlags.ZF);
    }

    [Fact]
    public void TzcntAndLzcntEncodings_RunAsBsfBsr_PopcntIsUndefined()
    {
        // qemu64 has neither BMI1 nor ABM: F3 0F BC/BD are BSF/BSR, as on QEMU and older CPUs.
        Assert.True(_box.Run(x => { x.tzcnt(ebx, eax); x.lzcnt(ecx, eax); }, cpu => { cpu._gpr[Gpr.Rax] = 0x10; cpu._gpr[Gpr.Rbx] = 0; }));
        Assert.Equal(4UL, _box.Reg(Gpr.Rbx));
        Assert.Equal(4UL, _box.Reg(Gpr.Rcx));
        Assert.Equal(0UL, _box.Flags & RFlags.CF);

        Assert.False(_box.Run(x => x.popcnt(eax, ebx)));
        Assert.Equal(Vector.UD, _box.Fault);
    }

    [Fact]
    public void Bswap()
    {
        Assert.True(_box.Run(x => { x.bswap(eax); x.bswap(rbx); }, cpu => { cpu._gpr[Gpr.Rax] = 0xFFFF_FFFF_1122_3344; cpu._gpr[Gpr.Rbx] = 0x0102_0304_0506_0708; }));
        Assert.Equal(0x4433_2211UL, _box.Reg(Gpr.Rax));
        Assert.Equal(0x0807_0605_0403_0201UL, _box.Reg(Gpr.Rbx));

        // 66 0F C8 (BSWAP AX, undefined in the SDM): QEMU 7.2 swaps all of EAX.
        Assert.True(_box.Run([0x66, 0x0F, 0xC8, 0xF4], cpu => cpu._gpr[Gpr.Rax] = 0xFFFF_FFFF_1122_3344));
        Assert.Equal(0x4433_2211UL, _box.Reg(Gpr.Rax));
    }

    [Fact]
    public void Setcc_AllSixteenConditions()
    {
        // After CMP 1, 2 (32-bit): CF, SF, AF, PF set; OF, ZF clear.
        Assert.True(_box.Run(
            x =>
            {
                x.cmp(eax, ebx);
                x.seto(__byte_ptr[rsi]); x.setno(__byte_ptr[rsi + 1]); x.setb(__byte_ptr[rsi + 2]); x.setae(__byte_ptr[rsi + 3]);
                x.sete(__byte_ptr[rsi + 4]); x.setne(__byte_ptr[rsi + 5]); x.setbe(__byte_ptr[rsi + 6]); x.seta(__byte_ptr[rsi + 7]);
                x.sets(cl); x.setns(ch); x.setp(dl); x.setnp(dh); x.setl(r8b); x.setge(r9b); x.setle(r10b); x.setg(r11b);
            },
            cpu => { cpu._gpr[Gpr.Rax] = 1; cpu._gpr[Gpr.Rbx] = 2; cpu._gpr[Gpr.Rsi] = Base; cpu._gpr[Gpr.Rcx] = 0xAAAA; cpu._gpr[Gpr.Rdx] = 0xAAAA; }));
        Assert.Equal(0x00_01_01_00_00_01_01_00UL, _box.ReadData(0x100, 8));
        Assert.Equal(0x01UL, _box.Reg(Gpr.Rcx));
        Assert.Equal(0x01UL, _box.Reg(Gpr.Rdx));
        Assert.Equal([1UL, 0UL, 1UL, 0UL], new[] { _box.Reg(8), _box.Reg(9), _box.Reg(10), _box.Reg(11) });
    }

    [Fact]
    public void Cmov32_ZeroExtendsEvenWhenNotTaken()
    {
        Assert.True(_box.Run(
            x => { x.cmp(eax, eax); x.cmovne(ebx, ecx); x.cmove(edx, ecx); x.cmovne(si, cx); },
            cpu => { cpu._gpr[Gpr.Rbx] = 0xFFFF_FFFF_0000_0001; cpu._gpr[Gpr.Rcx] = 7; cpu._gpr[Gpr.Rsi] = 0xFFFF_FFFF_0000_0002; }));
        Assert.Equal(1UL, _box.Reg(Gpr.Rbx));
        Assert.Equal(7UL, _box.Reg(Gpr.Rdx));
        Assert.Equal(0xFFFF_FFFF_0000_0002UL, _box.Reg(Gpr.Rsi));
    }

    [Fact]
    public void Cmov_ReadsItsMemorySourceEvenWhenNotTaken()
    {
        // The sandbox maps only the first 4 GiB: the source page is not present.
        Assert.False(_box.Run(x => { x.cmp(eax, eax); x.cmovne(ebx, __dword_ptr[rcx]); }, cpu => cpu._gpr[Gpr.Rcx] = 0x1_0000_0000));
        Assert.Equal(Vector.PF, _box.Fault);
    }
}
