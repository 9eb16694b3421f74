namespace Emulator.Core.Cpu;

/// <summary>RFLAGS bits (Intel SDM Vol. 1, 3.4.3).</summary>
public static class RFlags
{
    public const ulong CF = 1UL << 0;
    public const ulong Reserved1 = 1UL << 1;
    public const ulong PF = 1UL << 2;
    public const ulong AF = 1UL << 4;
    public const ulong ZF = 1UL << 6;
    public const ulong SF = 1UL << 7;
    public const ulong TF = 1UL << 8;
    public const ulong IF = 1UL << 9;
    public const ulong DF = 1UL << 10;
    public const ulong OF = 1UL << 11;
    public const ulong IOPL = 3UL << 12;
    public const ulong NT = 1UL << 14;
    public const ulong RF = 1UL << 16;
    public const ulong VM = 1UL << 17;
    public const ulong AC = 1UL << 18;
    public const ulong VIF = 1UL << 19;
    public const ulong VIP = 1UL << 20;
    public const ulong ID = 1UL << 21;

    /// <summary>The six arithmetic status flags, the ones kept lazily.</summary>
    public const ulong Arith = CF | PF | AF | ZF | SF | OF;

    /// <summary>Bits software can change with POPF at CPL 0 in 64-bit/protected mode.</summary>
    public const ulong Writable = Arith | TF | IF | DF | IOPL | NT | RF | AC | ID;
}

/// <summary>Control register bits used by the core (Intel SDM Vol. 3, 2.5).</summary>
public static class CrBits
{
    public const ulong PE = 1UL << 0;
    public const ulong MP = 1UL << 1;
    public const ulong EM = 1UL << 2;
    public const ulong TS = 1UL << 3;
    public const ulong ET = 1UL << 4;
    public const ulong NE = 1UL << 5;
    public const ulong WP = 1UL << 16;
    public const ulong AM = 1UL << 18;
    public const ulong NW = 1UL << 29;
    public const ulong CD = 1UL << 30;
    public const ulong PG = 1UL << 31;

    public const ulong Cr4Pse = 1UL << 4;
    public const ulong Cr4Pae = 1UL << 5;
    public const ulong Cr4Pge = 1UL << 7;
    public const ulong Cr4OsFxsr = 1UL << 9;
    public const ulong Cr4OsXmmExcpt = 1UL << 10;
    public const ulong Cr4La57 = 1UL << 12;

    public const ulong EferSce = 1UL << 0;
    public const ulong EferLme = 1UL << 8;
    public const ulong EferLma = 1UL << 10;
    public const ulong EferNxe = 1UL << 11;
    public const ulong EferSvme = 1UL << 12;
}

/// <summary>Exception vectors (Intel SDM Vol. 3, Table 6-1).</summary>
public static class Vector
{
    public const int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8;
    public const int TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19;

    /// <summary>The SDM's mnemonic of an exception vector ("#GP"), or null for 9, 15, 20 and up (reserved, or not modelled).</summary>
    public static string? Mnemonic(int vector) => vector switch
    {
        DE => "#DE", DB => "#DB", NMI => "NMI", BP => "#BP", OF => "#OF", BR => "#BR", UD => "#UD", NM => "#NM", DF => "#DF",
        TS => "#TS", NP => "#NP", SS => "#SS", GP => "#GP", PF => "#PF", MF => "#MF", AC => "#AC", MC => "#MC", XM => "#XM",
        _ => null,
    };
}

/// <summary>A guest exception (a fault, trap or INT n; not an external interrupt or NMI): its vector, the linear RIP it was raised at (the faulting instruction for a fault, the next one for a trap or INT n), and that instruction index.</summary>
public readonly record struct GuestException(int Vector, ulong Address, long Instruction);
