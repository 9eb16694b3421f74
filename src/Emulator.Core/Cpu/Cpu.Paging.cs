using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Emulator.Core.Cpu;

/// <summary>
/// Linear-to-physical translation (Intel SDM Vol. 3, chapter 4): no paging, 32-bit paging with
/// 4 MiB pages, PAE, and 4-level paging with 2 MiB and (where CPUID advertises them) 1 GiB pages;
/// NX, WP, U/S; accessed and dirty bits are set as the walk goes. A direct-mapped software TLB
/// caches the result per 4 KiB linear page along with host pointers, so RAM accesses that hit
/// never touch the bus.
/// </summary>
public sealed unsafe partial class Cpu
{
    private const int TlbBits = 10;
    private const int TlbSize = 1 << TlbBits;
    private const ulong TlbMask = TlbSize - 1;

    private readonly TlbEntry[] _tlb = new TlbEntry[TlbSize];

    /// <summary>
    /// The slots <see cref="Fill"/> filled since the last flush, so a flush empties those instead
    /// of all 1,024 (40 KiB of entries, more than L1). An SMI round trip flushes about ten times
    /// (SMM entry, each CR0/CR3/CR4 load of the handler's way to long mode, RSM) and touches a few
    /// pages in between: the full sweep was 43 % of the SMM flash workload's time (perf, 1 byte
    /// per SMI). Past <see cref="TlbSize"/> records the count is <see cref="TlbUntracked"/> and the
    /// next flush sweeps everything, as it does first (a new array's tags are 0, not empty).
    /// </summary>
    private readonly ushort[] _tlbFilled = new ushort[TlbSize];
    private int _tlbFilledCount = TlbUntracked;
    private const int TlbUntracked = TlbSize + 1;

    /// <summary>The direct-mapped slot for <paramref name="linear"/>'s page (no bounds check: the index is masked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref TlbEntry TlbSlot(ulong linear) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_tlb), (nint)((linear >> 12) & TlbMask));

    /// <summary>Access kinds for the page walk and the #PF error code.</summary>
    internal enum Access
    {
        Read = 0,
        Write = 1,
        Execute = 2,
    }

    public void FlushTlb()
    {
        if (_tlbFilledCount == TlbUntracked)
        {
            for (int i = 0; i < _tlb.Length; i++)
            {
                _tlb[i].Tag = ulong.MaxValue;
            }
        }
        else
        {
            for (int i = 0; i < _tlbFilledCount; i++)
            {
                _tlb[_tlbFilled[i]].Tag = ulong.MaxValue;
            }
        }

        _tlbFilledCount = 0;
        _codeGeneration++;
        _exitBlock = true;
    }

    /// <summary>INVLPG: drop one linear page.</summary>
    internal void FlushTlbPage(ulong linear)
    {
        ref var e = ref TlbSlot(linear);
        if (e.Tag == linear >> 12)
        {
            e.Tag = ulong.MaxValue;
        }

        _codeGeneration++;
    }

    /// <summary>Drops direct-write pointers to one physical page (it now holds decoded code).</summary>
    internal void RevokeWriteHost(ulong physPage)
    {
        for (int i = 0; i < _tlb.Length; i++)
        {
            if (_tlb[i].PhysPage == physPage)
            {
                _tlb[i].WriteHost = null;
            }
        }
    }

    /// <summary>Finds (filling if needed) the TLB entry for <paramref name="linear"/>, checking access rights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref TlbEntry Translate(ulong linear, Access access)
    {
        ref var e = ref TlbSlot(linear);
        if (e.Tag == linear >> 12 && (access != Access.Write || e.Write) && (access != Access.Execute || e.Exec))
        {
            return ref e;
        }

        return ref Fill(linear, access);
    }

    public ulong TranslateForDebugger(ulong linear, out bool ok)
    {
        ok = TryWalk(linear, Access.Read, false, out ulong phys, out _, out _, out _);
        return phys;
    }

    private ref TlbEntry Fill(ulong linear, Access access)
    {
        // A non-canonical address in long mode is #GP(0), raised where QEMU raises it: at
        // translation (target/i386/tcg/sysemu/excp_helper.c mmu_translate, "sext != 0 && sext != -1").
        // The TLB is tagged with the full linear page number, so such an address never hits.
        if ((_efer & CrBits.EferLma) != 0 && (long)linear >> 47 is not (0 or -1))
        {
            throw new GuestFault(Vector.GP, 0);
        }

        if (!TryWalk(linear, access, true, out ulong phys, out bool writable, out bool exec, out uint errorCode))
        {
            RecordPageFaultAddress(linear);
            throw new GuestFault(Vector.PF, errorCode);
        }

        ref var e = ref TlbSlot(linear);
        if (e.Tag == ulong.MaxValue)
        {
            // An empty slot becomes used: the next flush must empty it (one emptied by FlushTlbPage may be listed twice).
            _tlbFilledCount = _tlbFilledCount < TlbSize ? _tlbFilledCount + 1 : TlbUntracked;
            if (_tlbFilledCount <= TlbSize)
            {
                _tlbFilled[_tlbFilledCount - 1] = (ushort)((linear >> 12) & TlbMask);
            }
        }

        e.Tag = linear >> 12;
        e.PhysPage = phys >> 12;
        e.Exec = exec;

        // A write permission is only cached after a write walk, which has set the dirty bit.
        e.Write = writable && access == Access.Write;
        ulong pageBase = phys & ~0xFFFUL;
        e.ReadHost = _bus.ReadPointer(pageBase);
        e.WriteHost = e.Write ? _bus.WritePointer(pageBase) : null;
        if (_watchArmed)
        {
            // Watched pages take the slow path, which checks the data breakpoints (Cpu.Debug.cs).
            if (PageWatched(linear, reads: true))
            {
                e.ReadHost = null;
            }

            if (PageWatched(linear, reads: false))
            {
                e.WriteHost = null;
            }
        }

        return ref e;
    }

    private bool TryWalk(ulong linear, Access access, bool setBits, out ulong phys, out bool writable, out bool exec, out uint errorCode)
    {
        writable = true;
        exec = true;
        errorCode = 0;
        if ((_cr0 & CrBits.PG) == 0)
        {
            phys = _bitness == 64 ? linear : (uint)linear;
            return true;
        }

        bool user = _cpl == 3;
        bool wp = (_cr0 & CrBits.WP) != 0;
        bool nxe = (_efer & CrBits.EferNxe) != 0;
        bool userOk = true;
        ulong physMask = (1UL << Model.PhysicalAddressBits) - 1;
        phys = 0;
        uint fetchBit = access == Access.Execute && nxe ? 0x10u : 0u;
        uint baseCode = (access == Access.Write ? 2u : 0u) | (user ? 4u : 0u) | fetchBit;

        if ((_cr4 & CrBits.Cr4Pae) == 0)
        {
            // 32-bit paging: 10/10/12, PSE 4 MiB pages.
            uint lin = (uint)linear;
            ulong pdeAddr = (_cr3 & 0xFFFFF000) + ((lin >> 22) << 2);
            uint pde = (uint)_bus.Read(pdeAddr, 4);
            if ((pde & 1) == 0)
            {
                errorCode = baseCode;
                return false;
            }

            writable &= (pde & 2) != 0;
            userOk &= (pde & 4) != 0;
            if ((pde & 0x80) != 0 && (_cr4 & CrBits.Cr4Pse) != 0)
            {
                if (!CheckRights(access, user, wp, writable, userOk, true, baseCode, ref errorCode))
                {
                    return false;
                }

                if (setBits)
                {
                    SetAccessedDirty(pdeAddr, pde, access == Access.Write, 4);
                }

                ulong big = (pde & 0xFFC00000UL) | ((ulong)(pde >> 13) & 0xFF) << 32;
                phys = big + (lin & 0x3FFFFF);
                return true;
            }

            ulong pteAddr = (pde & 0xFFFFF000) + (((lin >> 12) & 0x3FF) << 2);
            uint pte = (uint)_bus.Read(pteAddr, 4);
            if ((pte & 1) == 0)
            {
                errorCode = baseCode | 0;
                return false;
            }

            writable &= (pte & 2) != 0;
            userOk &= (pte & 4) != 0;
            if (!CheckRights(access, user, wp, writable, userOk, true, baseCode, ref errorCode))
            {
                return false;
            }

            if (setBits)
            {
                SetAccessedDirty(pdeAddr, pde, false, 4);
                SetAccessedDirty(pteAddr, pte, access == Access.Write, 4);
            }

            phys = (pte & 0xFFFFF000) + (lin & 0xFFF);
            return true;
        }

        bool longMode = (_efer & CrBits.EferLma) != 0;
        int levels = longMode ? 4 : 3;
        ulong table = longMode ? _cr3 & 0x000F_FFFF_FFFF_F000UL : _cr3 & 0xFFFFFFE0UL;
        ulong lin64 = longMode ? linear : (uint)linear;
        Span<ulong> entryAddrs = stackalloc ulong[4];
        Span<ulong> entries = stackalloc ulong[4];
        int n = 0;
        for (int level = levels; level >= 1; level--)
        {
            int shift = 12 + 9 * (level - 1);
            ulong index = level == 3 && !longMode ? (lin64 >> 30) & 3 : (lin64 >> shift) & 0x1FF;
            ulong entryAddr = (table & ~0xFFFUL & physMask) + index * 8;
            if (level == 3 && !longMode)
            {
                // PAE PDPTEs live in a 32-byte aligned table and carry no R/W, U/S or NX bits.
                entryAddr = (table & 0xFFFFFFE0UL) + index * 8;
            }

            ulong entry = _bus.Read(entryAddr, 8);
            if ((entry & 1) == 0)
            {
                errorCode = baseCode;
                return false;
            }

            bool pdpteLegacy = level == 3 && !longMode;
            if (!pdpteLegacy)
            {
                writable &= (entry & 2) != 0;
                userOk &= (entry & 4) != 0;
                if (nxe && (entry & (1UL << 63)) != 0)
                {
                    exec = false;
                }
                else if (!nxe && (entry & (1UL << 63)) != 0)
                {
                    // NX set while EFER.NXE = 0 is a reserved bit (SDM 4.5.4).
                    errorCode = baseCode | 1 | 8;
                    return false;
                }
            }

            entryAddrs[n] = entryAddr;
            entries[n] = entry;
            n++;
            bool pageSize = (entry & 0x80) != 0;
            if (pageSize && (level == 4 || (level == 3 && longMode && !Model.Supports1GPages)))
            {
                // PS is reserved in a PML4E, and in a PDPTE unless CPUID advertises 1 GiB pages
                // (SDM 4.5.4): a present entry with a reserved bit faults with P and RSVD set.
                errorCode = baseCode | 1 | 8;
                return false;
            }

            bool large = pageSize && (level == 2 || level == 3);
            if (level == 1 || large)
            {
                if (!CheckRights(access, user, wp, writable, userOk, exec, baseCode, ref errorCode))
                {
                    return false;
                }

                if (setBits)
                {
                    for (int i = 0; i < n; i++)
                    {
                        SetAccessedDirty(entryAddrs[i], entries[i], access == Access.Write && i == n - 1, 8, pdpteLegacy: !longMode && i == 0);
                    }
                }

                // Bit 12 of a large-page entry is PAT, not an address bit: masking by the page size drops it.
                ulong pageMask = (1UL << shift) - 1;
                phys = (entry & physMask & ~pageMask) + (lin64 & pageMask);
                return true;
            }

            table = entry & physMask;
        }

        errorCode = baseCode;
        return false;
    }

    private static bool CheckRights(Access access, bool user, bool wp, bool writable, bool userOk, bool exec, uint baseCode, ref uint errorCode)
    {
        bool ok = access switch
        {
            Access.Write => user ? writable && userOk : writable || !wp,
            Access.Execute => exec && (!user || userOk),
            _ => !user || userOk,
        };
        if (!ok)
        {
            errorCode = baseCode | 1;
        }

        return ok;
    }

    private void SetAccessedDirty(ulong address, ulong entry, bool dirty, int size, bool pdpteLegacy = false)
    {
        if (pdpteLegacy)
        {
            return;
        }

        ulong updated = entry | 0x20 | (dirty ? 0x40UL : 0);
        if (updated != entry)
        {
            _bus.Write(address, size, size == 4 ? (uint)updated : updated);
        }
    }
}
