namespace Emulator.Core.Cpu;

/// <summary>
/// Segment register loads (Intel SDM Vol. 3, 3.4 and 5.x): real-mode selector·16 bases, and
/// protected/long-mode descriptor loads from the GDT or LDT into the hidden cache, with the
/// checks of QEMU 7.2's helper_load_seg (null selector, limit, type, privilege, presence). Far
/// transfers through call gates are in Handlers/ControlFlow.Gates.cs; task switches are not
/// emulated and raise #GP.
/// </summary>
public sealed partial class Cpu
{
    private bool ProtectedMode => (_cr0 & CrBits.PE) != 0 && (_flags & RFlags.VM) == 0;

    /// <summary>Loads a segment register the way MOV Sreg / POP Sreg / LDS do in the current mode.</summary>
    internal void LoadSegment(int seg, ushort selector)
    {
        if (!ProtectedMode)
        {
            // Real and virtual-8086 mode alike: selector and base only, the limit and attributes
            // stay as they were (QEMU 7.2 translate.c gen_op_movl_seg_T0_vm, helper_lcall_real;
            // V86 entry loaded all six with load_seg_vm's 0xFFFF and 0xF300, CS included).
            _seg[seg] = _seg[seg] with { Selector = selector, Base = (ulong)selector << 4 };
            UpdateMode();
            return;
        }

        if ((selector & 0xFFFC) == 0)
        {
            // A null selector is legal for data segments, and for SS in 64-bit mode at CPL < 3.
            if (seg == Seg.Ss && !(_bitness == 64 && _cpl != 3))
            {
                throw new GuestFault(Vector.GP, 0);
            }

            _seg[seg] = new SegmentRegister { Selector = selector, Base = 0, Limit = 0, Attributes = 0 };
            UpdateMode();
            return;
        }

        ulong desc = ReadDescriptor(selector);
        uint attr = DescriptorAttributes(desc);
        CheckSegmentLoad(seg, selector, attr);
        if ((attr & 0x8000) == 0)
        {
            throw new GuestFault(seg == Seg.Ss ? Vector.SS : Vector.NP, selector & 0xFFFCu);
        }

        SetAccessed(selector, desc);
        _seg[seg] = new SegmentRegister
        {
            Selector = selector,
            Base = DescriptorBase(desc),
            Limit = DescriptorLimit(desc),
            Attributes = attr | 0x100,
        };
        if (seg == Seg.Cs)
        {
            _cpl = selector & 3;
        }

        UpdateMode();
    }

    /// <summary>
    /// The type and privilege checks of a data or stack segment load, in QEMU 7.2's order
    /// (target/i386/tcg/seg_helper.c, helper_load_seg; docs/cpu-segments.md): a system
    /// descriptor, SS that is not a writable data segment or whose RPL or DPL is not CPL, a
    /// data segment register given an execute-only code segment, or a data or non-conforming
    /// code segment with DPL below CPL or RPL: #GP(selector).
    /// </summary>
    private void CheckSegmentLoad(int seg, ushort selector, uint attr)
    {
        bool code = (attr & 0x800) != 0;
        int rpl = selector & 3, dpl = (int)((attr >> 13) & 3);
        bool refused = (attr & 0x1000) == 0
            || (seg == Seg.Ss
                ? code || (attr & 0x200) == 0 || rpl != _cpl || dpl != _cpl
                : (code && (attr & 0x200) == 0) || ((!code || (attr & 0x400) == 0) && (dpl < _cpl || dpl < rpl)));
        if (refused)
        {
            throw new GuestFault(Vector.GP, selector & 0xFFFCu);
        }
    }

    /// <summary>Loads CS for a far JMP/CALL/RET/IRET or interrupt to <paramref name="selector"/>, setting CPL.</summary>
    internal void LoadCodeSegment(ushort selector, int newCpl)
    {
        if (!ProtectedMode)
        {
            _seg[Seg.Cs] = _seg[Seg.Cs] with { Selector = selector, Base = (ulong)selector << 4 };
            UpdateMode();
            return;
        }

        if ((selector & 0xFFFC) == 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        ulong desc = ReadDescriptor(selector);
        uint attr = DescriptorAttributes(desc);
        if ((attr & 0x1800) != 0x1800)
        {
            // Not a code segment (call gates are taken before this; TSS targets are not emulated).
            throw new GuestFault(Vector.GP, selector & 0xFFFCu);
        }

        if ((attr & 0x8000) == 0)
        {
            throw new GuestFault(Vector.NP, selector & 0xFFFCu);
        }

        SetAccessed(selector, desc);
        _seg[Seg.Cs] = new SegmentRegister
        {
            Selector = (ushort)((selector & 0xFFFC) | newCpl),
            Base = DescriptorBase(desc),
            Limit = DescriptorLimit(desc),
            Attributes = attr | 0x100,
        };
        ChangeCpl(newCpl);
        UpdateMode();
    }

    /// <summary>Sets CPL; the TLB's write permissions depend on it, so a change empties it.</summary>
    internal void ChangeCpl(int newCpl)
    {
        if (newCpl != _cpl)
        {
            _cpl = newCpl;
            FlushTlb();
        }
    }

    /// <summary>Reads the 8-byte descriptor for <paramref name="selector"/> from the GDT or LDT (#GP if beyond the limit).</summary>
    internal ulong ReadDescriptor(ushort selector) =>
        TryReadDescriptor(selector, out ulong desc) ? desc : throw new GuestFault(Vector.GP, selector & 0xFFFCu);

    /// <summary>The descriptor, or false when the selector is beyond its table's limit (QEMU's load_segment).</summary>
    internal bool TryReadDescriptor(ushort selector, out ulong desc)
    {
        bool ldt = (selector & 4) != 0;
        ulong tableBase = ldt ? _ldtr.Base : _gdtr.Base;
        uint limit = ldt ? _ldtr.Limit : _gdtr.Limit;
        uint index = (uint)(selector & 0xFFF8);
        desc = index + 7 > limit ? 0 : Read64(WrapLinear(tableBase + index));
        return index + 7 <= limit;
    }

    private void SetAccessed(ushort selector, ulong desc)
    {
        if ((desc & (1UL << 40)) == 0)
        {
            ulong tableBase = (selector & 4) != 0 ? _ldtr.Base : _gdtr.Base;
            ulong addr = WrapLinear(tableBase + (uint)(selector & 0xFFF8) + 5);
            Write8(addr, (byte)((desc >> 40) | 1));
        }
    }

    internal static ulong DescriptorBase(ulong desc) =>
        ((desc >> 16) & 0xFFFFFF) | (((desc >> 56) & 0xFF) << 24);

    internal static uint DescriptorLimit(ulong desc)
    {
        uint limit = (uint)((desc & 0xFFFF) | ((desc >> 32) & 0xF0000));
        return (desc & (1UL << 55)) != 0 ? (limit << 12) | 0xFFF : limit;
    }

    /// <summary>Descriptor bits 40..55 at positions 8..23, QEMU's layout for the hidden attributes.</summary>
    internal static uint DescriptorAttributes(ulong desc) => (uint)((desc >> 32) & 0x00F0FF00);
}
