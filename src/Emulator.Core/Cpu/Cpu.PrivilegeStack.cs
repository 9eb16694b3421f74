namespace Emulator.Core.Cpu;

/// <summary>
/// The inner-privilege stack of an interrupt or a call gate, read from the current TSS, and the
/// loads of a segment cache from a descriptor already checked (QEMU 7.2's get_ss_esp_from_tss,
/// get_rsp_from_tss and cpu_x86_load_seg_cache, target/i386/tcg/seg_helper.c).
/// </summary>
public sealed partial class Cpu
{
    // Raw descriptor bits (SDM Vol. 3, 3.4.5): present, code/data (S), code, conforming; bit 41 is
    // W for data and R for code.
    internal const ulong DescP = 1UL << 47, DescS = 1UL << 44, DescCode = 1UL << 43, DescC = 1UL << 42, DescW = 1UL << 41, DescR = DescW;

    /// <summary>The DPL of a raw 8-byte descriptor.</summary>
    internal static int DescriptorDpl(ulong desc) => (int)(desc >> 45) & 3;

    /// <summary>
    /// SS:ESP for privilege level <paramref name="dpl"/> from a 16- or 32-bit TSS, and the SS
    /// descriptor after QEMU's checks, each failing with #TS(SS): a null selector, RPL or DPL not
    /// <paramref name="dpl"/>, past its table, not a writable data segment, not present. A TSS
    /// too short for the slot is #TS(TR). Nothing is loaded: the caller pushes, then loads.
    /// </summary>
    internal ulong InnerStackFromTss(int dpl, out ushort ss, out uint esp)
    {
        bool tss32 = (_tr.Attributes & 0x800) != 0;
        int shift = tss32 ? 1 : 0;
        uint index = (uint)((dpl * 4 + 2) << shift);
        if (index + (4u << shift) - 1 > _tr.Limit)
        {
            throw new GuestFault(Vector.TS, _tr.Selector & 0xFFFCu);
        }

        ulong slot = _tr.Base + index;
        esp = tss32 ? Read32(WrapLinear(slot)) : Read16(WrapLinear(slot));
        ss = Read16(WrapLinear(slot + (tss32 ? 4UL : 2UL)));
        uint error = ss & 0xFFFCu;
        if (error == 0 || (ss & 3) != dpl || !TryReadDescriptor(ss, out ulong desc) || DescriptorDpl(desc) != dpl)
        {
            throw new GuestFault(Vector.TS, error);
        }

        if ((desc & DescS) == 0 || (desc & DescCode) != 0 || (desc & DescW) == 0 || (desc & DescP) == 0)
        {
            throw new GuestFault(Vector.TS, error);
        }

        return desc;
    }

    /// <summary>
    /// RSP for <paramref name="level"/> from the 64-bit TSS (0..2: RSP0..2; IST n is level n + 3):
    /// #TS(TR) past the TSS limit, #SS(0) when not canonical (QEMU's get_rsp_from_tss).
    /// </summary>
    internal ulong RspFromTss(int level)
    {
        uint index = (uint)(8 * level + 4);
        if (index + 7 > _tr.Limit)
        {
            throw new GuestFault(Vector.TS, _tr.Selector & 0xFFFCu);
        }

        ulong rsp = Read64(_tr.Base + index);
        if ((long)rsp >> 47 is not (0 or -1))
        {
            throw new GuestFault(Vector.SS, 0);
        }

        return rsp;
    }

    /// <summary>Loads a segment register's cache from a descriptor the caller has checked (no accessed bit written, as QEMU).</summary>
    internal void SetSegmentFromDescriptor(int seg, ushort selector, ulong desc)
    {
        _seg[seg] = new SegmentRegister
        {
            Selector = selector,
            Base = DescriptorBase(desc),
            Limit = DescriptorLimit(desc),
            Attributes = DescriptorAttributes(desc) | 0x100,
        };
    }

    /// <summary>A virtual-8086 segment as QEMU's load_seg_vm: base selector·16, limit 0xFFFF, present writable data of DPL 3.</summary>
    internal void LoadVm86Segment(int seg, ushort selector) =>
        _seg[seg] = new SegmentRegister { Selector = selector, Base = (ulong)selector << 4, Limit = 0xFFFF, Attributes = 0xF300 };

    /// <summary>QEMU's get_sp_mask of a segment's attributes: 0 (all 64 bits) for a long segment, else by its B bit.</summary>
    internal static ulong StackPointerMask(uint attributes) =>
        (attributes & (1u << 21)) != 0 ? ulong.MaxValue : (attributes & (1u << 22)) != 0 ? 0xFFFF_FFFFUL : 0xFFFFUL;

    /// <summary>QEMU's SET_ESP: writes SP through <paramref name="mask"/>, keeping the upper bits of a 16-bit stack.</summary>
    internal void SetSpMasked(ulong sp, ulong mask) =>
        SetSp(sp, mask == 0xFFFF ? 2 : mask == 0xFFFF_FFFF ? 4 : 8);
}
