namespace Emulator.Core.Cpu;

/// <summary>The decoded blocks that start in one 4 KiB physical page, by offset.</summary>
internal sealed class CodePage
{
    public readonly Block?[] Blocks = new Block?[4096];
}
