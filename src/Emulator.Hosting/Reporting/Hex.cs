namespace Emulator.Hosting.Reporting;

/// <summary>Addresses in reports are strings "0x…", so JSON readers never lose 64-bit precision.</summary>
public static class Hex
{
    /// <summary><paramref name="value"/> as the report writes addresses: <c>0x</c> and upper-case hex digits.</summary>
    public static string Format(ulong value) => "0x" + value.ToString("X");
}
