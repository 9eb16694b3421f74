namespace Emulator.Core.Cpu;

/// <summary>
/// Writes to CR0, CR3, CR4 and EFER with their architectural side effects (Intel SDM Vol. 3,
/// 2.5 and 9.8.5): paging and long-mode activation, TLB flushes, and the mode recomputation that
/// decides how the next instruction decodes. Every caller ends the current block.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>Loads CR0; returns false (caller raises #GP) for invalid combinations.</summary>
    internal bool WriteCr0(ulong value)
    {
        value |= CrBits.ET;
        if ((value >> 32) != 0 || ((value & CrBits.PG) != 0 && (value & CrBits.PE) == 0) ||
            ((value & CrBits.NW) != 0 && (value & CrBits.CD) == 0))
        {
            return false;
        }

        // Activating IA-32e mode needs PAE (SDM 9.8.5).
        bool enablingPaging = (value & CrBits.PG) != 0 && (_cr0 & CrBits.PG) == 0;
        if (enablingPaging && (_efer & CrBits.EferLme) != 0 && (_cr4 & CrBits.Cr4Pae) == 0)
        {
            return false;
        }

        LoadCr0(value);
        return true;
    }

    /// <summary>
    /// CR0 loaded without the checks of a MOV (QEMU's cpu_x86_update_cr0, which RSM also uses):
    /// ET forced, LMA follows a PG edge while LME is set, the TLB flushed when PG, WP or PE change.
    /// </summary>
    internal void LoadCr0(ulong value)
    {
        value |= CrBits.ET;
        ulong old = _cr0;
        if ((value & CrBits.PG) != 0 && (old & CrBits.PG) == 0 && (_efer & CrBits.EferLme) != 0)
        {
            _efer |= CrBits.EferLma;
        }
        else if ((value & CrBits.PG) == 0 && (old & CrBits.PG) != 0)
        {
            _efer &= ~CrBits.EferLma;
        }

        _cr0 = value;
        if (((old ^ value) & (CrBits.PG | CrBits.WP | CrBits.PE)) != 0)
        {
            FlushTlb();
        }

        UpdateMode();
        _exitBlock = true;
    }

    internal void WriteCr3(ulong value)
    {
        _cr3 = value;
        FlushTlb();
    }

    internal bool WriteCr4(ulong value)
    {
        // Bits this model supports: VME..PCE, OSFXSR, OSXMMEXCPT (no LA57, PCIDE, SMEP in qemu64).
        const ulong supported = 0x7FF;
        if ((value & ~supported) != 0)
        {
            return false;
        }

        if ((_efer & CrBits.EferLma) != 0 && (value & CrBits.Cr4Pae) == 0)
        {
            return false;
        }

        _cr4 = value;
        FlushTlb();
        _exitBlock = true;
        return true;
    }

    internal bool WriteEfer(ulong value)
    {
        // SCE, LME, NXE and SVME are writable; LMA is read-only and kept (SDM 2.2.1, Table 2-1). A
        // model without the feature keeps the bit clear without a fault (QEMU helper_wrmsr's
        // update_mask: qemu32 has no SYSCALL, LM, NX or SVM in CPUID).
        const ulong known = CrBits.EferSce | CrBits.EferLme | CrBits.EferNxe | CrBits.EferSvme;
        ulong writable = Model.EferWritable;
        if ((value & ~(known | CrBits.EferLma)) != 0)
        {
            return false;
        }

        if ((_cr0 & CrBits.PG) != 0 && ((value ^ _efer) & CrBits.EferLme) != 0)
        {
            return false;
        }

        _efer = (value & writable) | (_efer & CrBits.EferLma);
        FlushTlb();
        UpdateMode();
        _exitBlock = true;
        return true;
    }
}
