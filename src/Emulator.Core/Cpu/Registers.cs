using System.Runtime.CompilerServices;

namespace Emulator.Core.Cpu;

/// <summary>
/// The 16 general-purpose registers, inline in the CPU object (no array bounds checks), and a
/// 17th slot that is always zero: a memory operand without a base or index register names it,
/// so effective addresses are computed without branches.
/// </summary>
[InlineArray(17)]
public struct GprFile
{
    private ulong _element;
}

/// <summary>Indices into <see cref="GprFile"/>, in encoding order (Intel SDM Vol. 2, Table 2-2).</summary>
public static class Gpr
{
    public const int Rax = 0, Rcx = 1, Rdx = 2, Rbx = 3, Rsp = 4, Rbp = 5, Rsi = 6, Rdi = 7;
    public const int R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;

    /// <summary>AH, CH, DH, BH are encoded as 16..19: bits 15:8 of registers 0..3.</summary>
    public const int HighByteBase = 16;
}

/// <summary>Segment register indices, in encoding order (ES, CS, SS, DS, FS, GS).</summary>
public static class Seg
{
    public const int Es = 0, Cs = 1, Ss = 2, Ds = 3, Fs = 4, Gs = 5;

    /// <summary>Marks "no segment" in decoded operands (LEA, 64-bit flat access).</summary>
    public const int None = 6;
}

/// <summary>
/// A segment register: the visible selector plus the hidden descriptor cache (Intel SDM Vol. 3,
/// 3.4.3). <see cref="Attributes"/> holds descriptor bits 40..55 shifted down by 8, the way QEMU
/// keeps them (type, S, DPL, P in 8..15; AVL, L, D/B, G in 20..23), so traces compare directly.
/// </summary>
public struct SegmentRegister
{
    public ushort Selector;
    public ulong Base;
    public uint Limit;
    public uint Attributes;

    public readonly bool Present => (Attributes & (1u << 15)) != 0;

    public readonly bool Long => (Attributes & (1u << 21)) != 0;

    public readonly bool Big => (Attributes & (1u << 22)) != 0;

    public readonly int Dpl => (int)((Attributes >> 13) & 3);
}

[InlineArray(6)]
public struct SegmentFile
{
    private SegmentRegister _element;
}

/// <summary>Effective segment bases (0 for ES/CS/SS/DS in 64-bit mode), one more slot for "none".</summary>
[InlineArray(7)]
public struct SegmentBases
{
    private ulong _element;
}

/// <summary>A descriptor-table register (GDTR, IDTR) or, with a selector, LDTR/TR.</summary>
public struct TableRegister
{
    public ulong Base;
    public uint Limit;
}
