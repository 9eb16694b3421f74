using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>Number of Iced <see cref="Code"/> values (Iced keeps its own constant internal).</summary>
internal static class CodeCount
{
    public static readonly int Value = Enum.GetValues<Code>().Length;
}
