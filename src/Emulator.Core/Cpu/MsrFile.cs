namespace Emulator.Core.Cpu;

/// <summary>
/// Model-specific registers the firmware uses (docs/ovmf-platform.md): EFER, the APIC
/// base, the MTRRs, PAT, the TSC, and the 64-bit segment base MSRs. An MSR not listed raises #GP
/// on RDMSR/WRMSR, as QEMU's TCG does for MSRs it does not model.
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
    }

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

    public static bool IsKnown(uint index) => index switch
    {
        Tsc or ApicBase or MtrrCap or SysenterCs or SysenterEsp or SysenterEip or Pat or MtrrDefType => true,
        >= MtrrPhysBase0 and <= MtrrPhysMask7 => true,
        MtrrFix64K or MtrrFix16K80000 or MtrrFix16KA0000 => true,
        >= MtrrFix4KC0000 and <= MtrrFix4KF8000 => true,
        Efer or Star or LStar or CStar or SfMask or FsBase or GsBase or KernelGsBase or TscAux => true,
        _ => false,
    };

    public bool TryRead(uint index, out ulong value)
    {
        switch (index)
        {
            case Tsc:
                // Deterministic: the TSC counts virtual time, never host time.
                value = (ulong)_cpu.VirtualTime;
                return true;
            case Efer:
                value = _cpu._efer;
                return true;
            case FsBase:
                value = _cpu._seg[Seg.Fs].Base;
                return true;
            case GsBase:
                value = _cpu._seg[Seg.Gs].Base;
                return true;
        }

        if (!IsKnown(index))
        {
            value = 0;
            return false;
        }

        value = _values.GetValueOrDefault(index);
        return true;
    }

    public bool TryWrite(uint index, ulong value)
    {
        if (!IsKnown(index) || index == MtrrCap)
        {
            return false;
        }

        switch (index)
        {
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

        _values[index] = value;
        return true;
    }
}
