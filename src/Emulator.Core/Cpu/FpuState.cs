using Emulator.Core.Cpu.Float;

namespace Emulator.Core.Cpu;

/// <summary>
/// x87 and SSE state: the eight physical x87 registers in their 80-bit form (indexed physically;
/// ST(i) is register (TOP + i) mod 8, and MMX register i is the significand of register i), control,
/// status and tag words, MXCSR and the 16 XMM registers. FXSAVE/FXRSTOR use the 512-byte layout of SDM
/// Vol. 1, 10.5.1.
/// </summary>
public sealed class FpuState
{
    public readonly Float80[] St = new Float80[8];
    public readonly UInt128[] Xmm = new UInt128[16];

    public ushort ControlWord { get; set; }

    public ushort StatusWord { get; set; }

    /// <summary>Abridged tag: bit i set when physical register i is valid (FXSAVE form).</summary>
    public byte TagValid { get; set; }

    public int Top { get; set; }

    public uint Mxcsr { get; set; }

    /// <summary>FIP: EIP/RIP of the last non-control x87 instruction (QEMU's fpip; FSTENV/FSAVE store it, FXSAVE writes 0).</summary>
    public ulong Fip { get; set; }

    /// <summary>FCS: the CS selector with <see cref="Fip"/>.</summary>
    public ushort Fcs { get; set; }

    /// <summary>FDP: the offset of that instruction's memory operand, before segmentation (QEMU's fpdp).</summary>
    public ulong Fdp { get; set; }

    /// <summary>FDS: the selector of the segment <see cref="Fdp"/> was in.</summary>
    public ushort Fds { get; set; }

    /// <summary>
    /// FERR#: called when FWAIT/FNOP find an unmasked exception pending with CR0.NE clear and
    /// IGNNE# is not asserted (QEMU fpu_check_raise_ferr_irq raises GSI 13 on pc and q35). The
    /// board wires it; unwired, FERR# goes nowhere.
    /// </summary>
    public Action? Ferr { get; set; }

    /// <summary>IGNNE#: asserted by a write to port 0xF0 (QEMU ioportF0_write), deasserted when FLDENV/FRSTOR/FXRSTOR load a status word without ES.</summary>
    public bool IgnoreNumericError { get; set; }

    internal void AssertFerr()
    {
        if (!IgnoreNumericError)
        {
            Ferr?.Invoke();
        }
    }

    /// <summary>FSW as FNSTSW stores it: the status bits with TOP in bits 13:11.</summary>
    public ushort StatusWordWithTop => (ushort)((StatusWord & ~0x3800) | (Top << 11));

    /// <summary>
    /// The full tag word from the contents (QEMU's do_fstenv): empty 3; zero 1; denormal,
    /// infinity, NaN or unnormal 2; valid 0.
    /// </summary>
    public int FullTagWord()
    {
        int tags = 0;
        for (int i = 7; i >= 0; i--)
        {
            tags <<= 2;
            Float80 v = St[i];
            if ((TagValid & (1 << i)) == 0)
            {
                tags |= 3;
            }
            else if (v.BiasedExponent == 0 && v.Significand == 0)
            {
                tags |= 1;
            }
            else if (v.BiasedExponent is 0 or 0x7FFF || (v.Significand >> 63) == 0)
            {
                tags |= 2;
            }
        }

        return tags;
    }

    /// <summary>
    /// Loads FSW as FLDENV/FRSTOR do (QEMU cpu_set_fpus): TOP from bits 13:11, B made equal to ES,
    /// and IGNNE# deasserted when ES is clear.
    /// </summary>
    public void LoadStatusWord(ushort fsw)
    {
        Top = (fsw >> 11) & 7;
        int sw = fsw & ~0x3800 & ~0x8000;
        if ((sw & 0x80) != 0)
        {
            sw |= 0x8000;
        }
        else
        {
            IgnoreNumericError = false;
        }

        StatusWord = (ushort)sw;
    }

    /// <summary>
    /// Reset state as QEMU 7.2's x86_cpu_reset leaves it (target/i386/cpu.c): FCW 0x37F (the SDM's
    /// power-on value is 0x40; QEMU sets FNINIT's), all tags empty, MXCSR 0x1F80, registers zero.
    /// </summary>
    public void Reset()
    {
        Array.Clear(St);
        Array.Clear(Xmm);
        ControlWord = 0x037F;
        StatusWord = 0;
        TagValid = 0;
        Top = 0;
        Mxcsr = 0x1F80;
        Fip = Fdp = 0;
        Fcs = Fds = 0;
        IgnoreNumericError = false;
    }

    /// <summary>
    /// MMX register <paramref name="i"/>: the significand of physical x87 register i (SDM Vol. 1,
    /// 9.5), whatever TOP is.
    /// </summary>
    public ulong ReadMmx(int i) => St[i].Significand;

    /// <summary>
    /// Writes MMX register <paramref name="i"/>. Only the significand changes: QEMU 7.2 keeps an x87
    /// register as a union of its floatx80 and the 8-byte MMXReg (target/i386/cpu.h, FPReg), so an
    /// MMX write leaves bits 79:64 as they were, where the SDM says they become all ones
    /// (docs/x87.md, "MMX aliasing").
    /// </summary>
    public void WriteMmx(int i, ulong value) => St[i].Significand = value;

    /// <summary>
    /// What every MMX instruction except EMMS does first (QEMU 7.2 helper_enter_mmx,
    /// target/i386/tcg/fpu_helper.c): TOP = 0 and all eight tags valid. The status word's other
    /// bits are left alone.
    /// </summary>
    public void EnterMmx()
    {
        Top = 0;
        TagValid = 0xFF;
    }

    /// <summary>EMMS (QEMU 7.2 helper_emms): all eight tags empty; TOP stays.</summary>
    public void Emms() => TagValid = 0;

    /// <summary>FNINIT/FINIT (QEMU do_fninit): FCW 0x37F, status 0, all tags empty, FIP/FCS/FDP/FDS 0.</summary>
    public void Initialize()
    {
        ControlWord = 0x037F;
        StatusWord = 0;
        TagValid = 0;
        Top = 0;
        Fip = Fdp = 0;
        Fcs = Fds = 0;
    }
}
