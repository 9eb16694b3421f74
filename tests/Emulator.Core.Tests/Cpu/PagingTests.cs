using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>Address translation: 4-level paging with 4 KiB pages, #PF error codes and CR2, NX, WP, accessed/dirty bits.</summary>
[Trait("Category", "Unit")]
public class PagingTests
{
    private const ulong Idt = 0x3000;
    private const ulong HandlerAt = 0x120000;
    private const ulong Pt = 0x20000;

    /// <summary>Emits the 32-bit switch to paging: CR3 = <paramref name="pageDirectory"/>, then the CR4 bit that picks the format (PSE 4 or PAE 5), then CR0.PG.</summary>
    private static void EmitEnablePaging32(Iced.Intel.Assembler a, uint pageDirectory, int cr4Bit)
    {
        a.mov(eax, pageDirectory);
        a.mov(cr3, eax);
        a.mov(eax, cr4);
        a.or(eax, 1 << cr4Bit);
        a.mov(cr4, eax);
        a.mov(eax, cr0);
        a.or(eax, 1u << 31);
        a.mov(cr0, eax);
    }

    /// <summary>Long mode, with the first 2 MiB split into 4 KiB pages through a page table at <see cref="Pt"/>.</summary>
    private static TestMachine Machine(Action<Iced.Intel.Assembler> program)
    {
        var m = new TestMachine();
        m.LoadLong64(program);
        ulong pd = TestMachine.PageTables + 0x2000;
        m.WriteU64(pd, Pt | 3);
        for (ulong i = 0; i < 512; i++)
        {
            m.WriteU64(Pt + i * 8, (i << 12) | 3);
        }

        // #PF handler: record CR2 and the error code, then stop.
        m.Load(HandlerAt, TestMachine.Assemble(64, HandlerAt, a =>
        {
            a.pop(rax);
            a.mov(__qword_ptr[0x5000], rax);
            a.mov(rax, cr2);
            a.mov(__qword_ptr[0x5008], rax);
            a.hlt();
        }));
        ulong gate = (HandlerAt & 0xFFFF) | ((ulong)TestMachine.Code64 << 16) | (0x8EUL << 40) | ((HandlerAt >> 16) & 0xFFFF) << 48;
        m.WriteU64(Idt + 14 * 16, gate);
        m.WriteU64(Idt + 14 * 16 + 8, HandlerAt >> 32);
        m.Cpu._idtr = new TableRegister { Base = Idt, Limit = 0xFFF };
        return m;
    }

    [Fact]
    public void NotPresentPageFaultsWithAddressAndErrorCode()
    {
        using var m = Machine(a =>
        {
            a.mov(eax, __dword_ptr[0x7123]);
            a.hlt();
        });
        m.WriteU64(Pt + 7 * 8, 0);
        m.Run();
        Assert.Equal(0x7123UL, m.ReadU64(0x5008));
        Assert.Equal(0UL, m.ReadU64(0x5000));
        Assert.Equal(0x7123UL, m.Cpu.Cr2);
    }

    [Theory]
    [InlineData(0x0000_8000_0000_0000UL)]
    [InlineData(0xFFFF_7FFF_FFFF_F000UL)]
    [InlineData(0x8000_0000_0000_0000UL)]
    public void ANonCanonicalAddressIsAGeneralProtectionFaultWithCr2Unchanged(ulong address)
    {
        // QEMU 7.2 raises #GP(0) at translation (excp_helper.c get_physical_address, "sext != 0 && sext != -1");
        // a #PF here would hand the firmware's exception handler the wrong vector.
        const ulong GpHandler = HandlerAt + 0x100;
        using var m = Machine(a =>
        {
            a.mov(rbx, address);
            a.mov(rax, __qword_ptr[rbx]);
            a.hlt();
        });
        m.Load(GpHandler, TestMachine.Assemble(64, GpHandler, a =>
        {
            a.pop(rax);
            a.mov(__qword_ptr[0x5010], rax);
            a.mov(__qword_ptr[0x5018], 13);
            a.hlt();
        }));
        ulong gate = (GpHandler & 0xFFFF) | ((ulong)TestMachine.Code64 << 16) | (0x8EUL << 40) | ((GpHandler >> 16) & 0xFFFF) << 48;
        m.WriteU64(Idt + 13 * 16, gate);
        m.WriteU64(Idt + 13 * 16 + 8, GpHandler >> 32);
        m.WriteU64(0x5010, 0xDEAD);
        m.Run();
        Assert.Equal(13UL, m.ReadU64(0x5018));
        Assert.Equal(0UL, m.ReadU64(0x5010));
        Assert.Equal(0UL, m.Cpu.Cr2);
    }

    [Fact]
    public void ACanonicalHighAddressIsTranslatedNotRefused()
    {
        using var m = Machine(a =>
        {
            a.mov(rbx, 0xFFFF_8000_0000_7000UL);
            a.mov(rax, __qword_ptr[rbx]);
            a.hlt();
        });
        m.Run();
        Assert.Equal(0xFFFF_8000_0000_7000UL, m.Cpu.Cr2);
    }

    [Fact]
    public void WriteToReadOnlyPageFaultsOnlyWithWriteProtect()
    {
        using var m = Machine(a =>
        {
            a.mov(__dword_ptr[0x8000], 0x1234);
            a.mov(rax, cr0);
            a.or(rax, 1 << 16);
            a.mov(cr0, rax);
            a.mov(__dword_ptr[0x8004], 0x5678);
            a.hlt();
        });
        m.WriteU64(Pt + 8 * 8, 0x8000 | 1);
        m.Run();
        Assert.Equal(0x1234U, m.ReadU32(0x8000));
        Assert.Equal(0U, m.ReadU32(0x8004));
        Assert.Equal(0x8004UL, m.ReadU64(0x5008));
        Assert.Equal(3UL, m.ReadU64(0x5000)); // present | write
    }

    [Fact]
    public void ExecutingANoExecutePageFaultsWithTheFetchBit()
    {
        using var m = Machine(a =>
        {
            a.mov(ecx, 0xC0000080);
            a.rdmsr();
            a.or(eax, 1 << 11);
            a.wrmsr();
            a.mov(eax, 0x9000);
            a.call(rax);
            a.hlt();
        });
        m.Load(0x9000, [0xC3]);
        m.WriteU64(Pt + 9 * 8, 0x9000 | 3 | (1UL << 63));
        m.Run();
        Assert.Equal(0x9000UL, m.ReadU64(0x5008));
        Assert.Equal(0x11UL, m.ReadU64(0x5000)); // present | instruction fetch
    }

    [Fact]
    public void WalkSetsAccessedAndDirtyBits()
    {
        using var m = Machine(a =>
        {
            a.mov(eax, __dword_ptr[0xA000]);
            a.mov(__dword_ptr[0xB000], eax);
            a.hlt();
        });
        m.Run();
        Assert.Equal(0x20UL, m.ReadU64(Pt + 0xA * 8) & 0x60);
        Assert.Equal(0x60UL, m.ReadU64(Pt + 0xB * 8) & 0x60);
    }

    [Fact]
    public void OneGigabytePagesAreReservedBecauseQemu64DoesNotAdvertiseThem()
    {
        using var m = Machine(a =>
        {
            a.mov(eax, __dword_ptr[0x40000000]);
            a.hlt();
        });
        ulong pdpt = TestMachine.PageTables + 0x1000;
        m.WriteU64(pdpt + 8, 0x40000000UL | 0x83);
        m.Run();
        Assert.Equal(0x40000000UL, m.ReadU64(0x5008));
        Assert.Equal(9UL, m.ReadU64(0x5000)); // present | reserved bit
    }

    [Fact]
    public void ThirtyTwoBitPagingWithFourMegabytePages()
    {
        using var m = new TestMachine();

        // Page directory at 0x30000: 0-4 MiB identity (4 MiB page), 0x80000000 -> 0x400000 (4 MiB page).
        m.Bus.Write(0x30000, 4, 0x83);
        m.Bus.Write(0x30000 + (0x80000000 >> 22) * 4, 4, 0x400000 | 0x83);
        m.Bus.Write(0x400010, 4, 0xCAFEF00D);
        m.LoadProtected32(a =>
        {
            EmitEnablePaging32(a, pageDirectory: 0x30000, cr4Bit: 4);
            a.mov(ebx, __dword_ptr[0x80000010]);
            a.mov(__dword_ptr[0x80000020], ebx);
            a.hlt();
        }, at: 0x200000);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0xCAFEF00DUL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0xCAFEF00DU, m.ReadU32(0x400020));
        Assert.Equal(0x60U, m.ReadU32(0x30000 + (0x80000000 >> 22) * 4) & 0x60); // accessed + dirty
    }

    [Fact]
    public void PaePagingWithTwoMegabyteAndFourKilobytePages()
    {
        using var m = new TestMachine();

        // PDPT at 0x30000 (32-byte aligned): entry 0 -> PD at 0x31000; PD[0] = 2 MiB identity;
        // PD[1] -> PT at 0x32000 mapping 0x200000 -> 0x600000 (4 KiB).
        m.WriteU64(0x30000, 0x31000 | 1);
        m.WriteU64(0x31000, 0x83);
        m.WriteU64(0x31008, 0x32000 | 3);
        m.WriteU64(0x32000, 0x600000 | 3);
        m.Bus.Write(0x600008, 4, 0x12345678);
        m.LoadProtected32(a =>
        {
            EmitEnablePaging32(a, pageDirectory: 0x30000, cr4Bit: 5);
            a.mov(ecx, __dword_ptr[0x200008]);
            a.hlt();
        }, at: 0x100000);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x12345678UL, m.Cpu.GetGpr(Gpr.Rcx));
    }

    /// <summary>
    /// A program that reads linear page 7 (physical 7), remaps it to physical 8 in its page table,
    /// flushes with a CR3 load and reads it again into RCX.
    /// </summary>
    private static TestMachine RemapAfterFlush()
    {
        var m = Machine(a =>
        {
            a.mov(eax, __dword_ptr[0x7000]);
            a.mov(__qword_ptr[Pt + 7 * 8], (8 << 12) | 3);
            a.mov(rax, cr3);
            a.mov(cr3, rax);
            a.mov(ecx, __dword_ptr[0x7000]);
            a.hlt();
        });
        m.WriteU64(0x7000, 0x7777_7777);
        m.WriteU64(0x8000, 0x8888_8888);
        return m;
    }

    [Fact]
    public void AFlushEmptiesTheEntriesFilledSinceTheLastOne()
    {
        // The TLB empties only the slots it filled since the last flush (Cpu.Paging.cs): a slot
        // missing from that list would keep translating page 7 to physical 7.
        using var m = RemapAfterFlush();
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x8888_8888UL, m.Cpu.GetGpr(Gpr.Rcx));
    }

    [Fact]
    public void AFlushAfterMoreFillsThanSlotsEmptiesEverySlot()
    {
        // Emptying one slot (FlushTlbPage) and filling it again lists it again: 1,100 of those
        // after page 7's overflow the list of filled slots, and the flush must sweep the whole
        // TLB instead (INVLPG flushes everything, so only the host can do this).
        using var m = Machine(a => a.hlt());
        Assert.Equal(StopReason.Halted, m.Run());
        var cpu = m.Cpu;
        Assert.Equal(7UL, cpu.Translate(0x7000, Emulator.Core.Cpu.Cpu.Access.Read).PhysPage);
        for (int i = 0; i < 1100; i++)
        {
            cpu.FlushTlbPage(0x9000);
            cpu.Translate(0x9000, Emulator.Core.Cpu.Cpu.Access.Read);
        }

        m.WriteU64(Pt + 7 * 8, (8 << 12) | 3);
        cpu.FlushTlb();
        Assert.Equal(8UL, cpu.Translate(0x7000, Emulator.Core.Cpu.Cpu.Access.Read).PhysPage);
    }
}
