namespace Emulator.Core.Cpu;

/// <summary>
/// Segment register loads (Intel SDM Vol. 3, 3.4 and 5.x): real-mode selector·16 bases, and
/// protected/long-mode descriptor loads from the GDT or LDT into the hidden cache, with the
/// checks firmware can trip (null selector, limit, presence). Privilege checks beyond CPL 0
/// follow the SDM's rules for data and stack segments; call gates and task switches are not
/// emulated (OVMF never uses them) and raise #GP.
/// </summary>
public sealed partial class Cpu
{
    private bool ProtectedMode => (_cr0 & CrBits.PE) != 0 && (_flags & RFlags.VM) == 0;

    /// <summary>Loads a segment register the way MOV Sreg / POP Sreg / LDS do in the current mode.</summary>
    internal void LoadSegment(int seg, ushort selector)
    {
        if (!ProtectedMode)
        {
            _seg[seg] = _seg[seg] with { Selector = selector, Base = (ulong)selector << 4 };
            if ((_cr0 & CrBits.PE) != 0)
            {
                // Virtual-8086 mode: limits and attributes are fixed (SDM 20.1.1).
                _seg[seg].Limit = 0xFFFF;
                _seg[seg].Attributes = seg == Seg.Cs ? 0xFB00u : 0xF300u;
            }

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
        bool present = (attr & 0x8000) != 0;
        bool system = (attr & 0x1000) == 0;
        if (system)
        {
            throw new GuestFault(Vector.GP, selector & 0xFFFCu);
        }

        if (!present)
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
            // Not a code segment (call gates and TSS targets are not emulated).
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
        if (newCpl != _cpl)
        {
            _cpl = newCpl;
            FlushTlb();
        }

        UpdateMode();
    }

    /// <summary>Reads the 8-byte descriptor for <paramref name="selector"/> from the GDT or LDT (#GP if beyond the limit).</summary>
    internal ulong ReadDescriptor(ushort selector)
    {
        bool ldt = (selector & 4) != 0;
        ulong tableBase = ldt ? _ldtr.Base : _gdtr.Base;
        uint limit = ldt ? _ldtr.Limit : _gdtr.Limit;
        uint index = (uint)(selector & 0xFFF8);
        if (index + 7 > limit)
        {
            throw new GuestFault(Vector.GP, selector & 0xFFFCu);
        }

        return Read64(WrapLinear(tableBase + index));
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
