namespace Emulator.Core.Cpu;

/// <summary>
/// Model-specific registers as QEMU 7.2's TCG has them (target/i386/tcg/sysemu/misc_helper.c
/// helper_rdmsr/helper_wrmsr; docs/cpu.md "MSRs"): EFER, the APIC base, the MTRRs, PAT, the TSC,
/// the SYSENTER/SYSCALL and segment base MSRs, machine-check architecture (MCG_CAP with 10 banks,
/// MCG_STATUS/CTL, MC0–MC9 CTL/STATUS/ADDR/MISC: QEMU's mce_init for a CPU with MCE and MCA),
/// MISC_ENABLE, the SMI count, the microcode revision, PERF_STATUS and VM_HSAVE_PA. Any other MSR
/// reads 0 and ignores writes — QEMU 7.2 raises no #GP for MSRs it does not know (its
/// "XXX: exception?" default), measured on qemu-system-x86_64 7.2 with a -bios probe.
/// </summary>
public sealed class MsrFile
{
    public const uint Tsc = 0x10;
    public const uint ApicBase = 0x1B;
    public const uint MtrrCap = 0xFE;
    public const uint SysenterCs = 0x174;
    public const uint SysenterEsp = 0x175;
    public const uint SysenterEip = 0x176;
    public const uint MtrrPhysBase0 = 0x200;
    public const uint MtrrPhysMask7 = 0x20F;
    public const uint MtrrFix64K = 0x250;
    public const uint MtrrFix16K80000 = 0x258;
    public const uint MtrrFix16KA0000 = 0x259;
    public const uint MtrrFix4KC0000 = 0x268;
    public const uint MtrrFix4KF8000 = 0x26F;
    public const uint Pat = 0x277;
    public const uint MtrrDefType = 0x2FF;
    public const uint Efer = 0xC0000080;
    public const uint Star = 0xC0000081;
    public const uint LStar = 0xC0000082;
    public const uint CStar = 0xC0000083;
    public const uint SfMask = 0xC0000084;
    public const uint FsBase = 0xC0000100;
    public const uint GsBase = 0xC0000101;
    public const uint KernelGsBase = 0xC0000102;
    public const uint TscAux = 0xC0000103;
    public const uint SmiCount = 0x34;
    public const uint UcodeRev = 0x8B;
    public const uint McgCap = 0x179;
    public const uint McgStatus = 0x17A;
    public const uint McgCtl = 0x17B;
    public const uint PerfStatus = 0x198;
    public const uint MiscEnable = 0x1A0;
    public const uint Mc0Ctl = 0x400;
    public const uint VmHsavePa = 0xC001_0117;

    /// <summary>QEMU's MCE_CAP_DEF | MCE_BANKS_DEF: MCG_CTL_P (bit 8), MCG_SER_P (bit 24), 10 banks.</summary>
    public const ulong McgCapDefault = 0x0100_010A;
    public const int McBanks = 10;
    private const ulong McgCtlPresent = 1UL << 8;

    /// <summary>MSR_IA32_MISC_ENABLE_DEFAULT: fast strings enabled.</summary>
    public const ulong MiscEnableDefault = 1;

    /// <summary>MSR_IA32_PERF_STATUS as QEMU answers it: TSC increment 1000 per tick, multiplier 4.</summary>
    public const ulong PerfStatusValue = (4UL << 40) | 1000;

    /// <summary>x86_cpu_realizefn's microcode revision when none is given: AMD 0x01000065, others 1 &lt;&lt; 32.</summary>
    private const ulong UcodeRevAmd = 0x0100_0065, UcodeRevIntel = 1UL << 32;

    /// <summary>QEMU's reset value: base 0xFEE00000, enabled (bit 11), bootstrap processor (bit 8).</summary>
    public const ulong DefaultApicBase = 0xFEE00900;

    private readonly Cpu _cpu;
    private readonly Dictionary<uint, ulong> _values = [];

    internal MsrFile(Cpu cpu)
    {
        _cpu = cpu;
    }

    /// <summary>Raised when the guest writes IA32_APIC_BASE (the local APIC moves or is disabled).</summary>
    public event Action<ulong>? ApicBaseChanged;

    public void Reset()
    {
        _values.Clear();
        _values[ApicBase] = DefaultApicBase;

        // MTRRCAP 0x508: WC supported, fixed MTRRs supported, 8 variable ranges (QEMU's value).
        _values[MtrrCap] = 0x508;
        _values[Pat] = 0x0007040600070406;
        _values[MtrrDefType] = 0;
        _values[MiscEnable] = MiscEnableDefault;
        if (HasMachineCheck)
        {
            // mce_init: MCG_CTL and every bank's CTL all-ones.
            _values[McgCtl] = ulong.MaxValue;
            for (int bank = 0; bank < McBanks; bank++)
            {
                _values[Mc0Ctl + (uint)(4 * bank)] = ulong.MaxValue;
            }
        }
    }

    /// <summary>QEMU's mce_init sets MCG_CAP only for CPUID.1 EDX with both MCE (bit 7) and MCA (bit 14).</summary>
    private bool HasMachineCheck => (_cpu.Model.Query(1, 0).Edx & ((1u << 7) | (1u << 14))) == ((1u << 7) | (1u << 14));

    private ulong McgCapValue => HasMachineCheck ? McgCapDefault : 0;

    private bool IsMcBank(uint index) => index >= Mc0Ctl && index < Mc0Ctl + (4 * McgCapValue & 0xFF);

    /// <summary>The stored MSR values (EFER, FS/GS base and the TSC live in the CPU and are saved there).</summary>
    internal IReadOnlyDictionary<uint, ulong> Snapshot() => new Dictionary<uint, ulong>(_values);

    internal void Restore(IReadOnlyDictionary<uint, ulong> values)
    {
        _values.Clear();
        foreach (var (k, v) in values)
        {
            _values[k] = v;
        }
    }

    /// <summary>A stored MSR's value as the CPU holds it (VMLOAD/VMSAVE and VMRUN's HSAVE page: Cpu.Svm*.cs).</summary>
    internal ulong Stored(uint index) => _values.GetValueOrDefault(index);

    internal void SetStored(uint index, ulong value) => _values[index] = value;

    /// <summary>MSRs kept as stored values.</summary>
    private static bool IsStored(uint index) => index switch
    {
        ApicBase or MtrrCap or SysenterCs or SysenterEsp or SysenterEip or Pat or MtrrDefType => true,
        >= MtrrPhysBase0 and <= MtrrPhysMask7 => true,
        MtrrFix64K or MtrrFix16K80000 or MtrrFix16KA0000 => true,
        >= MtrrFix4KC0000 and <= MtrrFix4KF8000 => true,
        Star or LStar or CStar or SfMask or KernelGsBase or TscAux => true,
        McgStatus or McgCtl or MiscEnable or VmHsavePa => true,
        _ => false,
    };

    /// <summary>RDMSR: never faults (helper_rdmsr's default reads 0).</summary>
    public bool TryRead(uint index, out ulong value)
    {
        value = index switch
        {
            // Deterministic: the TSC counts virtual time, never host time.
            Tsc => (ulong)_cpu.VirtualTime,
            Efer => _cpu._efer,
            FsBase => _cpu._seg[Seg.Fs].Base,
            GsBase => _cpu._seg[Seg.Gs].Base,
            SmiCount => (ulong)_cpu.SmmEntries,
            UcodeRev => _cpu.Model.IsAmd ? UcodeRevAmd : UcodeRevIntel,
            PerfStatus => PerfStatusValue,
            McgCap => McgCapValue,
            McgCtl => (McgCapValue & McgCtlPresent) != 0 ? _values.GetValueOrDefault(index) : 0,
            _ => IsStored(index) || IsMcBank(index) ? _values.GetValueOrDefault(index) : 0,
        };
        return true;
    }

    /// <summary>WRMSR: false only for an EFER value the CPU refuses; read-only and unknown MSRs ignore the write (helper_wrmsr's default).</summary>
    public bool TryWrite(uint index, ulong value)
    {
        switch (index)
        {
            case McgCtl when (McgCapValue & McgCtlPresent) == 0 || (value != 0 && value != ulong.MaxValue):
                return true;
            case >= Mc0Ctl when IsMcBank(index):
                // A bank's CTL takes only all-zeros or all-ones; STATUS, ADDR and MISC take anything.
                if ((index - Mc0Ctl) % 4 == 0 && value != 0 && value != ulong.MaxValue)
                {
                    return true;
                }

                _values[index] = value;
                return true;
            case MtrrCap:
                return true;
            case SysenterCs:
                // QEMU keeps the selector only (helper_wrmsr; docs/cpu-segments.md).
                _values[index] = value & 0xFFFF;
                return true;
            case Efer:
                return _cpu.WriteEfer(value);
            case FsBase:
                _cpu._seg[Seg.Fs].Base = value;
                _cpu.UpdateMode();
                return true;
            case GsBase:
                _cpu._seg[Seg.Gs].Base = value;
                _cpu.UpdateMode();
                return true;
            case ApicBase:
                _values[index] = value;
                ApicBaseChanged?.Invoke(value);
                return true;
        }

        if (IsStored(index))
        {
            _values[index] = value;
        }

        return true;
    }
}
