using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// String instructions MOVS, STOS, LODS, CMPS, SCAS in every element size (Intel SDM Vol. 2,
/// and Vol. 1, 7.3.9): source DS:(E/R)SI with segment override, destination always ES:(E/R)DI,
/// the address size choosing SI/ESI/RSI and CX/ECX/RCX, and DF choosing the direction. This file
/// holds the registration and shared helpers; the handlers, one loop each for the REP and the
/// single-element form, are in <c>Strings.Rep.cs</c>. INS/OUTS live with the port instructions
/// in <c>Io.cs</c>.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterStrings(HandlerRegistry r)
    {
        r.Add(Mnemonic.Movsb, &Movs);
        r.Add(Mnemonic.Movsw, &Movs);
        r.Add(Code.Movsd_m32_m32, &Movs);
        r.Add(Mnemonic.Movsq, &Movs);
        r.Add(Mnemonic.Stosb, &Stos);
        r.Add(Mnemonic.Stosw, &Stos);
        r.Add(Mnemonic.Stosd, &Stos);
        r.Add(Mnemonic.Stosq, &Stos);
        r.Add(Mnemonic.Lodsb, &Lods);
        r.Add(Mnemonic.Lodsw, &Lods);
        r.Add(Mnemonic.Lodsd, &Lods);
        r.Add(Mnemonic.Lodsq, &Lods);
        r.Add(Mnemonic.Cmpsb, &Cmps);
        r.Add(Mnemonic.Cmpsw, &Cmps);
        r.Add(Code.Cmpsd_m32_m32, &Cmps);
        r.Add(Mnemonic.Cmpsq, &Cmps);
        r.Add(Mnemonic.Scasb, &Scas);
        r.Add(Mnemonic.Scasw, &Scas);
        r.Add(Mnemonic.Scasd, &Scas);
        r.Add(Mnemonic.Scasq, &Scas);
    }

    /// <summary>+size or -size as an unsigned step, by DF (never lazy: it is not an arithmetic flag).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong StringStep(Cpu cpu, int size) => (cpu._flags & RFlags.DF) != 0 ? (ulong)(-size) : (ulong)size;
}
