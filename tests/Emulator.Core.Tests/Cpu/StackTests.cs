using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>PUSH/POP in every form and width, segment pushes and pops, PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE (Intel SDM Vol. 2).</summary>
[Trait("Category", "Unit")]
public class StackTests
{
    [Fact]
    public void PushPop_Long64_RegistersMemoryImmediatesAndWidths()
    {
        using var m = new TestMachine();
        m.WriteU64(0x300000, 0xAAAA_BBBB_CCCC_DDDDUL);
        m.LoadLong64(a =>
        {
            a.mov(rax, 0x1111_2222_3333_4444UL);
            a.push(rax);
            a.pop(r9);
            a.push(-2);
            a.pop(r10);
            a.push(0x12345678);
            a.pop(r11);
            a.push(__qword_ptr[0x300000]);
            a.pop(__qword_ptr[0x300008]);
            a.push(ax);
            a.pop(r12w);
            a.mov(r13, rsp);
            a.push(rsp);
            a.pop(r14);
            a.push(0x99);
            a.pop(rsp);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x1111_2222_3333_4444UL, m.Cpu.GetGpr(Gpr.R9));
        Assert.Equal(ulong.MaxValue - 1, m.Cpu.GetGpr(Gpr.R10));
        Assert.Equal(0x12345678UL, m.Cpu.GetGpr(Gpr.R11));
        Assert.Equal(0xAAAA_BBBB_CCCC_DDDDUL, m.ReadU64(0x300008));
        Assert.Equal(0x4444UL, m.Cpu.GetGpr(Gpr.R12) & 0xFFFF);
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.R13));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.R14));
        Assert.Equal(0x99UL, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>POP [RSP+n] computes the address after the increment (SDM Vol. 2, POP).</summary>
    [Fact]
    public void Pop_MemoryAddressedThroughRspUsesIncrementedValue()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.push(0x0BAD);
            a.push(0x600D);
            a.pop(__dword_ptr[esp]);
            a.pop(ebx);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x600DUL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>A 66h PUSH in 16-bit code pushes four bytes; a 16-bit stack wraps SP without touching ESP's upper half.</summary>
    [Fact]
    public void PushPop_RealModeOperandSizesAndSpWrap()
    {
        using var m = new TestMachine();
        m.LoadReal(a =>
        {
            a.mov(eax, 0xCAFEBABE);
            a.push(eax);
            a.pop(bx);
            a.pop(cx);
            a.mov(esp, 0x12340000);
            a.push(ax);
            a.mov(edx, esp);
            a.pop(si);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0xBABEUL, m.Cpu.GetGpr(Gpr.Rbx) & 0xFFFF);
        Assert.Equal(0xCAFEUL, m.Cpu.GetGpr(Gpr.Rcx) & 0xFFFF);
        Assert.Equal(0x1234FFFEUL, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(0xBABEUL, m.Cpu.GetGpr(Gpr.Rsi) & 0xFFFF);
        Assert.Equal(0x12340000UL, m.Cpu.GetGpr(Gpr.Rsp));
    }

    [Fact]
    public void SegmentPushPop_RealMode()
    {
        using var m = new TestMachine();
        m.LoadReal(a =>
        {
            a.push(0x1234);
            a.pop(ds);
            a.push(0x2345);
            a.pop(es);
            a.push(0x3456);
            a.pop(fs);
            a.push(0x4567);
            a.pop(gs);
            a.push(cs);
            a.pop(bx);
            a.push(ds);
            a.pop(cx);
            a.push(es);
            a.push(fs);
            a.push(gs);
            a.push(ss);
            a.pop(dx);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x1234, m.Cpu.GetSegment(Seg.Ds).Selector);
        Assert.Equal(0x12340UL, m.Cpu.GetSegment(Seg.Ds).Base);
        Assert.Equal(0x2345, m.Cpu.GetSegment(Seg.Es).Selector);
        Assert.Equal(0x3456, m.Cpu.GetSegment(Seg.Fs).Selector);
        Assert.Equal(0x45670UL, m.Cpu.GetSegment(Seg.Gs).Base);
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rbx) & 0xFFFF);
        Assert.Equal(0x1234UL, m.Cpu.GetGpr(Gpr.Rcx) & 0xFFFF);
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rdx) & 0xFFFF);
        Assert.Equal(0x4567UL, m.Bus.Read(0x7000 - 6, 2));
        Assert.Equal(0x7000UL - 6, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>POP SS blocks interrupts for one instruction and ends the block.</summary>
    [Fact]
    public void PopSs_SetsInterruptShadow()
    {
        using var m = new TestMachine();
        m.LoadReal(a =>
        {
            a.push(0);
            a.pop(ss);
            a.hlt();
        });
        m.Run(2);
        Assert.True(m.Cpu._interruptShadow);
        Assert.Equal(2, m.Cpu.InstructionCount);
    }

    /// <summary>
    /// POP SS moves ESP at the width of the stack it popped from, not the new SS's: from a
    /// 16-bit stack at SP=FFFC to a 32-bit SS, SP wraps to 0 and the upper half stays, and back
    /// the other way all 32 bits move (QEMU 7.2's pop ss; test386's POST 9 checks it).
    /// </summary>
    [Fact]
    public void PopSs_MovesEspAtTheOldStacksWidth()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.mov(eax, TestMachine.Data16);
            a.mov(ss, eax);
            a.mov(esp, 0x2FFFC);
            a.mov(__dword_ptr[0xFFFC], TestMachine.Data32);
            a.db(0x17); // o32 pop ss from the 16-bit stack: SS:SP = 0:FFFC
            a.mov(ebx, esp);
            a.mov(esp, 0x3FFFC);
            a.mov(__dword_ptr[0x3FFFC], TestMachine.Data16);
            a.db(0x17); // o32 pop ss from the 32-bit stack
            a.mov(ecx, esp);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x20000UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0x40000UL, m.Cpu.GetGpr(Gpr.Rcx));
    }

    /// <summary>In 32-bit code PUSH Sreg stores the selector zero-extended; POP of a bad selector faults and leaves ESP unchanged.</summary>
    [Fact]
    public void SegmentPushPop_Protected32()
    {
        using var m = new TestMachine();
        FlowTestSupport.Gate32(m, Vector.GP, 0x200000);
        FlowTestSupport.Place(m, 32, 0x200000, a =>
        {
            a.mov(edi, __dword_ptr[esp]);
            a.mov(ebp, esp);
            a.hlt();
        });
        m.LoadProtected32(a =>
        {
            a.mov(__dword_ptr[TestMachine.StackTop - 4], -1);
            a.push(ds);
            a.pop(esi);
            a.push(0);
            a.pop(es);
            a.push(0x28);
            a.pop(fs);
            a.push(0x1F8);
            a.pop(gs);
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)TestMachine.Data32, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0, m.Cpu.GetSegment(Seg.Es).Selector);
        Assert.Equal(TestMachine.Data16, m.Cpu.GetSegment(Seg.Fs).Selector);
        Assert.Equal(0x1F8UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(TestMachine.StackTop - 4 - 16, m.Cpu.GetGpr(Gpr.Rbp));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public void PushaPopa_RoundTripAndLayout(int bitness)
    {
        using var m = new TestMachine();
        int w = bitness / 8;
        ulong[] values = [0x11111111, 0x22222222, 0x33333333, 0x44444444, 0, 0x66666666, 0x77777777, 0x88888888];
        void Build(Assembler a)
        {
            a.mov(eax, (uint)values[0]);
            a.mov(ecx, (uint)values[1]);
            a.mov(edx, (uint)values[2]);
            a.mov(ebx, (uint)values[3]);
            a.mov(ebp, (uint)values[5]);
            a.mov(esi, (uint)values[6]);
            a.mov(edi, (uint)values[7]);
            if (bitness == 16)
            {
                a.pusha();
            }
            else
            {
                a.pushad();
            }

            a.mov(eax, 0);
            a.mov(ecx, 0);
            a.mov(edx, 0);
            a.mov(ebx, 0);
            a.mov(ebp, 0);
            a.mov(esi, 0);
            a.mov(edi, 0);
            if (bitness == 16)
            {
                a.mov(__word_ptr[esp + 6], 0x5555);
                a.popa();
            }
            else
            {
                a.mov(__dword_ptr[esp + 12], 0x5555);
                a.popad();
            }

            a.hlt();
        }

        ulong top;
        if (bitness == 16)
        {
            m.LoadReal(Build);
            top = 0x7000;
        }
        else
        {
            m.LoadProtected32(Build);
            top = TestMachine.StackTop;
        }

        Assert.Equal(StopReason.Halted, m.Run());
        ulong mask = bitness == 16 ? 0xFFFFUL : 0xFFFFFFFFUL;
        for (int reg = 0; reg < 8; reg++)
        {
            ulong slot = top - (ulong)((reg + 1) * w);
            ulong expected = reg == Gpr.Rsp ? 0x5555UL : values[reg] & mask;
            Assert.Equal(expected, m.Bus.Read(slot, w));
            if (reg != Gpr.Rsp)
            {
                Assert.Equal(values[reg] & mask, m.Cpu.GetGpr(reg) & mask);
            }
        }

        Assert.Equal(top, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>The stored original SP in PUSHA is SP before the first push.</summary>
    [Fact]
    public void Pushad_StoresOriginalEsp()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.pushad();
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((uint)TestMachine.StackTop, m.ReadU32(TestMachine.StackTop - 20));
        Assert.Equal(TestMachine.StackTop - 32, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>PUSHFQ clears RF and VM in the image; POPFQ at CPL 0 loads IF, IOPL, DF, AC, ID and the status flags.</summary>
    [Fact]
    public void PushfPopf_Long64()
    {
        using var m = new TestMachine();
        ulong image = RFlags.CF | RFlags.PF | RFlags.AF | RFlags.ZF | RFlags.SF | RFlags.OF | RFlags.DF | RFlags.IF |
            RFlags.IOPL | RFlags.AC | RFlags.ID | RFlags.RF | RFlags.VM | RFlags.NT;
        m.LoadLong64(a =>
        {
            a.mov(rax, image);
            a.push(rax);
            a.popfq();
            a.pushfq();
            a.pop(rbx);
            a.push(0);
            a.popfq();
            a.pushfq();
            a.pop(rcx);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((image & ~(RFlags.RF | RFlags.VM)) | RFlags.Reserved1, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(RFlags.Reserved1, m.Cpu.GetGpr(Gpr.Rcx));
    }

    /// <summary>A 16-bit POPF replaces only bits 15:0; PUSHF reflects lazily computed flags.</summary>
    [Fact]
    public void PushfPopf_SixteenBitKeepsUpperFlags()
    {
        using var m = new TestMachine();
        m.LoadProtected32(a =>
        {
            a.push((int)(RFlags.AC | RFlags.ID));
            a.popfd();
            a.push(0);
            a.db(0x66, 0x9D); // popf (16-bit)
            a.pushfd();
            a.pop(ebx);
            a.mov(eax, 0xFFFFFFFF);
            a.add(eax, 1);
            a.pushfd();
            a.pop(ecx);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(RFlags.AC | RFlags.ID | RFlags.Reserved1, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(RFlags.AC | RFlags.ID | RFlags.Reserved1 | RFlags.CF | RFlags.ZF | RFlags.PF | RFlags.AF, m.Cpu.GetGpr(Gpr.Rcx));
    }

    public static TheoryData<int, int> EnterCases => new()
    {
        { 32, 0 }, { 32, 1 }, { 32, 3 }, { 64, 0 }, { 64, 1 }, { 64, 4 }, { 16, 0 }, { 16, 2 },
    };

    /// <summary>ENTER with nesting levels 0, 1 and more builds the SDM's frame (saved BP, display of outer frame pointers, this frame); LEAVE undoes it.</summary>
    [Theory]
    [MemberData(nameof(EnterCases))]
    public void EnterLeave_Frames(int bitness, int level)
    {
        using var m = new TestMachine();
        int w = bitness / 8;
        ulong top = bitness == 16 ? 0x7000UL : TestMachine.StackTop;
        ulong oldBp = top - 0x40;
        ushort alloc = 0x18;
        void Build(Assembler a)
        {
            switch (bitness)
            {
                case 16:
                    a.mov(bp, (ushort)oldBp);
                    break;
                case 32:
                    a.mov(ebp, (uint)oldBp);
                    break;
                default:
                    a.mov(rbp, oldBp);
                    break;
            }

            a.enter(alloc, (byte)level);
            switch (bitness)
            {
                case 16:
                    a.mov(__word_ptr[0x2000], sp);
                    a.mov(__word_ptr[0x2008], bp);
                    break;
                case 32:
                    a.mov(__dword_ptr[0x300000], esp);
                    a.mov(__dword_ptr[0x300008], ebp);
                    break;
                default:
                    a.mov(__qword_ptr[0x300000], rsp);
                    a.mov(__qword_ptr[0x300008], rbp);
                    break;
            }

            a.leave();
            a.hlt();
        }

        // Outer frame pointers the display copies: [oldBp - w*i] for i = 1..level-1.
        for (int i = 1; i < level; i++)
        {
            m.Bus.Write(oldBp - (ulong)(w * i), w, 0xF00UL + (ulong)i);
        }

        ulong results = bitness == 16 ? 0x2000UL : 0x300000UL;
        m.Load(bitness, Build);
        Assert.Equal(StopReason.Halted, m.Run());
        ulong frame = top - (ulong)w;
        ulong expectedSp = frame - (ulong)(w * level) - alloc;
        Assert.Equal(expectedSp, m.Bus.Read(results, w));
        Assert.Equal(frame, m.Bus.Read(results + 8, w));
        Assert.Equal(oldBp, m.Bus.Read(frame, w));
        for (int i = 1; i < level; i++)
        {
            Assert.Equal(0xF00UL + (ulong)i, m.Bus.Read(frame - (ulong)(w * i), w));
        }

        if (level > 0)
        {
            Assert.Equal(frame, m.Bus.Read(frame - (ulong)(w * level), w));
        }

        Assert.Equal(top, m.Cpu.GetGpr(Gpr.Rsp));
        Assert.Equal(oldBp, m.Cpu.GetGpr(Gpr.Rbp) & global::Emulator.Core.Cpu.Cpu.Mask(w));
    }

    /// <summary>66h in 32-bit code: PUSH/POP r16, PUSH imm, PUSHFW and RETW use 2-byte slots.</summary>
    [Fact]
    public void OperandSizeOverrides_Protected32()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 32, 0x5000, a =>
        {
            a.mov(edi, esp);
            a.db(0x66, 0xC3); // retw
        });
        m.LoadProtected32(a =>
        {
            a.mov(eax, 0x11112222);
            a.push(ax);
            a.mov(ebx, esp);
            a.db(0x66, 0x6A, 0xFE); // pushw -2
            a.mov(ecx, esp);
            a.db(0x66, 0x9C);       // pushfw
            a.mov(edx, esp);
            a.pop(si);
            a.pop(si);
            a.pop(si);
            a.db(0x66, 0x68, 0x00, 0x00); // pushw 0: the high half of the return EIP below
            a.db(0x66, 0x68, 0x34, 0x01); // pushw 0x0134
            a.mov(ebp, 0x5000);
            a.jmp(ebp);
        });
        FlowTestSupport.Place(m, 32, 0x0134, a => a.hlt());
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(TestMachine.StackTop - 2, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(TestMachine.StackTop - 4, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(TestMachine.StackTop - 6, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(0x0134UL, m.Bus.Read(TestMachine.StackTop - 4, 2));
        Assert.Equal(0x2222UL, m.Cpu.GetGpr(Gpr.Rsi) & 0xFFFF);
        Assert.Equal(TestMachine.StackTop - 4, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(TestMachine.StackTop - 2, m.Cpu.GetGpr(Gpr.Rsp));
        Assert.Equal(0x0135UL, m.Cpu.Rip);
    }
}
