using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Feeds Iced's decoder from guest memory at a linear address, translating with execute
/// permission (so a fetch from a non-executable or absent page faults like the CPU would).
/// </summary>
internal sealed class LinearCodeReader : CodeReader
{
    private readonly Cpu _cpu;

    public LinearCodeReader(Cpu cpu)
    {
        _cpu = cpu;
    }

    public ulong Position { get; set; }

    /// <summary>Physical page of the last byte read, to notice instructions that straddle pages.</summary>
    public ulong LastPhysPage { get; private set; }

    public override int ReadByte()
    {
        ulong lin = _cpu.WrapLinear(Position);
        Position++;
        byte b = _cpu.FetchCodeByte(lin, out ulong physPage);
        LastPhysPage = physPage;
        return b;
    }
}
