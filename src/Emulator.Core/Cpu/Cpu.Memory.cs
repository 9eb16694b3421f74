using System.Runtime.CompilerServices;

namespace Emulator.Core.Cpu;

/// <summary>
/// Guest memory access by linear address. The fast path is one TLB probe and an unaligned load
/// or store through a host pointer; page-crossing accesses, MMIO, flash in command mode and
/// writes to pages holding decoded code go to the bus.
/// </summary>
public sealed unsafe partial class Cpu
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte Read8(ulong lin)
    {
        ref var e = ref TlbSlot(lin);
        if (e.Tag == lin >> 12 && e.ReadHost != null)
        {
            return e.ReadHost[lin & 0xFFF];
        }

        return (byte)ReadSlow(lin, 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ushort Read16(ulong lin)
    {
        ref var e = ref TlbSlot(lin);
        if (e.Tag == lin >> 12 && e.ReadHost != null && (lin & 0xFFF) <= 0xFFE)
        {
            return Unsafe.ReadUnaligned<ushort>(e.ReadHost + (lin & 0xFFF));
        }

        return (ushort)ReadSlow(lin, 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint Read32(ulong lin)
    {
        ref var e = ref TlbSlot(lin);
        if (e.Tag == lin >> 12 && e.ReadHost != null && (lin & 0xFFF) <= 0xFFC)
        {
            return Unsafe.ReadUnaligned<uint>(e.ReadHost + (lin & 0xFFF));
        }

        return (uint)ReadSlow(lin, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Read64(ulong lin)
    {
        ref var e = ref TlbSlot(lin);
        if (e.Tag == lin >> 12 && e.ReadHost != null && (lin & 0xFFF) <= 0xFF8)
        {
            return Unsafe.ReadUnaligned<ulong>(e.ReadHost + (lin & 0xFFF));
        }

        return ReadSlow(lin, 8);
    }

    /// <summary>
    /// The TLB-hit half of <see cref="ReadSized"/>: false (and nothing read) when the access needs
    /// the slow path. Lets a handler keep its slow path in a separate tail-called method, so the
    /// common case compiles without a stack frame.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryReadFast(ulong lin, int size, out ulong value)
    {
        ref var e = ref TlbSlot(lin);
        if (e.Tag == lin >> 12 && e.ReadHost != null && (lin & 0xFFF) <= (ulong)(0x1000 - size))
        {
            byte* p = e.ReadHost + (lin & 0xFFF);
            value = size switch
            {
                1 => *p,
                2 => Unsafe.ReadUnaligned<ushort>(p),
                4 => Unsafe.ReadUnaligned<uint>(p),
                _ => Unsafe.ReadUnaligned<ulong>(p),
            };
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>The TLB-hit half of <see cref="WriteSized"/>: false (and nothing written) when the access needs the slow path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWriteFast(ulong lin, int size, ulong value)
    {
        ref var e = ref TlbSlot(lin);
        if (e.Tag == lin >> 12 && e.WriteHost != null && (lin & 0xFFF) <= (ulong)(0x1000 - size))
        {
            byte* p = e.WriteHost + (lin & 0xFFF);
            switch (size)
            {
                case 1: *p = (byte)value; break;
                case 2: Unsafe.WriteUnaligned(p, (ushort)value); break;
                case 4: Unsafe.WriteUnaligned(p, (uint)value); break;
                default: Unsafe.WriteUnaligned(p, value); break;
            }

            return true;
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadSized(ulong lin, int size) => size switch
    {
        1 => Read8(lin),
        2 => Read16(lin),
        4 => Read32(lin),
        _ => Read64(lin),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Write8(ulong lin, byte value)
    {
        ref var e = ref TlbSlot(lin);
        if (e.Tag == lin >> 12 && e.WriteHost != null)
        {
            e.WriteHost[lin & 0xFFF] = value;
            return;
        }

        WriteSlow(lin, 1, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Write16(ulong lin, ushort value)
    {
        ref var e = ref TlbSlot(lin);
        if (e.Tag == lin >> 12 && e.WriteHost != null && (lin & 0xFFF) <= 0xFFE)
        {
            Unsafe.WriteUnaligned(e.WriteHost + (lin & 0xFFF), value);
            return;
        }

        WriteSlow(lin, 2, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Write32(ulong lin, uint value)
    {
        ref var e = ref TlbSlot(lin);
        if (e.Tag == lin >> 12 && e.WriteHost != null && (lin & 0xFFF) <= 0xFFC)
        {
            Unsafe.WriteUnaligned(e.WriteHost + (lin & 0xFFF), value);
            return;
        }

        WriteSlow(lin, 4, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Write64(ulong lin, ulong value)
    {
        ref var e = ref TlbSlot(lin);
        if (e.Tag == lin >> 12 && e.WriteHost != null && (lin & 0xFFF) <= 0xFF8)
        {
            Unsafe.WriteUnaligned(e.WriteHost + (lin & 0xFFF), value);
            return;
        }

        WriteSlow(lin, 8, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteSized(ulong lin, int size, ulong value)
    {
        switch (size)
        {
            case 1: Write8(lin, (byte)value); break;
            case 2: Write16(lin, (ushort)value); break;
            case 4: Write32(lin, (uint)value); break;
            default: Write64(lin, value); break;
        }
    }

    /// <summary>Checks that a write to [lin, lin+size) would not fault, before a multi-part update (e.g. far CALL pushes).</summary>
    internal void ProbeWrite(ulong lin, int size)
    {
        Translate(lin, Access.Write);
        if (((lin & 0xFFF) + (ulong)size) > 0x1000)
        {
            Translate(lin + (ulong)size - 1, Access.Write);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong ReadSlow(ulong lin, int size)
    {
        if (((lin & 0xFFF) + (ulong)size) > 0x1000)
        {
            // Crosses a page: translate both halves (either may fault) and assemble bytes.
            int first = (int)(0x1000 - (lin & 0xFFF));
            ulong lo = ReadSlow(lin, first);
            ulong hi = ReadSlow(WrapLinear(lin + (ulong)first), size - first);
            return lo | (hi << (8 * first));
        }

        ref var e = ref Translate(lin, Access.Read);
        ulong phys = (e.PhysPage << 12) | (lin & 0xFFF);
        if (_watchArmed)
        {
            CheckWatchpoints(lin, size, write: false);
        }

        if (e.ReadHost != null)
        {
            byte* p = e.ReadHost + (lin & 0xFFF);
            return size switch
            {
                1 => *p,
                2 => Unsafe.ReadUnaligned<ushort>(p),
                4 => Unsafe.ReadUnaligned<uint>(p),
                8 => Unsafe.ReadUnaligned<ulong>(p),
                _ => ReadHostBytes(p, size),
            };
        }

        if (size == 3 || size == 5 || size == 6 || size == 7)
        {
            ulong v = 0;
            for (int i = 0; i < size; i++)
            {
                v |= _bus.Read(phys + (ulong)i, 1) << (8 * i);
            }

            return v;
        }

        return _bus.Read(phys, size);
    }

    /// <summary>An odd-sized piece of a page-crossing read (3, 5, 6 or 7 bytes), without reading past the page.</summary>
    private static ulong ReadHostBytes(byte* p, int size)
    {
        ulong v = 0;
        for (int i = 0; i < size; i++)
        {
            v |= (ulong)p[i] << (8 * i);
        }

        return v;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WriteSlow(ulong lin, int size, ulong value)
    {
        if (((lin & 0xFFF) + (ulong)size) > 0x1000)
        {
            // Check both pages before writing either, so a fault leaves memory untouched.
            int first = (int)(0x1000 - (lin & 0xFFF));
            ulong second = WrapLinear(lin + (ulong)first);
            Translate(lin, Access.Write);
            Translate(second, Access.Write);
            WriteSlow(lin, first, value);
            WriteSlow(second, size - first, value >> (8 * first));
            return;
        }

        ref var e = ref Translate(lin, Access.Write);
        ulong phys = (e.PhysPage << 12) | (lin & 0xFFF);
        if (_watchArmed)
        {
            CheckWatchpoints(lin, size, write: true);
        }

        if (e.WriteHost != null)
        {
            byte* p = e.WriteHost + (lin & 0xFFF);
            switch (size)
            {
                case 1: *p = (byte)value; break;
                case 2: Unsafe.WriteUnaligned(p, (ushort)value); break;
                case 4: Unsafe.WriteUnaligned(p, (uint)value); break;
                case 8: Unsafe.WriteUnaligned(p, value); break;
                default:
                    // The first part of a page-crossing access (3, 5, 6 or 7 bytes): never touch the next page.
                    for (int i = 0; i < size; i++)
                    {
                        p[i] = (byte)(value >> (8 * i));
                    }

                    break;
            }

            return;
        }

        if (size is 1 or 2 or 4 or 8)
        {
            _bus.Write(phys, size, value);
        }
        else
        {
            for (int i = 0; i < size; i++)
            {
                _bus.Write(phys + (ulong)i, 1, (value >> (8 * i)) & 0xFF);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong WrapLinear(ulong lin) => _bitness == 64 ? lin : (uint)lin;

    /// <summary>Linear address of segment:offset (segment bases are pre-zeroed for flat 64-bit segments).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Linear(int seg, ulong offset) => Linear(seg, offset, _bitness);

    /// <summary>
    /// Linear address of segment:offset in a mode (16, 32, 64) the caller passes, which the block
    /// compiler's twins know as a constant. In 64-bit mode ES, CS, SS and DS have base 0 (the CPU
    /// keeps <c>_segBase</c> so), so only FS and GS add one and nothing truncates; elsewhere the
    /// base is added and the sum wraps at 4 GiB.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Linear(int seg, ulong offset, int bitness)
    {
        if (bitness == 64 && (uint)seg < Seg.Fs)
        {
            return offset;
        }

        ulong lin = Unsafe.Add(ref Unsafe.As<SegmentBases, ulong>(ref _segBase), (nint)(uint)seg) + offset;
        return bitness == 64 ? lin : (uint)lin;
    }

    /// <summary>Reads guest memory by linear address for tools (no faults: unmapped bytes read as 0xFF).</summary>
    public byte[] ReadLinearForDebugger(ulong linear, int count)
    {
        var result = new byte[count];
        for (int i = 0; i < count; i++)
        {
            ulong phys = TranslateForDebugger(linear + (ulong)i, out bool ok);
            result[i] = ok ? (byte)_bus.Read(phys, 1) : (byte)0xFF;
        }

        return result;
    }
}
