using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Emulator.Core.Tests.Cpu.Svm.SvmTestSupport;
using static Iced.Intel.AssemblerRegisters;
using Vmcb = Emulator.Core.Cpu.Cpu.Vmcb;

namespace Emulator.Core.Tests.Cpu.Svm;

/// <summary>
/// VMRUN into a guest that runs until an intercepted instruction or event, checked against what
/// QEMU 7.2 writes into the VMCB (svm_helper.c cpu_vmexit/do_vmexit, helper_svm_check_io, the
/// MSR permission map) and the host state #VMEXIT restores.
/// </summary>
[Trait("Category", "Unit")]
public class SvmInterceptTests
{
    private static void CpuidGuest(Assembler a)
    {
        a.mov(ebx, 0x1234);
        a.cpuid();
        a.hlt();
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void CpuidIntercept_ExitsAtTheCpuid_AndTheHostResumesAfterVmrun(int bitness)
    {
        using var m = Build(bitness, CpuidGuest, InterceptBit(0x72));
        Assert.Equal(StopReason.Halted, m.Run());

        AssertBackInHost(m, bitness);
        Assert.Equal(0x72UL, ExitCode(m));
        Assert.Equal(0UL, ExitInfo1(m));
        Assert.Equal(GuestInstruction(bitness, CpuidGuest, 1), GuestRip(m));
        Assert.Equal(0xAA55UL, m.ReadU64(VmcbAddress + Vmcb.Rax));
        Assert.Equal(GuestStack, m.ReadU64(VmcbAddress + Vmcb.Rsp));
        Assert.Equal(0x1234UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0UL, m.ReadU64(VmcbAddress + Vmcb.ExitIntInfo));
        Assert.Equal(m.ReadU64(HostSave + Vmcb.Rip) + 1, m.Cpu.Rip);
        Assert.Equal(m.ReadU64(HostSave + Vmcb.Efer), m.ReadU64(VmcbAddress + Vmcb.Efer));
        Assert.Equal(m.Cpu.Efer, m.ReadU64(HostSave + Vmcb.Efer));
    }

    [Fact]
    public void CpuidWithoutIntercept_RunsInTheGuest()
    {
        using var m = Build(64, CpuidGuest, InterceptBit(0x78));
        m.WriteU64(VmcbAddress + Vmcb.Rax, 0);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x78UL, ExitCode(m));
        Assert.Equal(GuestInstruction(64, CpuidGuest, 2), GuestRip(m));
        Assert.Equal(0x68747541UL, m.Cpu.GetGpr(Gpr.Rbx));
    }

    [Fact]
    public void IoIntercept_ReportsPortSizeDirectionAndNextRip_ForPortsTheMapSelects()
    {
        static void Guest(Assembler a)
        {
            a.@out(0x81, al);
            a.mov(edx, 0x7E);
            a.@in(eax, dx);
            a.hlt();
        }

        using var m = Build(64, Guest, InterceptBit(0x7B));
        m.Bus.Write(IoMap + 0x80 / 8, 1, 1);
        Assert.Equal(StopReason.Halted, m.Run());

        // IN EAX, DX at 0x7E covers 0x7E..0x81; 0x80 is in the map. OUT to 0x81 alone is not.
        Assert.Equal(0x7BUL, ExitCode(m));
        Assert.Equal((0x7EUL << 16) | 0x40 | 1, ExitInfo1(m));
        Assert.Equal(GuestInstruction(64, Guest, 2), GuestRip(m));
        Assert.Equal(GuestInstruction(64, Guest, 3), ExitInfo2(m));
    }

    [Fact]
    public void MsrIntercept_ExitsOnlyWhereThePermissionMapHasTheBit()
    {
        static void Guest(Assembler a)
        {
            a.mov(ecx, 0xC000_0081);
            a.rdmsr();
            a.wrmsr();
            a.hlt();
        }

        using var m = Build(64, Guest, InterceptBit(0x7C));

        // STAR: 2 bits at (8192 + 0x81) * 2 = byte 2080, bits 2 (read) and 3 (write).
        m.Bus.Write(MsrMap + 2080, 1, 1 << 3);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x7CUL, ExitCode(m));
        Assert.Equal(1UL, ExitInfo1(m));
        Assert.Equal(GuestInstruction(64, Guest, 2), GuestRip(m));
    }

    [Fact]
    public void ExceptionIntercept_ExitsWithTheVector_VmmcallWithoutItsInterceptIsUd()
    {
        static void Guest(Assembler a)
        {
            a.nop();
            a.db(0x0F, 0x01, 0xD9);
            a.hlt();
        }

        using var m = Build(64, Guest);
        m.WriteU64(VmcbAddress + Vmcb.InterceptExceptions, 1u << Vector.UD);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x46UL, ExitCode(m));
        Assert.Equal(0UL, ExitInfo1(m));
        Assert.Equal(GuestCode + 1, GuestRip(m));
        AssertBackInHost(m, 64);
    }

    [Fact]
    public void VmmcallIntercept_Exits()
    {
        using var m = Build(32, a => a.db(0x0F, 0x01, 0xD9), InterceptBit(0x81));
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x81UL, ExitCode(m));
        Assert.Equal(GuestCode, GuestRip(m));
    }

    [Fact]
    public void PageFaultIntercept_PutsTheAddressInExitInfo2_AndLeavesCr2()
    {
        const ulong Unmapped = 0x80_0000_0000;
        using var m = Build(64, a =>
        {
            a.mov(rax, (long)Unmapped);
            a.mov(rbx, __qword_ptr[rax]);
            a.hlt();
        });
        m.WriteU64(VmcbAddress + Vmcb.InterceptExceptions, 1u << Vector.PF);
        m.WriteU64(VmcbAddress + Vmcb.Cr2, 0x5555);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x4EUL, ExitCode(m));
        Assert.Equal(0UL, ExitInfo1(m));
        Assert.Equal(Unmapped, ExitInfo2(m));
        Assert.Equal(0x5555UL, m.ReadU64(VmcbAddress + Vmcb.Cr2));
    }

    [Fact]
    public void CrReadAndWriteIntercepts_ExitPerRegister()
    {
        static void Guest(Assembler a)
        {
            a.mov(rax, cr0);
            a.mov(rax, cr3);
            a.mov(cr3, rax);
            a.hlt();
        }

        using var m = Build(64, Guest);
        m.Bus.Write(VmcbAddress + Vmcb.InterceptCrRead, 2, 1 << 4);
        m.Bus.Write(VmcbAddress + Vmcb.InterceptCrWrite, 2, 1 << 3);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x13UL, ExitCode(m));
        Assert.Equal(GuestInstruction(64, Guest, 2), GuestRip(m));
    }

    [Fact]
    public void InjectedException_IsDeliveredThroughTheGuestIdt_WithItsErrorCode()
    {
        const ulong Handler = GuestCode + 0x100;
        using var m = Build(64, a => a.hlt(), InterceptBit(0x81));
        m.Load(Handler, [0x0F, 0x01, 0xD9]);
        SystemTestSupport.InstallLongIdt(m, Handler);
        m.WriteU64(VmcbAddress + Vmcb.Idtr + 8, SystemTestSupport.IdtBase);
        m.Bus.Write(VmcbAddress + Vmcb.Idtr + 4, 4, 32 * 16 - 1);
        m.Bus.Write(VmcbAddress + Vmcb.EventInject, 4, 0x8000_0B0Du);
        m.Bus.Write(VmcbAddress + Vmcb.EventInjectErr, 4, 0x1234);
        Assert.Equal(StopReason.Halted, m.Run());

        Assert.Equal(0x81UL, ExitCode(m));
        Assert.Equal(Handler, GuestRip(m));
        ulong rsp = m.ReadU64(VmcbAddress + Vmcb.Rsp);
        Assert.Equal(GuestStack - 48, rsp);
        Assert.Equal(0x1234UL, m.ReadU64(rsp));
        Assert.Equal(GuestCode, m.ReadU64(rsp + 8));

        // EVENTINJ kept the delivered event without VALID (handle_even_inj), so EXITINTINFO shows it stale.
        Assert.Equal(0xB0DUL, m.ReadU64(VmcbAddress + Vmcb.ExitIntInfo) & 0xFFFF_FFFF);
        Assert.Equal(0U, m.ReadU32(VmcbAddress + Vmcb.EventInject));
    }

    [Fact]
    public void VmrunWithoutAsid_FailsWithExitCodeFfffffff()
    {
        using var m = Build(64, CpuidGuest);
        m.WriteU64(VmcbAddress + Vmcb.Asid, 0);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0xFFFF_FFFFUL, ExitCode(m));
        AssertBackInHost(m, 64);
        Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rbx));
    }

    [Fact]
    public void RdtscInTheGuest_AddsTheTscOffset()
    {
        using var m = Build(64, a =>
        {
            a.rdtsc();
            a.hlt();
        }, InterceptBit(0x78));
        m.WriteU64(VmcbAddress + Vmcb.TscOffset, 1UL << 40);
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x100UL, m.Cpu.GetGpr(Gpr.Rdx));
    }

    private static void SpinGuest(Assembler a)
    {
        var spin = a.CreateLabel();
        a.Label(ref spin);
        a.nop();
        a.jmp(spin);
    }

    [Fact]
    public void IntrIntercept_ExitsBeforeAcknowledging_AndGifHoldsItInTheHost()
    {
        using var m = Build(64, SpinGuest, InterceptBit(0x60));
        m.WriteU64(VmcbAddress + Vmcb.RFlags, 0x202);
        var pic = new OneInterrupt(0x30);
        m.Cpu.InterruptController = pic;
        Assert.Equal(StopReason.Halted, m.Run());

        Assert.Equal(0x60UL, ExitCode(m));
        Assert.True(pic.HasPendingInterrupt);
        AssertBackInHost(m, 64);
    }

    [Fact]
    public void VirtualInterruptMasking_GatesIntrByTheHostsIf_NotTheGuests()
    {
        using var m = Build(64, a =>
        {
            a.nop();
            a.cpuid();
        }, InterceptBit(0x60) | InterceptBit(0x72));
        m.WriteU64(VmcbAddress + Vmcb.RFlags, 0x202);
        m.Bus.Write(VmcbAddress + Vmcb.IntCtl, 4, 1u << 24);
        var pic = new OneInterrupt(0x30);
        m.Cpu.InterruptController = pic;
        Assert.Equal(StopReason.Halted, m.Run());

        // The host ran VMRUN with IF clear, so V_INTR_MASKING holds the physical interrupt.
        Assert.Equal(0x72UL, ExitCode(m));
        Assert.True(pic.HasPendingInterrupt);
    }

    [Fact]
    public void VirtualInterrupt_IsDeliveredThroughTheGuestIdt_AndVIrqCleared()
    {
        const ulong Handler = GuestCode + 0x100;
        using var m = Build(64, SpinGuest, InterceptBit(0x81));
        m.Load(Handler, [0x0F, 0x01, 0xD9]);
        ulong gate = (Handler & 0xFFFF) | ((ulong)TestMachine.Code64 << 16) | (0x8EUL << 40) | ((Handler >> 16) & 0xFFFF) << 48;
        m.WriteU64(SystemTestSupport.IdtBase + 0x30 * 16, gate);
        m.WriteU64(SystemTestSupport.IdtBase + 0x30 * 16 + 8, 0);
        m.WriteU64(VmcbAddress + Vmcb.Idtr + 8, SystemTestSupport.IdtBase);
        m.Bus.Write(VmcbAddress + Vmcb.Idtr + 4, 4, 0x31 * 16 - 1);
        m.WriteU64(VmcbAddress + Vmcb.RFlags, 0x202);
        m.Bus.Write(VmcbAddress + Vmcb.IntCtl, 4, (1u << 8) | (0xFu << 16));
        m.Bus.Write(VmcbAddress + Vmcb.IntVector, 4, 0x30);
        Assert.Equal(StopReason.Halted, m.Run());

        Assert.Equal(0x81UL, ExitCode(m));
        Assert.Equal(Handler, GuestRip(m));
        Assert.Equal(0u, m.ReadU32(VmcbAddress + Vmcb.IntCtl) & (1u << 8));
    }

    [Fact]
    public void SmiAndNmiIntercepts_ExitAtTheBoundary_AndStayLatched()
    {
        using var m = Build(64, SpinGuest, InterceptBit(0x62));
        RunUntilGuest(m);
        m.Cpu.RaiseSmi();
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0x62UL, ExitCode(m));
        Assert.True(m.Cpu.SmiPending);
        Assert.False(m.Cpu.InSmm);

        using var n = Build(64, SpinGuest, InterceptBit(0x61));
        RunUntilGuest(n);
        n.Cpu.RaiseNmi();
        Assert.Equal(StopReason.Halted, n.Run());
        Assert.Equal(0x61UL, ExitCode(n));
        AssertBackInHost(n, 64);
    }
}
