using Emulator.Core.Cpu;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// Runs a case's image on emu's CPU: RAM below <see cref="FuzzLayout.RamSize"/>, the image as ROM
/// at <see cref="FuzzLayout.RomBase"/>, from the reset state to the sequence's start, then:
/// <list type="bullet">
/// <item><see cref="RunStepped"/>: one instruction per <c>Run</c> call with a tracer attached
/// (one-instruction blocks, interpreted), the state after each, as QEMU's single steps give it;</item>
/// <item><see cref="RunCompiled"/>: the sequence from the same start state three times on one CPU
/// with <c>CompileThreshold</c> 1 and synchronous compilation: the first run decodes the blocks
/// and compiles each after its first execution, the second runs them compiled; both final
/// states are returned (interpreted whole blocks, compiled blocks).</item>
/// </list>
/// An exception enters its handler, a HLT, which the same <c>Run</c> call executes: a halted CPU
/// one byte past a handler is reported at the handler, where QEMU's step stops (and one past the
/// final HLT at the HLT, where the QEMU run stops).
/// </summary>
internal sealed unsafe class EmuRunner : IDisposable
{
    private readonly PhysicalBus _bus = new();
    private readonly Cpu _cpu;
    private readonly EncodedSequence _sequence;

    public EmuRunner(byte[] rom, EncodedSequence sequence)
    {
        _sequence = sequence;
        _bus.MapRam("ram", 0, FuzzLayout.RamSize, _bus.Allocate(FuzzLayout.RamSize));
        _bus.MapRom("bios", FuzzLayout.RomBase, rom);
        _cpu = new Cpu(_bus, new PortBus(_bus.Unassigned)) { BlockCompilation = false };
    }

    public List<CpuState> RunStepped(int maxSteps)
    {
        _cpu.Tracer = new StepTracer();
        RunToSequence();
        var states = new List<CpuState> { ReadState() };
        while (states.Count <= maxSteps && states[^1].Rip != _sequence.HltAddress && states[^1].Vector < 0)
        {
            _cpu.Run(_cpu.InstructionCount + 1);
            states.Add(ReadState());
        }

        _cpu.Tracer = null;
        return states;
    }

    /// <summary>The final states of the sequence run in whole blocks: interpreted, then compiled.</summary>
    public (CpuState Interpreted, CpuState Compiled, long BlocksCompiled) RunCompiled(long maxInstructions)
    {
        RunToSequence();
        var start = SaveStart();
        _cpu.BlockCompilation = true;
        _cpu.CompileThreshold = 1;
        _cpu.CompileSynchronously = true;
        _cpu.Run(_cpu.InstructionCount + maxInstructions);
        var interpreted = ReadState();
        RestoreStart(start);
        _cpu.Run(_cpu.InstructionCount + maxInstructions);
        return (interpreted, ReadState(), _cpu.BlocksCompiled);
    }

    private void RunToSequence()
    {
        bool traced = _cpu.Tracer != null;
        _cpu.Tracer ??= new StepTracer();
        for (int i = 0; i < 100_000 && _cpu.LinearRip != FuzzLayout.SequenceStart; i++)
        {
            _cpu.Run(_cpu.InstructionCount + 1);
        }

        if (_cpu.LinearRip != FuzzLayout.SequenceStart)
        {
            throw new InvalidOperationException($"emu did not reach the sequence (RIP {_cpu.LinearRip:x}, last exception {_cpu.LastException})");
        }

        if (!traced)
        {
            _cpu.Tracer = null;
        }
    }

    private (ulong[] Gprs, ulong Rip, ulong Flags, byte[] Memory) SaveStart() =>
        (Enumerable.Range(0, 16).Select(_cpu.GetGpr).ToArray(), _cpu._rip, _cpu.RFlagsValue, ReadPages());

    private void RestoreStart((ulong[] Gprs, ulong Rip, ulong Flags, byte[] Memory) start)
    {
        for (int i = 0; i < 16; i++)
        {
            _cpu.SetGpr(i, start.Gprs[i]);
        }

        _cpu._rip = start.Rip;
        _cpu.RFlagsValue = start.Flags;
        _cpu._halted = false;
        _bus.WriteBlock(FuzzLayout.ScratchPage, start.Memory.AsSpan(0, FuzzLayout.PageSize));
        _bus.WriteBlock(FuzzLayout.StackPage, start.Memory.AsSpan(FuzzLayout.PageSize));
    }

    private byte[] ReadPages()
    {
        var bytes = new byte[2 * FuzzLayout.PageSize];
        _bus.ReadBlock(FuzzLayout.ScratchPage, bytes.AsSpan(0, FuzzLayout.PageSize));
        _bus.ReadBlock(FuzzLayout.StackPage, bytes.AsSpan(FuzzLayout.PageSize));
        return bytes;
    }

    private CpuState ReadState()
    {
        ulong rip = _cpu.LinearRip;
        if (_cpu.Halted && (rip - 1 - FuzzLayout.HandlerBase < FuzzLayout.Vectors || rip - 1 == _sequence.HltAddress))
        {
            rip--;
        }

        ulong handlerOffset = rip - FuzzLayout.HandlerBase;
        int vector = handlerOffset < FuzzLayout.Vectors ? (int)handlerOffset : -1;
        var gprs = Enumerable.Range(0, 16).Select(_cpu.GetGpr).ToArray();
        var selectors = Enumerable.Range(0, 6).Select(s => _cpu.GetSegment(s).Selector).ToArray();
        return new CpuState(gprs, rip, _cpu.RFlagsValue, selectors, vector, ReadPages());
    }

    public void Dispose()
    {
        _cpu.StopCompiler();
        _bus.Dispose();
    }

    /// <summary>Attached only to make the CPU build one-instruction blocks (<see cref="Cpu.Tracer"/>).</summary>
    private sealed class StepTracer : ITraceSink
    {
        public bool BeforeInstruction(Cpu cpu) => true;
    }
}
