using System.Numerics;
using System.Runtime.CompilerServices;

namespace Emulator.Core.Cpu;

/// <summary>What produced the current arithmetic flags.</summary>
internal enum LazyOp : byte
{
    /// <summary>The flags are materialised in <c>_flags</c>.</summary>
    None,
    Add,
    Adc,
    Sub,
    Sbb,
    Inc,
    Dec,

    /// <summary>ZF/SF/PF from the result; CF, OF, AF stored explicitly in <c>_lazyAux</c> (logic, shifts, multiply).</summary>
    Result,
}

/// <summary>
/// Lazy arithmetic flags: ALU handlers record the operation, width, operands and result, and the
/// six status flags are computed only when something reads them (Jcc, SETcc, PUSHF, ADC ...).
/// Bochs reports about +10 % from this; most flag results in a firmware boot are never read.
/// </summary>
public sealed partial class Cpu
{
    internal LazyOp _lazy;
    internal ulong _lazyDst;
    internal ulong _lazySrc;
    internal ulong _lazyRes;

    /// <summary>Operand size in bytes for the lazy state.</summary>
    internal int _lazySize;

    /// <summary>For <see cref="LazyOp.Result"/>: explicit CF/OF/AF; for Inc/Dec: the preserved CF; for Adc/Sbb: carry in.</summary>
    internal ulong _lazyAux;

    public ulong RFlagsValue
    {
        get => GetFlags();
        set => SetFlags(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetLazy(LazyOp op, int size, ulong dst, ulong src, ulong res)
    {
        _lazy = op;
        _lazySize = size;
        _lazyDst = dst;
        _lazySrc = src;
        _lazyRes = res;
    }

    /// <summary>Flags from a logic operation: CF = OF = 0, AF undefined (0, as QEMU), ZF/SF/PF from the result.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetLogicFlags(int size, ulong res)
    {
        _lazy = LazyOp.Result;
        _lazySize = size;
        _lazyRes = res;
        _lazyAux = 0;
    }

    /// <summary>Flags with explicit CF/OF/AF bits and ZF/SF/PF from <paramref name="res"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetResultFlags(int size, ulong res, ulong cfOfAf)
    {
        _lazy = LazyOp.Result;
        _lazySize = size;
        _lazyRes = res;
        _lazyAux = cfOfAf;
    }

    /// <summary>INC/DEC leave CF alone: capture it before switching the lazy state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetIncDec(bool inc, int size, ulong dst, ulong res)
    {
        // A counting loop's INC/DEC follows another INC/DEC or a CMP: answer those without GetCF's switch.
        ulong cf = _lazy is LazyOp.Inc or LazyOp.Dec ? _lazyAux
            : _lazy == LazyOp.Sub ? ((_lazyDst & Mask(_lazySize)) < (_lazySrc & Mask(_lazySize)) ? 1UL : 0UL)
            : GetCF() ? 1UL : 0UL;
        _lazy = inc ? LazyOp.Inc : LazyOp.Dec;
        _lazySize = size;
        _lazyDst = dst;
        _lazySrc = 1;
        _lazyRes = res;
        _lazyAux = cf;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mask(int size) => size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong SignBit(int size) => 1UL << (size * 8 - 1);

    internal bool GetCF()
    {
        ulong m = Mask(_lazySize);
        return _lazy switch
        {
            LazyOp.None => (_flags & RFlags.CF) != 0,
            LazyOp.Add => (_lazyRes & m) < (_lazyDst & m),
            LazyOp.Adc => _lazyAux != 0 ? (_lazyRes & m) <= (_lazyDst & m) : (_lazyRes & m) < (_lazyDst & m),
            LazyOp.Sub => (_lazyDst & m) < (_lazySrc & m),
            LazyOp.Sbb => _lazyAux != 0 ? (_lazyDst & m) <= (_lazySrc & m) : (_lazyDst & m) < (_lazySrc & m),
            LazyOp.Inc or LazyOp.Dec => _lazyAux != 0,
            _ => (_lazyAux & RFlags.CF) != 0,
        };
    }

    internal bool GetZF() => _lazy == LazyOp.None ? (_flags & RFlags.ZF) != 0 : (_lazyRes & Mask(_lazySize)) == 0;

    internal bool GetSF() => _lazy == LazyOp.None ? (_flags & RFlags.SF) != 0 : (_lazyRes & SignBit(_lazySize)) != 0;

    internal bool GetPF() => _lazy == LazyOp.None
        ? (_flags & RFlags.PF) != 0
        : (BitOperations.PopCount(_lazyRes & 0xFF) & 1) == 0;

    internal bool GetOF()
    {
        ulong s = SignBit(_lazySize);
        return _lazy switch
        {
            LazyOp.None => (_flags & RFlags.OF) != 0,
            LazyOp.Add or LazyOp.Adc or LazyOp.Inc => (((_lazyDst ^ _lazyRes) & (_lazySrc ^ _lazyRes)) & s) != 0,
            LazyOp.Sub or LazyOp.Sbb or LazyOp.Dec => (((_lazyDst ^ _lazySrc) & (_lazyDst ^ _lazyRes)) & s) != 0,
            _ => (_lazyAux & RFlags.OF) != 0,
        };
    }

    internal bool GetAF() => _lazy switch
    {
        LazyOp.None => (_flags & RFlags.AF) != 0,
        LazyOp.Result => (_lazyAux & RFlags.AF) != 0,
        _ => ((_lazyDst ^ _lazySrc ^ _lazyRes) & 0x10) != 0,
    };

    /// <summary>The full RFLAGS value, arithmetic bits computed from the lazy state.</summary>
    internal ulong GetFlags()
    {
        if (_lazy == LazyOp.None)
        {
            return _flags;
        }

        ulong f = _flags & ~RFlags.Arith;
        if (GetCF())
        {
            f |= RFlags.CF;
        }

        if (GetPF())
        {
            f |= RFlags.PF;
        }

        if (GetAF())
        {
            f |= RFlags.AF;
        }

        if (GetZF())
        {
            f |= RFlags.ZF;
        }

        if (GetSF())
        {
            f |= RFlags.SF;
        }

        if (GetOF())
        {
            f |= RFlags.OF;
        }

        return f;
    }

    /// <summary>Replaces RFLAGS wholesale (POPF, IRET, task state); bit 1 always reads 1.</summary>
    internal void SetFlags(ulong value)
    {
        // Bits 0-21 exist; 1 reads as 1; 3, 5 and 15 read as 0 (SDM Vol. 1, Figure 3-8).
        _flags = (value & 0x3F_7FD5UL) | RFlags.Reserved1;
        _lazy = LazyOp.None;
    }

    /// <summary>Materialises the lazy flags so single bits can be edited (CLC, STC, CMC, SAHF ...).</summary>
    internal void MaterializeFlags()
    {
        if (_lazy != LazyOp.None)
        {
            _flags = GetFlags();
            _lazy = LazyOp.None;
        }
    }

    internal void SetFlag(ulong bit, bool value)
    {
        MaterializeFlags();
        _flags = value ? _flags | bit : _flags & ~bit;
    }

    /// <summary>Evaluates condition code <paramref name="cc"/> (Intel SDM Vol. 1, Table B-1 order: O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Condition(int cc)
    {
        if ((cc >> 1) == 2 && _lazy != LazyOp.None)
        {
            // JE/JNE after any lazily kept operation: ZF is the masked result being zero.
            return ((_lazyRes & Mask(_lazySize)) == 0) == ((cc & 1) == 0);
        }

        if (_lazy == LazyOp.Sub)
        {
            // CMP/SUB: answer from the operands directly, the common case in loops.
            ulong m = Mask(_lazySize);
            ulong d = _lazyDst & m, s = _lazySrc & m;
            int shift = 64 - _lazySize * 8;
            long sd = (long)(d << shift), ss = (long)(s << shift);
            switch (cc)
            {
                case 2: return d < s;
                case 3: return d >= s;
                case 4: return d == s;
                case 5: return d != s;
                case 6: return d <= s;
                case 7: return d > s;
                case 12: return sd < ss;
                case 13: return sd >= ss;
                case 14: return sd <= ss;
                case 15: return sd > ss;
            }
        }

        return ConditionSlow(cc);
    }

    /// <summary>The general case of <see cref="Condition"/>: each flag computed from the lazy state.</summary>
    private bool ConditionSlow(int cc)
    {
        bool r = (cc >> 1) switch
        {
            0 => GetOF(),
            1 => GetCF(),
            2 => GetZF(),
            3 => GetCF() || GetZF(),
            4 => GetSF(),
            5 => GetPF(),
            6 => GetSF() != GetOF(),
            _ => GetZF() || GetSF() != GetOF(),
        };
        return (cc & 1) == 0 ? r : !r;
    }
}
