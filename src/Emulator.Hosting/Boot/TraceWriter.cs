using System.Text;
using Emulator.Core.Cpu;
using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Boot;

/// <summary>
/// Writes the instruction trace: one line per executed instruction with the state before it
/// (line 0 is the reset state), in the text format ../shared/tools/qemu-trace reads, so a run
/// compares line by line with QEMU single-stepping the same firmware. `insn` and `mode` are
/// decimal, every other field hex without a prefix.
/// </summary>
internal sealed class TraceWriter : ITraceSink, IDisposable
{
    public const string Fields = "insn mode cs rip lin rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rflags cr0 cr3 cr4 efer";

    private readonly TextWriter _writer;
    private readonly long _limit;
    private readonly StringBuilder _line = new(320);

    public TraceWriter(TextWriter writer, long limit, string source)
    {
        _writer = writer;
        _limit = limit;
        _writer.Write("# format: qemu-trace v1\n");
        _writer.Write($"# source: {source}\n");
        _writer.Write($"# fields: {Fields}\n");
    }

    public long Written { get; private set; }

    public bool BeforeInstruction(Cpu cpu)
    {
        if (Written >= _limit)
        {
            return false;
        }

        _line.Clear();
        _line.Append(cpu.InstructionCount).Append(' ').Append(cpu.Bitness).Append(' ');
        Hex(cpu.GetSegment(Seg.Cs).Selector);
        Hex(cpu.Rip);
        Hex(cpu.LinearRip);
        for (int r = 0; r < 16; r++)
        {
            Hex(TraceOrder(cpu, r));
        }

        Hex(cpu.RFlagsValue);
        Hex(cpu.Cr0);
        Hex(cpu.Cr3);
        Hex(cpu.Cr4);
        _line.Append(cpu.Efer.ToString("x"));
        _line.Append('\n');
        _writer.Write(_line);
        Written++;
        return Written < _limit;
    }

    /// <summary>rax rbx rcx rdx rsi rdi rbp rsp, then r8..r15 (the trace's order, not the encoding's).</summary>
    private static ulong TraceOrder(Cpu cpu, int i) => i switch
    {
        0 => cpu.GetGpr(Gpr.Rax),
        1 => cpu.GetGpr(Gpr.Rbx),
        2 => cpu.GetGpr(Gpr.Rcx),
        3 => cpu.GetGpr(Gpr.Rdx),
        4 => cpu.GetGpr(Gpr.Rsi),
        5 => cpu.GetGpr(Gpr.Rdi),
        6 => cpu.GetGpr(Gpr.Rbp),
        7 => cpu.GetGpr(Gpr.Rsp),
        _ => cpu.GetGpr(i),
    };

    private void Hex(ulong v) => _line.Append(v.ToString("x")).Append(' ');

    public void Dispose() => _writer.Dispose();
}
