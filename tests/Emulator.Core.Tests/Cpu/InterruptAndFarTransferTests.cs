using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// Far JMP/CALL/RETF, IRET and software interrupts through the IVT and IDT (Intel SDM Vol. 2 and
/// Vol. 3, chapter 6), including the entries to 64-bit code OVMF depends on.
/// </summary>
[Trait("Category", "Unit")]
public class InterruptAndFarTransferTests
{
    private const ulong Handler = 0x200000;

    [Fact]
    public void Long64_Int30_LandsInHandlerAndIretqReturns()
    {
        using var m = new TestMachine();
        FlowTestSupport.Gate64(m, 0x30, Handler);
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.mov(rbx, __qword_ptr[rsp]);
            a.mov(rcx, __qword_ptr[rsp + 8]);
            a.mov(rsi, __qword_ptr[rsp + 24]);
            a.pushfq();
            a.pop(rax);
            a.iretq();
        });
        m.LoadLong64(a =>
        {
            a.sti();
            a.@int(0x30);
            a.pushfq();
            a.pop(rdx);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x100003UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal((ulong)TestMachine.Code64, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rax) & RFlags.IF);
        Assert.NotEqual(0UL, m.Cpu.GetGpr(Gpr.Rdx) & RFlags.IF);
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
        Assert.Equal(64, m.Cpu.Bitness);
    }

    [Fact]
    public void Long64_Ud2_RaisesUdAtTheFaultingInstruction()
    {
        using var m = new TestMachine();
        FlowTestSupport.Gate64(m, Vector.UD, Handler);
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.mov(rbx, __qword_ptr[rsp]);
            a.add(__qword_ptr[rsp], 2);
            a.iretq();
        });
        m.LoadLong64(a =>
        {
            a.ud2();
            a.mov(ecx, 5);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x100000UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(5UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(Vector.UD, m.Cpu.LastException);
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
    }

    [Fact]
    public void Real_IntThroughIvt_IretRestoresCsIpAndFlags()
    {
        using var m = new TestMachine();
        FlowTestSupport.Ivt(m, 0x21, 0x0900, 0x0010);
        FlowTestSupport.Place(m, 16, 0x9010, a =>
        {
            a.mov(ax, 0x55);
            a.mov(si, __word_ptr[0x6FFA]);
            a.mov(di, __word_ptr[0x6FFC]);
            a.pushf();
            a.pop(cx);
            a.iret();
        });
        m.LoadReal(a =>
        {
            a.sti();
            a.@int(0x21);
            a.pushf();
            a.pop(dx);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x55UL, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(0x8003UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rcx) & RFlags.IF);
        Assert.NotEqual(0UL, m.Cpu.GetGpr(Gpr.Rdx) & RFlags.IF);
        Assert.Equal(0, m.Cpu.GetSegment(Seg.Cs).Selector);
        Assert.Equal(0x7000UL, m.Cpu.GetGpr(Gpr.Rsp));
    }

    [Fact]
    public void Protected32_Int3IntoAndUd2_ThroughIdtWithIretd()
    {
        using var m = new TestMachine();
        FlowTestSupport.Gate32(m, Vector.BP, (uint)Handler);
        FlowTestSupport.Gate32(m, Vector.OF, (uint)Handler + 0x100);
        FlowTestSupport.Gate32(m, Vector.UD, (uint)Handler + 0x200);
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.add(ebx, 1);
            a.mov(esi, __dword_ptr[esp]);
            a.iretd();
        });
        FlowTestSupport.Place(m, 32, Handler + 0x100, a =>
        {
            a.add(ebx, 0x10);
            a.iretd();
        });
        FlowTestSupport.Place(m, 32, Handler + 0x200, a =>
        {
            a.add(ebx, 0x100);
            a.mov(edi, __dword_ptr[esp]);
            a.add(__dword_ptr[esp], 2);
            a.iretd();
        });
        m.LoadProtected32(a =>
        {
            a.mov(ebx, 0);
            a.int3();
            a.mov(eax, 0);
            a.add(eax, 0);
            a.into();
            a.mov(eax, 0x7FFFFFFF);
            a.add(eax, 1);
            a.into();
            a.jmp(0x100800UL);
        });
        FlowTestSupport.Place(m, 32, 0x100800, a =>
        {
            a.ud2();
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x111UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0x100006UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x100800UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>Far JMP ptr16:32 from 32-bit code (IA-32e already active) to a 64-bit code segment.</summary>
    [Fact]
    public void FarJmp_FromCompatibilityModeInto64BitCode()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.mov(rax, 0x1122_3344_5566_7788UL);
            a.push(rax);
            a.pop(rbx);
            a.hlt();
        });
        m.LoadProtected32(a => a.jmp(TestMachine.Code64, (uint)Handler));
        FlowTestSupport.EnableLongModePaging(m);
        Assert.Equal(32, m.Cpu.Bitness);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(64, m.Cpu.Bitness);
        Assert.Equal(0x1122_3344_5566_7788UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>OVMF's DxeIpl: PUSH selector, PUSH offset, 32-bit RETF into a 64-bit code segment.</summary>
    [Fact]
    public void Retf_ThirtyTwoBitIntoLongMode_LikeOvmf()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.mov(rax, 0xFEDC_BA98_7654_3210UL);
            a.push(rax);
            a.pop(rcx);
            a.mov(rdx, rsp);
            a.hlt();
        });
        m.LoadProtected32(a =>
        {
            a.push(TestMachine.Code64);
            a.push((int)Handler);
            a.retf();
        });
        FlowTestSupport.EnableLongModePaging(m);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(64, m.Cpu.Bitness);
        Assert.Equal(0xFEDC_BA98_7654_3210UL, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(TestMachine.Code64, m.Cpu.GetSegment(Seg.Cs).Selector);
    }

    /// <summary>RETFQ from 64-bit code to a 32-bit segment (compatibility mode), then a far JMP back to 64-bit.</summary>
    [Fact]
    public void Retfq_ToCompatibilityModeAndFarJmpBack()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.mov(esi, esp);
            a.jmp(TestMachine.Code64, (uint)Handler + 0x100);
        });
        FlowTestSupport.Place(m, 64, Handler + 0x100, a =>
        {
            a.mov(rax, 0x8000_0000_0000_0001UL);
            a.hlt();
        });
        m.LoadLong64(a =>
        {
            a.push(TestMachine.Code32);
            a.push((int)Handler);
            a.retf();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(64, m.Cpu.Bitness);
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x8000_0000_0000_0001UL, m.Cpu.GetGpr(Gpr.Rax));
    }

    /// <summary>JMP m16:64 and CALL m16:64 / RETFQ; JMP m16:32 into compatibility mode.</summary>
    [Fact]
    public void FarMemoryForms_Long64()
    {
        using var m = new TestMachine();
        m.WriteU64(0x300000, Handler);
        m.Bus.Write(0x300008, 2, TestMachine.Code64);
        m.Bus.Write(0x300010, 4, Handler + 0x200);
        m.Bus.Write(0x300014, 2, TestMachine.Code32);
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.add(ebx, 1);
            a.mov(rdi, __qword_ptr[rsp + 8]);
            a.retf();
        });
        FlowTestSupport.Place(m, 32, Handler + 0x200, a =>
        {
            a.add(ebx, 0x10);
            a.hlt();
        });
        m.LoadLong64(a =>
        {
            a.mov(ebx, 0);
            a.mov(rax, 0x300000);
            a.AddInstruction(Instruction.Create(Code.Call_m1664, new MemoryOperand(Register.RAX)));
            a.AddInstruction(Instruction.Create(Code.Jmp_m1632, new MemoryOperand(Register.RAX, 0x10)));
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x11UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal((ulong)TestMachine.Code64, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(32, m.Cpu.Bitness);
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>Real mode: far CALL ptr16:16 with RETF imm16, far JMP m16:16, far JMP ptr16:16.</summary>
    [Fact]
    public void FarTransfers_RealMode()
    {
        using var m = new TestMachine();
        m.Bus.Write(0x2000, 4, (0x0A00UL << 16) | 0x0020);
        FlowTestSupport.Place(m, 16, 0x9010, a =>
        {
            a.add(bx, 1);
            a.mov(si, __word_ptr[0x6FFC]);
            a.retf(2);
        });
        FlowTestSupport.Place(m, 16, 0xA020, a =>
        {
            a.add(bx, 0x10);
            a.jmp(0x0000, 0x9100);
        });
        FlowTestSupport.Place(m, 16, 0x9100, a =>
        {
            a.add(bx, 0x100);
            a.hlt();
        });
        m.LoadReal(a =>
        {
            a.mov(bx, 0);
            a.push(0x1234);
            a.call(0x0900, 0x0010);
            a.AddInstruction(Instruction.Create(Code.Jmp_m1616, new MemoryOperand(Register.None, 0x2000, 2)));
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x111UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x7000UL, m.Cpu.GetGpr(Gpr.Rsp));
        Assert.Equal(0, m.Cpu.GetSegment(Seg.Cs).Selector);
    }

    /// <summary>Protected mode: far CALL ptr16:32 and RETF to the same privilege; a far JMP to a 16-bit code segment changes the operand size.</summary>
    [Fact]
    public void FarCallRetfAndJmpTo16BitSegment_Protected32()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.mov(esi, __dword_ptr[esp + 4]);
            a.retf();
        });
        FlowTestSupport.Place(m, 16, 0x9000, a =>
        {
            a.mov(eax, 0xFFFFFFFF);
            a.mov(ax, 0x1234);
            a.hlt();
        });
        m.LoadProtected32(a =>
        {
            a.call(TestMachine.Code32, (uint)Handler);
            a.jmp(TestMachine.Code16, 0x9000);
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)TestMachine.Code32, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(16, m.Cpu.Bitness);
        Assert.Equal(0xFFFF1234UL, m.Cpu.GetGpr(Gpr.Rax));
    }

    /// <summary>A far JMP to a data segment raises #GP with the selector as error code.</summary>
    [Fact]
    public void FarJmp_ToDataSegmentRaisesGp()
    {
        using var m = new TestMachine();
        FlowTestSupport.Gate32(m, Vector.GP, (uint)Handler);
        FlowTestSupport.Place(m, 32, Handler, a =>
        {
            a.mov(esi, __dword_ptr[esp]);
            a.mov(edi, __dword_ptr[esp + 4]);
            a.hlt();
        });
        m.LoadProtected32(a => a.jmp(TestMachine.Data32, 0x1234));
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)TestMachine.Data32, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x100000UL, m.Cpu.GetGpr(Gpr.Rdi));
    }

    private const ushort Code3 = 0x33, Data3 = 0x3B;

    /// <summary>Adds DPL-3 code (32- or 64-bit) and data descriptors at 0x30/0x38 and a TSS whose ring-0 stack is 0x70000.</summary>
    private static void AddRing3(TestMachine m, bool longMode)
    {
        m.WriteU64(TestMachine.GdtBase + 0x30, longMode ? 0x00AFFB000000FFFFUL : 0x00CFFB000000FFFFUL);
        m.WriteU64(TestMachine.GdtBase + 0x38, 0x00CFF3000000FFFFUL);
        m.Cpu._gdtr = new TableRegister { Base = TestMachine.GdtBase, Limit = 0x3F };
        m.Cpu._tr = new SegmentRegister { Base = 0x4000, Limit = 0x67, Attributes = 0x8B00 };
        if (longMode)
        {
            m.WriteU64(0x4004, 0x70000);
        }
        else
        {
            m.Bus.Write(0x4004, 4, 0x70000);
            m.Bus.Write(0x4008, 2, TestMachine.Data32);
        }
    }

    /// <summary>
    /// Sets U/S in every identity-map entry. The core checks all accesses at CPL 3 as user
    /// accesses, including the implicit GDT/IDT/TSS reads the SDM defines as supervisor ones.
    /// </summary>
    private static void MakePagesUserAccessible(TestMachine m)
    {
        ulong pml4 = TestMachine.PageTables, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
        m.WriteU64(pml4, m.ReadU64(pml4) | 4);
        for (ulong i = 0; i < 4; i++)
        {
            m.WriteU64(pdpt + i * 8, m.ReadU64(pdpt + i * 8) | 4);
            for (ulong j = 0; j < 512; j++)
            {
                ulong e = pd + i * 0x1000 + j * 8;
                m.WriteU64(e, m.ReadU64(e) | 4);
            }
        }

        m.Cpu.WriteCr3(TestMachine.PageTables);
    }

    /// <summary>
    /// IRETD to CPL 3 pops SS:ESP and clears DS/ES/FS/GS that ring 3 may not use; INT from ring 3
    /// comes back to ring 0 on the TSS stack.
    /// </summary>
    [Fact]
    public void Iretd_ToRing3AndIntBack_Protected32()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 32, Handler + 0x1000, a =>
        {
            a.mov(ebx, cs);
            a.mov(ecx, ss);
            a.mov(edx, ds);
            a.mov(edi, esp);
            a.@int(0x31);
        });
        FlowTestSupport.Place(m, 32, Handler + 0x2000, a =>
        {
            a.mov(esi, __dword_ptr[esp + 4]);
            a.mov(ebp, __dword_ptr[esp + 16]);
            a.hlt();
        });
        m.LoadProtected32(a =>
        {
            a.push(Data3);
            a.push(0x60000);
            a.push(0x202);
            a.push(Code3);
            a.push((int)Handler + 0x1000);
            a.iretd();
        });
        AddRing3(m, longMode: false);
        FlowTestSupport.Gate32(m, 0x31, (uint)Handler + 0x2000, dpl: 3);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)Code3, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal((ulong)Data3, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rdx));
        Assert.Equal(0x60000UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal((ulong)Code3, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal((ulong)Data3, m.Cpu.GetGpr(Gpr.Rbp));
        Assert.Equal(0, m.Cpu.Cpl);
        Assert.Equal(0x70000UL - 20, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>IRETQ to a 64-bit ring-3 segment, then INT back to ring 0 on RSP0.</summary>
    [Fact]
    public void Iretq_ToRing3AndIntBack_Long64()
    {
        using var m = new TestMachine();
        FlowTestSupport.Place(m, 64, Handler + 0x1000, a =>
        {
            a.mov(ebx, cs);
            a.mov(ecx, ss);
            a.mov(rdi, rsp);
            a.@int(0x31);
        });
        FlowTestSupport.Place(m, 64, Handler + 0x2000, a =>
        {
            a.mov(rsi, __qword_ptr[rsp + 8]);
            a.mov(rbp, __qword_ptr[rsp + 24]);
            a.hlt();
        });
        m.LoadLong64(a =>
        {
            a.push(Data3);
            a.push(0x60000);
            a.push(0x2);
            a.push(Code3);
            a.push((int)Handler + 0x1000);
            a.iretq();
        });
        AddRing3(m, longMode: true);
        MakePagesUserAccessible(m);
        FlowTestSupport.Gate64(m, 0x31, Handler + 0x2000, dpl: 3);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal((ulong)Code3, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal((ulong)Data3, m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal(0x60000UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal((ulong)Code3, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x60000UL, m.Cpu.GetGpr(Gpr.Rbp));
        Assert.Equal(0, m.Cpu.Cpl);
        Assert.Equal(64, m.Cpu.Bitness);
    }

    /// <summary>A fault while INT n is being delivered (vector beyond the IDT limit) is reported at the INT with RSP unchanged.</summary>
    [Fact]
    public void IntN_DeliveryFaultReportsTheIntInstruction()
    {
        using var m = new TestMachine();
        FlowTestSupport.Gate64(m, Vector.GP, Handler);
        m.Cpu._idtr = new TableRegister { Base = FlowTestSupport.Idt, Limit = 0x20 * 16 - 1 };
        FlowTestSupport.Place(m, 64, Handler, a =>
        {
            a.mov(rsi, __qword_ptr[rsp]);
            a.mov(rdi, __qword_ptr[rsp + 8]);
            a.mov(rbp, __qword_ptr[rsp + 32]);
            a.hlt();
        });
        m.LoadLong64(a => a.@int(0x40));
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x40UL * 16 + 2, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x100000UL, m.Cpu.GetGpr(Gpr.Rdi));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rbp));
    }

    /// <summary>
    /// The code segment a gate names is checked before anything is pushed, as QEMU 7.2's
    /// do_interrupt64/do_interrupt_protected: null #GP(0); a data segment, one beyond the GDT,
    /// DPL above CPL or (long mode) not 64-bit #GP(selector); not present #NP(selector).
    /// </summary>
    [Theory]
    [InlineData(64, 0x00, Vector.GP, 0x00)]
    [InlineData(64, 0x10, Vector.GP, 0x10)]
    [InlineData(64, 0x08, Vector.GP, 0x08)]
    [InlineData(64, 0x30, Vector.NP, 0x30)]
    [InlineData(64, 0x38, Vector.GP, 0x38)]
    [InlineData(64, 0x48, Vector.GP, 0x48)]
    [InlineData(32, 0x00, Vector.GP, 0x00)]
    [InlineData(32, 0x10, Vector.GP, 0x10)]
    [InlineData(32, 0x40, Vector.NP, 0x40)]
    [InlineData(32, 0x38, Vector.GP, 0x38)]
    public void GateToABadCodeSegment_FaultsWithItsSelector(int bitness, int selector, int vector, int error)
    {
        using var m = new TestMachine();
        if (bitness == 64)
        {
            m.LoadLong64(a => a.@int(0x30));
        }
        else
        {
            m.LoadProtected32(a => a.@int(0x30));
        }

        m.WriteU64(TestMachine.GdtBase + 0x30, 0x00AF1B000000FFFFUL); // 64-bit code, not present
        m.WriteU64(TestMachine.GdtBase + 0x38, bitness == 64 ? 0x00AFFB000000FFFFUL : 0x00CFFB000000FFFFUL); // DPL 3
        m.WriteU64(TestMachine.GdtBase + 0x40, 0x00CF1B000000FFFFUL); // 32-bit code, not present
        m.Cpu._gdtr = new TableRegister { Base = TestMachine.GdtBase, Limit = 0x47 };
        if (bitness == 64)
        {
            FlowTestSupport.Gate64(m, 0x30, Handler + 0x100, (ushort)selector);
            FlowTestSupport.Gate64(m, vector, Handler);
            FlowTestSupport.Place(m, 64, Handler, a =>
            {
                a.mov(rsi, __qword_ptr[rsp]);
                a.mov(rdi, __qword_ptr[rsp + 8]);
                a.hlt();
            });
        }
        else
        {
            FlowTestSupport.Gate32(m, 0x30, (uint)Handler + 0x100, (ushort)selector);
            FlowTestSupport.Gate32(m, vector, (uint)Handler);
            FlowTestSupport.Place(m, 32, Handler, a =>
            {
                a.mov(esi, __dword_ptr[esp]);
                a.mov(edi, __dword_ptr[esp + 4]);
                a.hlt();
            });
        }

        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(vector, m.Cpu.LastException);
        Assert.Equal((ulong)error, m.Cpu.GetGpr(Gpr.Rsi));
        Assert.Equal(0x100000UL, m.Cpu.GetGpr(Gpr.Rdi));
    }
}
