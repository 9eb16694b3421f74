using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// System instructions (Intel SDM Vol. 2 and Vol. 3, 2.8): HLT, MOV to and from control and
/// debug registers, CPUID (answered by the CPU model), RDMSR/WRMSR, RDTSC (virtual time, never
/// host time), CLTS, LMSW, SMSW, INVLPG, and the privileged cache instructions that an
/// interpreter with one coherent memory can treat as no-ops (INVD, WBINVD). CLFLUSH, the fences
/// and PAUSE are in <c>Hints.cs</c>.
/// RDTSCP and RDRAND stay unimplemented: qemu64 does not advertise them, so they raise #UD.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterSystem(HandlerRegistry r)
    {
        r.Add(Code.Hlt, &Hlt);
        r.Add(Code.Mov_cr_r32, &MovToCr);
        r.Add(Code.Mov_cr_r64, &MovToCr);
        r.Add(Code.Mov_r32_cr, &MovFromCr);
        r.Add(Code.Mov_r64_cr, &MovFromCr);
        r.Add(Code.Mov_dr_r32, &MovToDr);
        r.Add(Code.Mov_dr_r64, &MovToDr);
        r.Add(Code.Mov_r32_dr, &MovFromDr);
        r.Add(Code.Mov_r64_dr, &MovFromDr);
        r.Add(Code.Cpuid, &Cpuid);
        r.Add(Code.Rdmsr, &Rdmsr);
        r.Add(Code.Wrmsr, &Wrmsr);
        r.Add(Code.Rdtsc, &Rdtsc);
        r.Add(Code.Clts, &Clts);
        r.Add(Mnemonic.Lmsw, &Lmsw);
        r.Add(Mnemonic.Smsw, &Smsw);
        r.Add(Code.Invlpg_m, &Invlpg);
        r.Add(Code.Invd, &Invd);
        r.Add(Code.Wbinvd, &Wbinvd);
        r.Add(Code.Rdpmc, &Rdpmc);
        r.Add(Code.Rsm, &Rsm);
    }

    /// <summary>RSM: leave SMM (QEMU helper_rsm, see <see cref="Cpu.ReturnFromSmm"/>); #UD outside SMM.</summary>
    private static void Rsm(Cpu cpu, ref DecodedOp op)
    {
        cpu.CheckIntercept(Cpu.SvmExit.Rsm);
        cpu.ReturnFromSmm();
    }

    /// <summary>HLT: stop fetching until an interrupt; the run loop idles virtual time forward or stops.</summary>
    private static void Hlt(Cpu cpu, ref DecodedOp op)
    {
        if (cpu._cpl != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        cpu.CheckIntercept(Cpu.SvmExit.Hlt);
        cpu._halted = true;
        cpu._exitBlock = true;
    }

    private static void RequireRing0(Cpu cpu)
    {
        if (cpu._cpl != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }
    }

    /// <summary>MOV CRn, r: the register is 32 bits outside 64-bit mode, 64 inside (SDM Vol. 2, MOV—Move to/from Control Registers).</summary>
    private static void MovToCr(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        cpu.CheckIntercept(Cpu.SvmExit.WriteCr0 + (uint)ControlRegister(op.Reg0));
        ulong v = cpu.ReadGpr(op.Reg1, op.Op1Size);
        switch (op.Reg0)
        {
            case 0:
                cpu.CheckCr0SelectiveWrite(v);
                if (!cpu.WriteCr0(v))
                {
                    throw new GuestFault(Vector.GP, 0);
                }

                break;
            case 2:
                cpu._cr2 = v;
                break;
            case 3:
                cpu.WriteCr3(v);
                break;
            case 4:
                if (!cpu.WriteCr4(v))
                {
                    throw new GuestFault(Vector.GP, 0);
                }

                break;
            case 8:
                // CR8 is the task-priority register. QEMU 7.2 does not #GP for bits 63:4 (the
                // SDM's reserved bits): helper_write_crN (tcg/sysemu/misc_helper.c) passes the
                // value to cpu_set_apic_tpr(uint8_t), whose apic_set_tpr keeps val << 4 in the
                // 8-bit TPR, so only bits 3:0 remain and a read gives them back (tpr >> 4).
                cpu.WriteCr8(v & 0xF);
                break;
        }

        cpu._exitBlock = true;
    }

    /// <summary>CR0, CR2, CR3, CR4 and CR8 exist; any other is #UD, before the SVM intercept check (translate.c case 0x120).</summary>
    private static int ControlRegister(int n) => n is 0 or 2 or 3 or 4 or 8 ? n : throw new GuestFault(Vector.UD);

    private static void MovFromCr(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        cpu.CheckIntercept(Cpu.SvmExit.ReadCr0 + (uint)ControlRegister(op.Reg1));
        ulong v = op.Reg1 switch
        {
            0 => cpu._cr0,
            2 => cpu._cr2,
            3 => cpu._cr3,
            4 => cpu._cr4,
            _ => cpu.ReadCr8(),
        };
        cpu.WriteGpr(op.Reg0, op.OpSize, v);
    }

    /// <summary>
    /// DR4/DR5 alias DR6/DR7 while CR4.DE is clear and raise #UD when it is set (SDM Vol. 3,
    /// 18.2.2). DR8 and up are #UD before the SVM intercept check, DR4/DR5's #UD after it
    /// (translate.c case 0x121, helper_get_dr).
    /// </summary>
    private static int DebugRegister(Cpu cpu, int n, uint svmExit)
    {
        if (n > 7)
        {
            throw new GuestFault(Vector.UD);
        }

        cpu.CheckIntercept(svmExit + (uint)n);
        if (n is 4 or 5)
        {
            if ((cpu._cr4 & (1UL << 3)) != 0)
            {
                throw new GuestFault(Vector.UD);
            }

            return n + 2;
        }

        return n;
    }

    /// <summary>
    /// MOV DRn, r as QEMU's helper_set_dr: DR0–DR3 take the whole register; DR6 and DR7 #GP(0)
    /// when bits 63:32 are set (DR_RESERVED_MASK), DR6 keeps its fixed ones (DR6_FIXED_1) and DR7
    /// bit 10 (cpu_x86_update_dr7, which also re-arms the breakpoints: Cpu.Debug.cs). DR7.GD is
    /// not acted on, as in QEMU 7.2.
    /// </summary>
    private static void MovToDr(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        int n = DebugRegister(cpu, op.Reg0, Cpu.SvmExit.WriteDr0);
        ulong v = cpu.ReadGpr(op.Reg1, op.Op1Size);
        if (n >= 6 && (v >> 32) != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        cpu._dr[n] = n switch
        {
            6 => v | 0xFFFF0FF0,
            7 => v | 0x400,
            _ => v,
        };
        if (n != 6)
        {
            cpu.DebugRegistersChanged();
        }
    }

    private static void MovFromDr(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        int n = DebugRegister(cpu, op.Reg1, Cpu.SvmExit.ReadDr0);
        cpu.WriteGpr(op.Reg0, op.OpSize, cpu._dr[n]);
    }

    private static void Cpuid(Cpu cpu, ref DecodedOp op)
    {
        cpu.CheckIntercept(Cpu.SvmExit.Cpuid);
        var (eax, ebx, ecx, edx) = cpu.Model.Query((uint)cpu._gpr[Gpr.Rax], (uint)cpu._gpr[Gpr.Rcx]);
        cpu._gpr[Gpr.Rax] = eax;
        cpu._gpr[Gpr.Rbx] = ebx;
        cpu._gpr[Gpr.Rcx] = ecx;
        cpu._gpr[Gpr.Rdx] = edx;
    }

    private static void Rdmsr(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        cpu.CheckMsrIntercept(write: false);
        if (!cpu.Msrs.TryRead((uint)cpu._gpr[Gpr.Rcx], out ulong v))
        {
            throw new GuestFault(Vector.GP, 0);
        }

        cpu._gpr[Gpr.Rax] = (uint)v;
        cpu._gpr[Gpr.Rdx] = v >> 32;
    }

    private static void Wrmsr(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        cpu.CheckMsrIntercept(write: true);
        ulong v = (uint)cpu._gpr[Gpr.Rax] | (cpu._gpr[Gpr.Rdx] << 32);
        if (!cpu.Msrs.TryWrite((uint)cpu._gpr[Gpr.Rcx], v))
        {
            throw new GuestFault(Vector.GP, 0);
        }

        // EFER, FS/GS base and the APIC base change translation or devices: re-enter the loop.
        cpu._exitBlock = true;
    }

    /// <summary>
    /// RDTSC reads the TSC MSR, which counts virtual time so runs are reproducible. CR4.TSD
    /// restricts it to CPL 0. An SVM guest's TSC offset is added (helper_rdtsc; RDMSR does not).
    /// </summary>
    private static void Rdtsc(Cpu cpu, ref DecodedOp op)
    {
        if ((cpu._cr4 & (1UL << 2)) != 0 && cpu._cpl != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        cpu.CheckIntercept(Cpu.SvmExit.Rdtsc);
        cpu.Msrs.TryRead(MsrFile.Tsc, out ulong tsc);
        tsc += cpu._svmTscOffset;
        cpu._gpr[Gpr.Rax] = (uint)tsc;
        cpu._gpr[Gpr.Rdx] = tsc >> 32;
    }

    private static void Clts(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        cpu.CheckIntercept(Cpu.SvmExit.WriteCr0);
        cpu._cr0 &= ~CrBits.TS;
        cpu._exitBlock = true;
    }

    /// <summary>LMSW loads CR0 bits 0-3 (PE, MP, EM, TS) but cannot clear PE (SDM Vol. 2, LMSW).</summary>
    private static void Lmsw(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        cpu.CheckIntercept(Cpu.SvmExit.WriteCr0);
        ulong msw = cpu.ReadOp0(ref op, 2) & 0xF;
        ulong v = (cpu._cr0 & ~0xEUL) | msw;
        cpu.CheckCr0SelectiveWrite(v);
        if (!cpu.WriteCr0(v))
        {
            throw new GuestFault(Vector.GP, 0);
        }
    }

    /// <summary>SMSW stores 16 bits to memory; to a register, QEMU stores CR0 at the operand size.</summary>
    private static void Smsw(Cpu cpu, ref DecodedOp op)
    {
        cpu.CheckIntercept(Cpu.SvmExit.ReadCr0);
        cpu.WriteOp0(ref op, op.OpSize, cpu._cr0);
    }

    /// <summary>
    /// INVLPG. TLB entries do not record the page size they came from, so a 4 KiB flush could
    /// leave other 4 KiB slices of a 2 MiB or 1 GiB page cached; flushing the whole (small) TLB
    /// is exact and INVLPG is rare in firmware.
    /// </summary>
    private static void Invlpg(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        cpu.CheckIntercept(Cpu.SvmExit.Invlpg);
        cpu.FlushTlb();
    }

    private static void Invd(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        cpu.CheckIntercept(Cpu.SvmExit.Invd);
    }

    private static void Wbinvd(Cpu cpu, ref DecodedOp op)
    {
        RequireRing0(cpu);
        cpu.CheckIntercept(Cpu.SvmExit.Wbinvd);
    }

    /// <summary>
    /// RDPMC as QEMU 7.2's helper_rdpmc: #GP(0) above CPL 0 without CR4.PCE, then the SVM
    /// intercept, then #UD (QEMU implements no counters; qemu64 has no PMU leaf).
    /// </summary>
    private static void Rdpmc(Cpu cpu, ref DecodedOp op)
    {
        if ((cpu._cr4 & (1UL << 8)) == 0 && cpu._cpl != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        cpu.CheckIntercept(Cpu.SvmExit.Rdpmc);
        throw new GuestFault(Vector.UD);
    }
}
