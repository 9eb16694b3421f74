using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The SVM instructions (0F 01 D8–DF) with QEMU 7.2's checks (target/i386/tcg/translate.c,
/// case 0x101): VMRUN, VMLOAD, VMSAVE, CLGI and INVLPGA #UD without EFER.SVME or outside
/// protected mode, then #GP(0) above CPL 0; STGI and SKINIT accept CPUID's SKINIT bit in place of
/// SVME and SKINIT has no CPL check; VMMCALL only needs SVME. Past the checks each tests its own
/// intercept first (svm_helper.c). rAX is the address with a 64-bit address size, EAX otherwise.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterSvm(HandlerRegistry r)
    {
        r.Add(Mnemonic.Vmrun, &Vmrun);
        r.Add(Mnemonic.Vmload, &Vmload);
        r.Add(Mnemonic.Vmsave, &Vmsave);
        r.Add(Code.Vmmcall, &Vmmcall);
        r.Add(Code.Stgi, &Stgi);
        r.Add(Code.Clgi, &Clgi);
        r.Add(Code.Skinit, &Skinit);
        r.Add(Mnemonic.Invlpga, &Invlpga);
    }

    private static bool SvmEnabled(Cpu cpu) => (cpu._efer & CrBits.EferSvme) != 0;

    /// <summary>CPUID.80000001H:ECX[12], which lets STGI and SKINIT past their #UD without SVME.</summary>
    private static bool HasSkinit(Cpu cpu) => (cpu.Model.Query(0x80000001, 0).Ecx & (1u << 12)) != 0;

    /// <summary>The check of VMRUN, VMLOAD, VMSAVE, CLGI and INVLPGA: #UD without SVME or PE, #GP(0) above CPL 0 (virtual-8086 mode is CPL 3).</summary>
    private static void RequireSvmRing0(Cpu cpu, bool enabled)
    {
        if (!enabled || (cpu._cr0 & CrBits.PE) == 0)
        {
            throw new GuestFault(Vector.UD);
        }

        RequireRing0(cpu);
    }

    /// <summary>rAX under a 64-bit address size (the q forms), EAX under 32 and 16 (QEMU's aflag test).</summary>
    private static ulong SvmAddress(Cpu cpu, ref DecodedOp op) =>
        op.Code is Code.Vmrunq or Code.Vmloadq or Code.Vmsaveq or Code.Invlpgaq ? cpu._gpr[Gpr.Rax] : (uint)cpu._gpr[Gpr.Rax];

    /// <summary>VMRUN ends its block as a call does: the next RIP is the guest's (or the host's again after an exit).</summary>
    private static void Vmrun(Cpu cpu, ref DecodedOp op)
    {
        RequireSvmRing0(cpu, SvmEnabled(cpu));
        cpu.Vmrun(SvmAddress(cpu, ref op), cpu._nextRip);
    }

    private static void Vmload(Cpu cpu, ref DecodedOp op)
    {
        RequireSvmRing0(cpu, SvmEnabled(cpu));
        cpu.Vmload(SvmAddress(cpu, ref op));
    }

    private static void Vmsave(Cpu cpu, ref DecodedOp op)
    {
        RequireSvmRing0(cpu, SvmEnabled(cpu));
        cpu.Vmsave(SvmAddress(cpu, ref op));
    }

    /// <summary>VMMCALL: an exit when intercepted, else #UD (helper_vmmcall); no PE or CPL check.</summary>
    private static void Vmmcall(Cpu cpu, ref DecodedOp op)
    {
        if (SvmEnabled(cpu))
        {
            cpu.CheckIntercept(Cpu.SvmExit.Vmmcall);
        }

        throw new GuestFault(Vector.UD);
    }

    /// <summary>STGI sets GIF and ends the block, so a held interrupt is taken after it (DISAS_EOB_NEXT).</summary>
    private static void Stgi(Cpu cpu, ref DecodedOp op)
    {
        RequireSvmRing0(cpu, SvmEnabled(cpu) || HasSkinit(cpu));
        cpu.CheckIntercept(Cpu.SvmExit.Stgi);
        cpu._gif = true;
        cpu._exitBlock = true;
    }

    private static void Clgi(Cpu cpu, ref DecodedOp op)
    {
        RequireSvmRing0(cpu, SvmEnabled(cpu));
        cpu.CheckIntercept(Cpu.SvmExit.Clgi);
        cpu._gif = false;
    }

    /// <summary>SKINIT: an exit when intercepted, else #UD ("If not intercepted, not implemented"); no CPL check.</summary>
    private static void Skinit(Cpu cpu, ref DecodedOp op)
    {
        if ((!SvmEnabled(cpu) && !HasSkinit(cpu)) || (cpu._cr0 & CrBits.PE) == 0)
        {
            throw new GuestFault(Vector.UD);
        }

        cpu.CheckIntercept(Cpu.SvmExit.Skinit);
        throw new GuestFault(Vector.UD);
    }

    /// <summary>INVLPGA: the ASID in ECX is ignored; the page at rAX is flushed, which here flushes the TLB (as INVLPG does).</summary>
    private static void Invlpga(Cpu cpu, ref DecodedOp op)
    {
        RequireSvmRing0(cpu, SvmEnabled(cpu));
        cpu.CheckIntercept(Cpu.SvmExit.Invlpga);
        cpu.FlushTlb();
        cpu._exitBlock = true;
    }
}
