namespace Emulator.Core.Cpu.Float;

/// <summary>
/// An x87 double extended-precision value exactly as the FPU register file and an m80 operand
/// hold it (Intel SDM Vol. 1, 4.2.2 and 8.2): a 64-bit significand with an explicit integer bit
/// (bit 63) and the sign with the 15-bit biased exponent. MMX registers alias the significands
/// (SDM Vol. 1, 9.5). Plain fields, so snapshots serialize it as it is.
/// </summary>
public struct Float80 : IEquatable<Float80>
{
    public ulong Significand;

    /// <summary>Bit 15: sign; bits 14:0: the exponent biased by 16383.</summary>
    public ushort SignExponent;

    public Float80(ulong significand, ushort signExponent)
    {
        Significand = significand;
        SignExponent = signExponent;
    }

    public readonly bool IsNegative => (SignExponent & 0x8000) != 0;

    public readonly int BiasedExponent => SignExponent & 0x7FFF;

    public readonly bool Equals(Float80 other) => Significand == other.Significand && SignExponent == other.SignExponent;

    public override readonly bool Equals(object? obj) => obj is Float80 other && Equals(other);

    public override readonly int GetHashCode() => HashCode.Combine(Significand, SignExponent);

    public static bool operator ==(Float80 a, Float80 b) => a.Equals(b);

    public static bool operator !=(Float80 a, Float80 b) => !a.Equals(b);

    public override readonly string ToString() => $"{SignExponent:x4}:{Significand:x16}";
}
