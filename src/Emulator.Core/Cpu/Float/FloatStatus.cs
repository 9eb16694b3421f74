namespace Emulator.Core.Cpu.Float;

/// <summary>
/// Rounding control as x86 encodes it, in FCW bits 11:10 and MXCSR bits 14:13
/// (Intel SDM Vol. 1, 4.8.4, Table 4-8).
/// </summary>
public enum FloatRounding : byte
{
    NearestEven = 0,
    Down = 1,
    Up = 2,
    TowardZero = 3,
}

/// <summary>
/// Floating-point exception flags at the bit positions x86 uses for them in both the x87 status
/// word and MXCSR (SDM Vol. 1, 8.1.3.1 and 10.2.3), so a result's flags OR straight into either.
/// </summary>
[Flags]
public enum FloatExceptions : byte
{
    None = 0,
    Invalid = 0x01,
    Denormal = 0x02,
    DivideByZero = 0x04,
    Overflow = 0x08,
    Underflow = 0x10,
    Inexact = 0x20,
}
