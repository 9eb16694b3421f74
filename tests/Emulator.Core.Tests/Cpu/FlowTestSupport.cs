using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// Helpers shared by the data-transfer, stack, control-flow and flag tests: interrupt tables
/// written from the host, extra code placed at fixed addresses, and the switch of a 32-bit
/// protected-mode machine into IA-32e compatibility mode (paging, PAE, LME) so the guest can
/// finish the entry to 64-bit code itself with a far JMP or RETF.
/// </summary>
internal static class FlowTestSupport
{
    public const ulong Idt = 0x3000;

    /// <summary>Writes a 64-bit interrupt gate (type 0xE) and points IDTR at the table.</summary>
    public static void Gate64(TestMachine m, int vector, ulong handler, ushort selector = TestMachine.Code64, int dpl = 0)
    {
        ulong lo = (handler & 0xFFFF) | ((ulong)selector << 16) | ((0x8EUL | (ulong)(dpl << 5)) << 40) | (((handler >> 16) & 0xFFFF) << 48);
        m.WriteU64(Idt + (ulong)vector * 16, lo);
        m.WriteU64(Idt + (ulong)vector * 16 + 8, handler >> 32);
        m.Cpu._idtr = new TableRegister { Base = Idt, Limit = 0xFFF };
    }

    /// <summary>Writes a 32-bit interrupt gate (type 0xE) and points IDTR at the table; INT n from CPL 3 needs <paramref name="dpl"/> 3.</summary>
    public static void Gate32(TestMachine m, int vector, uint handler, ushort selector = TestMachine.Code32, int dpl = 0)
    {
        ulong lo = (handler & 0xFFFFUL) | ((ulong)selector << 16) | ((0x8EUL | (ulong)(dpl << 5)) << 40) | ((ulong)(handler >> 16) << 48);
        m.WriteU64(Idt + (ulong)vector * 8, lo);
        m.Cpu._idtr = new TableRegister { Base = Idt, Limit = 0x7FF };
    }

    /// <summary>Writes a real-mode interrupt vector (IVT at 0).</summary>
    public static void Ivt(TestMachine m, int vector, ushort cs, ushort ip) =>
        m.Bus.Write((ulong)vector * 4, 4, ((ulong)cs << 16) | ip);

    public static void Place(TestMachine m, int bitness, ulong at, Action<Assembler> build) =>
        m.Load(at, TestMachine.Assemble(bitness, at, build));

    /// <summary>
    /// A 64-bit program that clears EDX, enables interrupts, sets ECX to 1 then 2 and halts, with
    /// vector 0x40 pending (the controller returned) whose handler at 0x200000 sets EDX to 9 and halts.
    /// </summary>
    public static Svm.OneInterrupt PendingInterruptProgram(TestMachine m)
    {
        Gate64(m, 0x40, 0x200000);
        Place(m, 64, 0x200000, a =>
        {
            a.mov(AssemblerRegisters.edx, 9);
            a.hlt();
        });
        m.LoadLong64(a =>
        {
            a.xor(AssemblerRegisters.edx, AssemblerRegisters.edx);
            a.sti();
            a.mov(AssemblerRegisters.ecx, 1);
            a.mov(AssemblerRegisters.ecx, 2);
            a.hlt();
        });
        var pic = new Svm.OneInterrupt(0x40);
        m.Cpu.InterruptController = pic;
        return pic;
    }

    /// <summary>From 32-bit protected mode: identity paging, PAE, EFER.LME, CR0.PG; CS stays 32-bit (compatibility mode).</summary>
    public static void EnableLongModePaging(TestMachine m)
    {
        m.WriteIdentityPageTables();
        Assert.True(m.Cpu.WriteCr4(m.Cpu._cr4 | CrBits.Cr4Pae));
        m.Cpu.WriteCr3(TestMachine.PageTables);
        Assert.True(m.Cpu.WriteEfer(CrBits.EferLme));
        Assert.True(m.Cpu.WriteCr0(m.Cpu._cr0 | CrBits.PG));
    }
}
