using Emulator.Core.Cpu.Float;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// MXCSR and the FXSAVE/FXRSTOR image (Intel SDM Vol. 2, FXSAVE, Table 3-53; Vol. 1, 10.5.1),
/// written the way QEMU writes it so memory compares with a QEMU run: FCW, FSW with TOP, the
/// abridged tag word as a 16-bit store, zeros for FIP/FDP (QEMU does not track them; FOP is
/// left untouched), MXCSR and MXCSR_MASK = 0xFFFF and the XMM registers only when CR4.OSFXSR
/// is set, 8 XMM registers outside 64-bit mode and 16 inside. ST registers are stored and
/// loaded as their 80-bit register contents.
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>MXCSR bits the model implements (including DAZ): QEMU's MXCSR_MASK.</summary>
    private const uint MxcsrMask = 0xFFFF;

    private static void RegisterSseState(HandlerRegistry r)
    {
        r.Add(Code.Ldmxcsr_m32, &Ldmxcsr);
        r.Add(Code.Stmxcsr_m32, &Stmxcsr);
        r.Add(Code.Fxsave_m512byte, &Fxsave);
        r.Add(Code.Fxsave64_m512byte, &Fxsave);
        r.Add(Code.Fxrstor_m512byte, &Fxrstor);
        r.Add(Code.Fxrstor64_m512byte, &Fxrstor);
    }

    private static void Ldmxcsr(Cpu cpu, ref DecodedOp op)
    {
        MxcsrAccessChecks(cpu);
        uint v = cpu.Read32(cpu.MemLinear(ref op));
        if ((v & ~MxcsrMask) != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        cpu.Fpu.Mxcsr = v;
    }

    private static void Stmxcsr(Cpu cpu, ref DecodedOp op)
    {
        MxcsrAccessChecks(cpu);
        cpu.Write32(cpu.MemLinear(ref op), cpu.Fpu.Mxcsr);
    }

    /// <summary>
    /// LDMXCSR/STMXCSR as QEMU 7.2's disas_insn decodes 0F AE /2 /3 (translate.c): #UD with CR0.EM
    /// or without CR4.OSFXSR, then #NM with CR0.TS — EM before TS, unlike <see cref="SseChecks"/>.
    /// </summary>
    private static void MxcsrAccessChecks(Cpu cpu)
    {
        if ((cpu._cr0 & CrBits.EM) != 0 || (cpu._cr4 & CrBits.Cr4OsFxsr) == 0)
        {
            throw new GuestFault(Vector.UD);
        }

        if ((cpu._cr0 & CrBits.TS) != 0)
        {
            throw new GuestFault(Vector.NM);
        }
    }

    /// <summary>FXSAVE/FXRSTOR as QEMU 7.2's 0F AE /0 /1 (translate.c): #NM with CR0.EM or CR0.TS; CR4.OSFXSR only decides whether the XMM state is in the image.</summary>
    private static void FxsaveChecks(Cpu cpu)
    {
        if ((cpu._cr0 & (CrBits.EM | CrBits.TS)) != 0)
        {
            throw new GuestFault(Vector.NM);
        }
    }

    private static void Fxsave(Cpu cpu, ref DecodedOp op)
    {
        FxsaveChecks(cpu);
        ulong lin = AlignedLinear(cpu, ref op);
        var fpu = cpu.Fpu;
        cpu.ProbeWrite(lin, 512);
        cpu.Write16(lin, fpu.ControlWord);
        cpu.Write16(lin + 2, X87StatusWord(fpu));
        cpu.Write16(lin + 4, fpu.TagValid);
        cpu.Write64(lin + 8, 0);
        cpu.Write64(lin + 16, 0);
        for (int i = 0; i < 8; i++)
        {
            Float80 value = fpu.St[(fpu.Top + i) & 7];
            ulong slot = lin + 32 + ((ulong)i * 16);
            cpu.Write64(slot, value.Significand);
            cpu.Write16(slot + 8, value.SignExponent);
        }

        if ((cpu._cr4 & CrBits.Cr4OsFxsr) != 0)
        {
            cpu.Write32(lin + 24, fpu.Mxcsr);
            cpu.Write32(lin + 28, MxcsrMask);
            int count = cpu._bitness == 64 ? 16 : 8;
            for (int i = 0; i < count; i++)
            {
                Write128(cpu, lin + 160 + ((ulong)i * 16), fpu.Xmm[i]);
            }
        }
    }

    private static void Fxrstor(Cpu cpu, ref DecodedOp op)
    {
        FxsaveChecks(cpu);
        ulong lin = AlignedLinear(cpu, ref op);
        var fpu = cpu.Fpu;
        bool sse = (cpu._cr4 & CrBits.Cr4OsFxsr) != 0;
        uint mxcsr = sse ? cpu.Read32(lin + 24) : fpu.Mxcsr;
        if ((mxcsr & ~MxcsrMask) != 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        ushort fcw = cpu.Read16(lin);
        ushort fsw = cpu.Read16(lin + 2);
        byte tags = cpu.Read8(lin + 4);
        Span<Float80> st = stackalloc Float80[8];
        for (int i = 0; i < 8; i++)
        {
            ulong slot = lin + 32 + ((ulong)i * 16);
            st[i] = new Float80(cpu.Read64(slot), cpu.Read16(slot + 8));
        }

        int count = cpu._bitness == 64 ? 16 : 8;
        Span<UInt128> xmm = stackalloc UInt128[16];
        if (sse)
        {
            for (int i = 0; i < count; i++)
            {
                xmm[i] = Read128(cpu, lin + 160 + ((ulong)i * 16));
            }
        }

        // Every read has succeeded: commit (a fault above leaves the state untouched).
        fpu.ControlWord = fcw;
        fpu.LoadStatusWord(fsw); // QEMU do_xrstor_fpu: cpu_set_fpus (TOP, B = ES, IGNNE#)
        fpu.TagValid = tags;
        for (int i = 0; i < 8; i++)
        {
            fpu.St[(fpu.Top + i) & 7] = st[i];
        }

        if (sse)
        {
            fpu.Mxcsr = mxcsr;
            for (int i = 0; i < count; i++)
            {
                fpu.Xmm[i] = xmm[i];
            }
        }
    }
}
