using Emulator.Core.Cpu;
using Iced.Intel;

namespace Emulator.Core.Tests.Cpu.Coverage;

/// <summary>
/// Which Iced <see cref="CpuidFeature"/>s a CPU model has, read from the model's CPUID answers
/// (<see cref="CpuModel.Query"/>; docs/qemu64-cpuid.md), so the coverage table follows the model
/// rather than a hand-kept list. The base ISA up to the 486 is every model's; features Iced names
/// that no CPUID bit of these models can report (Cyrix, Centaur, 8086-only, IA-64, ...) are absent.
/// </summary>
internal static class ModelFeatures
{
    public static bool Has(CpuModel model, CpuidFeature feature)
    {
        var (_, _, ecx1, edx1) = model.Query(1, 0);
        var (_, ebx7, ecx7, _) = model.MaxBasicLeaf >= 7 ? model.Query(7, 0) : (0, 0, 0, 0);
        var (_, _, ecx81, edx81) = model.MaxExtendedLeaf >= 0x80000001 ? model.Query(0x80000001, 0) : (0, 0, 0, 0);
        static bool Bit(uint reg, int bit) => (reg & (1u << bit)) != 0;
        return feature switch
        {
            CpuidFeature.INTEL8086 or CpuidFeature.INTEL186 or CpuidFeature.INTEL286 or CpuidFeature.INTEL386
                or CpuidFeature.INTEL486 or CpuidFeature.CPUID or CpuidFeature.MULTIBYTENOP or CpuidFeature.PAUSE
                or CpuidFeature.SMM => true,
            CpuidFeature.FPU or CpuidFeature.FPU287 or CpuidFeature.FPU387 => Bit(edx1, 0),
            CpuidFeature.TSC => Bit(edx1, 4),
            CpuidFeature.MSR => Bit(edx1, 5),
            CpuidFeature.CX8 => Bit(edx1, 8),
            CpuidFeature.SEP => Bit(edx1, 11),
            CpuidFeature.CMOV => Bit(edx1, 15),
            CpuidFeature.CLFSH => Bit(edx1, 19),
            CpuidFeature.MMX => Bit(edx1, 23),
            CpuidFeature.FXSR => Bit(edx1, 24),
            CpuidFeature.SSE => Bit(edx1, 25),
            CpuidFeature.SSE2 => Bit(edx1, 26),
            CpuidFeature.SSE3 => Bit(ecx1, 0),
            CpuidFeature.PCLMULQDQ => Bit(ecx1, 1),
            CpuidFeature.MONITOR => Bit(ecx1, 3),
            CpuidFeature.VMX => Bit(ecx1, 5),
            CpuidFeature.SMX => Bit(ecx1, 6),
            CpuidFeature.SSSE3 => Bit(ecx1, 9),
            CpuidFeature.FMA => Bit(ecx1, 12),
            CpuidFeature.CMPXCHG16B => Bit(ecx1, 13),
            CpuidFeature.SSE4_1 => Bit(ecx1, 19),
            CpuidFeature.SSE4_2 => Bit(ecx1, 20),
            CpuidFeature.MOVBE => Bit(ecx1, 22),
            CpuidFeature.POPCNT => Bit(ecx1, 23),
            CpuidFeature.AES => Bit(ecx1, 25),
            CpuidFeature.XSAVE => Bit(ecx1, 26),
            CpuidFeature.AVX => Bit(ecx1, 28),
            CpuidFeature.F16C => Bit(ecx1, 29),
            CpuidFeature.RDRAND => Bit(ecx1, 30),
            CpuidFeature.FSGSBASE => Bit(ebx7, 0),
            CpuidFeature.BMI1 => Bit(ebx7, 3),
            CpuidFeature.HLE => Bit(ebx7, 4),
            CpuidFeature.AVX2 => Bit(ebx7, 5),
            CpuidFeature.BMI2 => Bit(ebx7, 8),
            CpuidFeature.INVPCID => Bit(ebx7, 10),
            CpuidFeature.RTM => Bit(ebx7, 11),
            CpuidFeature.MPX => Bit(ebx7, 14),
            CpuidFeature.RDSEED => Bit(ebx7, 18),
            CpuidFeature.ADX => Bit(ebx7, 19),
            CpuidFeature.SMAP => Bit(ebx7, 20),
            CpuidFeature.CLFLUSHOPT => Bit(ebx7, 23),
            CpuidFeature.CLWB => Bit(ebx7, 24),
            CpuidFeature.SHA => Bit(ebx7, 29),
            CpuidFeature.PREFETCHWT1 => Bit(ecx7, 0),
            CpuidFeature.PKU => Bit(ecx7, 3),
            CpuidFeature.RDPID => Bit(ecx7, 22),
            CpuidFeature.SYSCALL => Bit(edx81, 11),
            CpuidFeature.RDTSCP => Bit(edx81, 27),
            CpuidFeature.X64 => Bit(edx81, 29),
            CpuidFeature.D3NOWEXT => Bit(edx81, 30),
            CpuidFeature.D3NOW => Bit(edx81, 31),
            CpuidFeature.SVM or CpuidFeature.SKINIT_or_SVM => Bit(ecx81, 2),
            CpuidFeature.LZCNT => Bit(ecx81, 5),
            CpuidFeature.SSE4A => Bit(ecx81, 6),
            CpuidFeature.PREFETCHW => Bit(ecx81, 8),
            CpuidFeature.XOP => Bit(ecx81, 11),
            CpuidFeature.SKINIT => Bit(ecx81, 12),
            CpuidFeature.FMA4 => Bit(ecx81, 16),
            CpuidFeature.TBM => Bit(ecx81, 21),
            CpuidFeature.MONITORX => Bit(ecx81, 29),
            _ => false,
        };
    }

    /// <summary>True when the model has every feature Iced lists for <paramref name="code"/>.</summary>
    public static bool Valid(CpuModel model, Code code) => code.CpuidFeatures().All(f => Has(model, f));

    /// <summary>The features of <paramref name="code"/> the model lacks.</summary>
    public static IEnumerable<CpuidFeature> Missing(CpuModel model, Code code) => code.CpuidFeatures().Where(f => !Has(model, f));
}
