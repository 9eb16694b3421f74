using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using Vmcb = Emulator.Core.Cpu.Cpu.Vmcb;

namespace Emulator.Core.Tests.Cpu.Svm;

/// <summary>
/// A host and a guest for the SVM tests: the host enables EFER.SVME, points VM_HSAVE_PA at a
/// page, runs VMRUN on a VMCB whose guest state copies the host's own mode (same segments, CR0,
/// CR3, CR4, EFER) with its own RIP and RSP, then halts after the #VMEXIT.
/// </summary>
internal static class SvmTestSupport
{
    public const ulong VmcbAddress = 0x400000, HostSave = 0x401000, MsrMap = 0x404000, IoMap = 0x408000;
    public const ulong GuestCode = 0x200000, GuestStack = 0x70000, HostCode = 0x100000;
    public const uint EferMsr = 0xC000_0080, HsaveMsr = 0xC001_0117;

    /// <summary>Intercept vector bits (bit n = exit code 0x60 + n).</summary>
    public static ulong InterceptBit(uint exitCode) => 1UL << (int)(exitCode - 0x60);

    /// <summary>The host program: SVME on, HSAVE set, VMRUN [VmcbAddress], then HLT (the #VMEXIT lands there).</summary>
    public static void HostProgram(Assembler a, Action<Assembler>? beforeVmrun = null)
    {
        a.mov(ecx, EferMsr);
        a.rdmsr();
        a.or(eax, 1 << 12);
        a.wrmsr();
        a.mov(ecx, HsaveMsr);
        a.mov(eax, (uint)HostSave);
        a.xor(edx, edx);
        a.wrmsr();
        beforeVmrun?.Invoke(a);
        a.mov(eax, (uint)VmcbAddress);
        a.vmrun();
        a.hlt();
    }

    /// <summary>Loads host and guest in <paramref name="bitness"/> (64 or 32) and a VMCB with the VMRUN intercept, ASID 1 and <paramref name="intercepts"/>.</summary>
    public static TestMachine Build(int bitness, Action<Assembler> guest, ulong intercepts = 0, Action<Assembler>? beforeVmrun = null)
    {
        var m = new TestMachine();
        m.Load(GuestCode, TestMachine.Assemble(bitness, GuestCode, guest));
        if (bitness == 64)
        {
            m.LoadLong64(a => HostProgram(a, beforeVmrun), HostCode);
        }
        else
        {
            m.LoadProtected32(a => HostProgram(a, beforeVmrun), HostCode);
        }

        WriteGuestState(m, bitness, intercepts);
        return m;
    }

    /// <summary>The VMCB: control (intercepts, ASID 1, the permission maps) and a save area from the current CPU state.</summary>
    public static void WriteGuestState(TestMachine m, int bitness, ulong intercepts)
    {
        var cpu = m.Cpu;
        m.WriteU64(VmcbAddress + Vmcb.Intercept, intercepts | InterceptBit(0x80));
        m.WriteU64(VmcbAddress + Vmcb.Asid, 1);
        m.WriteU64(VmcbAddress + Vmcb.MsrpmBase, MsrMap);
        m.WriteU64(VmcbAddress + Vmcb.IopmBase, IoMap);
        WriteSegment(m, VmcbAddress + Vmcb.Es, cpu.GetSegment(Seg.Es));
        WriteSegment(m, VmcbAddress + Vmcb.Cs, cpu.GetSegment(Seg.Cs));
        WriteSegment(m, VmcbAddress + Vmcb.Ss, cpu.GetSegment(Seg.Ss));
        WriteSegment(m, VmcbAddress + Vmcb.Ds, cpu.GetSegment(Seg.Ds));
        m.WriteU64(VmcbAddress + Vmcb.Gdtr + 8, cpu.Gdtr.Base);
        m.Bus.Write(VmcbAddress + Vmcb.Gdtr + 4, 4, cpu.Gdtr.Limit);
        m.WriteU64(VmcbAddress + Vmcb.Cr0, cpu.Cr0);
        m.WriteU64(VmcbAddress + Vmcb.Cr3, cpu.Cr3);
        m.WriteU64(VmcbAddress + Vmcb.Cr4, cpu.Cr4);
        m.WriteU64(VmcbAddress + Vmcb.Efer, cpu.Efer | CrBits.EferSvme);
        m.WriteU64(VmcbAddress + Vmcb.RFlags, 2);
        m.WriteU64(VmcbAddress + Vmcb.Rip, GuestCode);
        m.WriteU64(VmcbAddress + Vmcb.Rsp, GuestStack);
        m.WriteU64(VmcbAddress + Vmcb.Rax, 0xAA55);
        m.WriteU64(VmcbAddress + Vmcb.Dr7, 0x400);
        m.WriteU64(VmcbAddress + Vmcb.Dr6, 0xFFFF0FF0);
        _ = bitness;
    }

    /// <summary>svm_save_seg's layout: selector, 12-bit attributes, limit, base.</summary>
    public static void WriteSegment(TestMachine m, ulong at, SegmentRegister s)
    {
        m.Bus.Write(at, 2, s.Selector);
        m.Bus.Write(at + 2, 2, ((s.Attributes >> 8) & 0xFF) | ((s.Attributes >> 12) & 0xF00));
        m.Bus.Write(at + 4, 4, s.Limit);
        m.WriteU64(at + 8, s.Base);
    }

    public static ulong ExitCode(TestMachine m) => m.ReadU64(VmcbAddress + Vmcb.ExitCode);

    public static ulong ExitInfo1(TestMachine m) => m.ReadU64(VmcbAddress + Vmcb.ExitInfo1);

    public static ulong ExitInfo2(TestMachine m) => m.ReadU64(VmcbAddress + Vmcb.ExitInfo2);

    public static ulong GuestRip(TestMachine m) => m.ReadU64(VmcbAddress + Vmcb.Rip);

    /// <summary>Steps the host until VMRUN has entered the guest.</summary>
    public static void RunUntilGuest(TestMachine m)
    {
        for (int i = 0; i < 100 && !m.Cpu.InSvmGuest; i++)
        {
            m.Cpu.Run(m.Cpu.InstructionCount + 1);
        }

        Assert.True(m.Cpu.InSvmGuest);
    }

    /// <summary>The host resumed after VMRUN: halted on the HLT that follows it, GIF clear, out of guest mode.</summary>
    public static void AssertBackInHost(TestMachine m, int bitness)
    {
        Assert.False(m.Cpu.InSvmGuest);
        Assert.False(m.Cpu.GlobalInterruptFlag);
        Assert.True(m.Cpu.Halted);
        Assert.Equal(bitness, m.Cpu.Bitness);
        Assert.Equal(VmcbAddress, m.Cpu.GetGpr(Gpr.Rax));
        Assert.Equal(TestMachine.StackTop, m.Cpu.GetGpr(Gpr.Rsp));
    }

    /// <summary>The address of the guest instruction at <paramref name="index"/> (0-based) of <paramref name="guest"/>.</summary>
    public static ulong GuestInstruction(int bitness, Action<Assembler> guest, int index) => InstructionAddress(bitness, GuestCode, guest, index);

    public static ulong InstructionAddress(int bitness, ulong at, Action<Assembler> build, int index)
    {
        byte[] code = TestMachine.Assemble(bitness, at, build);
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(code), at);
        for (int i = 0; i < index; i++)
        {
            decoder.Decode(out _);
        }

        return decoder.IP;
    }
}

/// <summary>A controller with one interrupt that stays pending until acknowledged.</summary>
internal sealed class OneInterrupt(int vector) : IInterruptController
{
    public bool HasPendingInterrupt { get; private set; } = true;

    public int Acknowledge()
    {
        HasPendingInterrupt = false;
        return vector;
    }
}
