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

    /// <summary>Power-on state (SDM Table 9-1): FCW 0x40, MXCSR 0x1F80, registers empty.</summary>
    public void Reset()
    {
        Array.Clear(St);
        Array.Clear(Xmm);
        ControlWord = 0x0040;
        StatusWord = 0;
        TagValid = 0;
        Top = 0;
        Mxcsr = 0x1F80;
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

    /// <summary>FNINIT/FINIT (SDM Vol. 2, FINIT): FCW 0x37F, status 0, all tags empty.</summary>
    public void Initialize()
    {
        ControlWord = 0x037F;
        StatusWord = 0;
        TagValid = 0;
        Top = 0;
    }
}
