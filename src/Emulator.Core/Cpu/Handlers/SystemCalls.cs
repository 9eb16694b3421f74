using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// SYSCALL/SYSRET and SYSENTER/SYSEXIT exactly as QEMU 7.2 runs them (target/i386/tcg/translate.c
/// cases 0x105, 0x107, 0x134, 0x135; helper_syscall in tcg/sysemu/seg_helper.c, helper_sysret,
/// helper_sysenter and helper_sysexit in tcg/seg_helper.c). CS and SS are loaded as flat 4 GiB
/// segments from the MSRs' selectors without reading the GDT (QEMU's cpu_x86_load_seg_cache), and
/// CPL becomes SS's DPL. The MSRs are STAR (selectors, and the legacy-mode SYSCALL EIP), LSTAR,
/// CSTAR, SFMASK, SYSENTER_CS/ESP/EIP (docs/cpu-simd.md, "System calls").
/// <list type="bullet">
/// <item>SYSCALL: #UD without EFER.SCE; nothing else is checked (any mode, any CPL).</item>
/// <item>SYSRET: #GP(0) with CR0.PE clear (QEMU's PE(s), decided at translation; virtual-8086 mode counts as protected), then #UD without EFER.SCE, then
///   #GP(0) outside CPL 0.</item>
/// <item>SYSENTER/SYSEXIT: #UD in 64-bit mode on an AMD model (qemu64 is AuthenticAMD), #GP(0) in
///   real mode, #GP(0) with SYSENTER_CS = 0 (and for SYSEXIT outside CPL 0).</item>
/// <item>qemu-system-i386 (the qemu32 model, no long mode) has no SYSCALL or SYSRET at all: #UD.</item>
/// </list>
/// </summary>
internal static unsafe partial class Handlers
{
    // Descriptor attribute bits as QEMU keeps them (DESC_*_MASK in target/i386/cpu.h).
    private const uint DescA = 1u << 8, DescRW = 1u << 9, DescCode = 1u << 11, DescS = 1u << 12, DescP = 1u << 15;
    private const uint DescL = 1u << 21, DescB = 1u << 22, DescG = 1u << 23;
    private const uint FlatCode = DescG | DescP | DescS | DescCode | DescRW | DescA;
    private const uint FlatData = DescG | DescB | DescP | DescS | DescRW | DescA;
    private const uint Dpl3 = 3u << 13;

    internal static void RegisterSystemCalls(HandlerRegistry r)
    {
        r.Add(Mnemonic.Syscall, &Syscall);
        r.Add(Code.Sysretd, &Sysret);
        r.Add(Code.Sysretq, &Sysret);
        r.Add(Mnemonic.Sysenter, &Sysenter);
        r.Add(Code.Sysexitd, &Sysexit);
        r.Add(Code.Sysexitq, &Sysexit);
    }

    private static ulong Msr(Cpu cpu, uint index)
    {
        cpu.Msrs.TryRead(index, out ulong value);
        return value;
    }

    /// <summary>CS and SS become flat segments (QEMU cpu_x86_load_seg_cache), CPL SS's DPL, and execution continues at <paramref name="rip"/>.</summary>
    private static void EnterFlat(Cpu cpu, int cs, uint csAttributes, int ss, uint ssAttributes, ulong rip)
    {
        cpu._seg[Seg.Cs] = new SegmentRegister { Selector = (ushort)cs, Base = 0, Limit = 0xFFFF_FFFF, Attributes = csAttributes };
        cpu._seg[Seg.Ss] = new SegmentRegister { Selector = (ushort)ss, Base = 0, Limit = 0xFFFF_FFFF, Attributes = ssAttributes };
        int cpl = cpu._seg[Seg.Ss].Dpl;
        if (cpl != cpu._cpl)
        {
            cpu._cpl = cpl;
            cpu.FlushTlb();
        }

        cpu.UpdateMode();
        cpu._nextRip = rip;
        cpu._exitBlock = true;
    }

    private static void RequireSyscallCpu(Cpu cpu)
    {
        if (!cpu.Model.LongMode || (cpu._efer & CrBits.EferSce) == 0)
        {
            throw new GuestFault(Vector.UD);
        }
    }

    private static void Syscall(Cpu cpu, ref DecodedOp op)
    {
        RequireSyscallCpu(cpu);
        ulong star = Msr(cpu, MsrFile.Star);
        int selector = (int)(star >> 32) & 0xFFFF;
        ulong next = cpu._rip + op.Length;
        ulong flags = cpu.RFlagsValue;
        if ((cpu._efer & CrBits.EferLma) != 0)
        {
            bool code64 = cpu._bitness == 64;
            cpu.SetGpr(Gpr.Rcx, next);
            cpu.SetGpr(11, flags & ~RFlags.RF);
            // QEMU 7.2 helper_syscall (tcg/sysemu/seg_helper.c) masks env->eflags and reloads it
            // with cpu_load_eflags; env->eflags holds neither the arithmetic flags (kept lazily in
            // CC_SRC/CC_OP) nor DF (env->df) — x86_cpu_exec_enter strips them — so SYSCALL from long
            // mode clears CF PF AF ZF SF OF and DF whatever SFMASK says. R11 has them right.
            cpu.SetFlags(flags & ~(Msr(cpu, MsrFile.SfMask) | RFlags.RF | RFlags.Arith | RFlags.DF));
            EnterFlat(cpu, selector & 0xFFFC, FlatCode | DescL, (selector + 8) & 0xFFFC, FlatData, Msr(cpu, code64 ? MsrFile.LStar : MsrFile.CStar));
        }
        else
        {
            cpu.SetGpr(Gpr.Rcx, (uint)next);
            cpu.SetFlags(flags & ~(RFlags.IF | RFlags.RF | RFlags.VM));
            EnterFlat(cpu, selector & 0xFFFC, FlatCode | DescB, (selector + 8) & 0xFFFC, FlatData, (uint)star);
        }
    }

    private static void Sysret(Cpu cpu, ref DecodedOp op)
    {
        if (!cpu.Model.LongMode)
        {
            throw new GuestFault(Vector.UD);
        }

        if ((cpu._cr0 & CrBits.PE) == 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        RequireSyscallCpu(cpu);
        if (cpu._cpl != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        int selector = (int)(Msr(cpu, MsrFile.Star) >> 48) & 0xFFFF;
        ulong rcx = cpu.GetGpr(Gpr.Rcx);
        if ((cpu._efer & CrBits.EferLma) != 0)
        {
            // cpu_load_eflags(R11, TF|AC|ID|IF|IOPL|VM|RF|NT): those bits, the arithmetic flags and DF from R11.
            const ulong loaded = RFlags.Arith | RFlags.DF | RFlags.TF | RFlags.AC | RFlags.ID | RFlags.IF | RFlags.IOPL | RFlags.VM | RFlags.RF | RFlags.NT;
            ulong r11 = (uint)cpu.GetGpr(11);
            cpu.SetFlags((cpu.RFlagsValue & ~loaded) | (r11 & loaded));
            bool to64 = op.Code == Code.Sysretq;
            EnterFlat(
                cpu,
                to64 ? (selector + 16) | 3 : selector | 3,
                FlatCode | Dpl3 | (to64 ? DescL : DescB),
                (selector + 8) | 3,
                FlatData | Dpl3,
                to64 ? rcx : (uint)rcx);
        }
        else
        {
            cpu.SetFlags(cpu.RFlagsValue | RFlags.IF);
            EnterFlat(cpu, selector | 3, FlatCode | Dpl3 | DescB, (selector + 8) | 3, FlatData | Dpl3, (uint)rcx);
        }
    }

    /// <summary>The checks SYSENTER and SYSEXIT share: #UD in 64-bit mode on AMD, #GP(0) in real mode or with SYSENTER_CS = 0.</summary>
    private static int SysenterCs(Cpu cpu)
    {
        if (cpu._bitness == 64 && cpu.Model.IsAmd)
        {
            throw new GuestFault(Vector.UD);
        }

        int cs = (int)Msr(cpu, MsrFile.SysenterCs) & 0xFFFF;
        if ((cpu._cr0 & CrBits.PE) == 0 || cs == 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        return cs;
    }

    private static void Sysenter(Cpu cpu, ref DecodedOp op)
    {
        int cs = SysenterCs(cpu);
        cpu.SetFlags(cpu.RFlagsValue & ~(RFlags.VM | RFlags.IF | RFlags.RF));
        uint code = FlatCode | DescB | ((cpu._efer & CrBits.EferLma) != 0 ? DescL : 0);
        cpu.SetGpr(Gpr.Rsp, Msr(cpu, MsrFile.SysenterEsp));
        EnterFlat(cpu, cs & 0xFFFC, code, (cs + 8) & 0xFFFC, FlatData, Msr(cpu, MsrFile.SysenterEip));
    }

    private static void Sysexit(Cpu cpu, ref DecodedOp op)
    {
        int cs = SysenterCs(cpu);
        if (cpu._cpl != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        bool to64 = op.Code == Code.Sysexitq;
        cpu.SetGpr(Gpr.Rsp, cpu.GetGpr(Gpr.Rcx));
        EnterFlat(
            cpu,
            ((cs + (to64 ? 32 : 16)) & 0xFFFC) | 3,
            FlatCode | DescB | Dpl3 | (to64 ? DescL : 0),
            ((cs + (to64 ? 40 : 24)) & 0xFFFC) | 3,
            FlatData | Dpl3,
            cpu.GetGpr(Gpr.Rdx));
    }
}
