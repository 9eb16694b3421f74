using Emulator.Core.Cpu;
using Emulator.Core.Cpu.Float;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// Runs a case's image on emu's CPU: RAM below <see cref="FuzzLayout.RamSize"/>, the image as ROM
/// at <see cref="FuzzLayout.RomBase"/>, from the reset state to the sequence's start, then:
/// <list type="bullet">
/// <item><see cref="RunStepped"/>: one instruction per <c>Run</c> call with a tracer attached
/// (one-instruction blocks, interpreted), the state after each, as QEMU's single steps give it;</item>
/// <item><see cref="RunCompiled"/>: the sequence in whole blocks, interpreted, then from the same
/// start state with every block compiled before it runs; both final states.</item>
/// </list>
/// An exception enters its handler, a HLT, which the same <c>Run</c> call executes: a halted CPU
/// one byte past a handler is reported at the handler, where QEMU's step stops (and one past the
/// final HLT at the HLT, where the QEMU run stops).
/// </summary>
internal sealed unsafe class EmuRunner : IDisposable
{
    private readonly PhysicalBus _bus = new();
    private readonly Cpu _cpu;
    private readonly int _compileThreshold;

    /// <summary>The RAM's and the ROM's host memory, written directly between cases (the bus's block access goes byte by byte).</summary>
    private readonly byte* _ram, _rom, _lowRom;

    private EncodedSequence _sequence = null!;

    /// <summary>
    /// One machine for many cases (<see cref="Load"/> puts each on it from reset): building a
    /// bus and a CPU per run cost more than running the case.
    /// </summary>
    public EmuRunner()
    {
        _ram = _bus.Allocate(FuzzLayout.RamSize);
        _bus.MapRam("ram", 0, FuzzLayout.RamSize, _ram);
        _rom = _bus.MapRom("bios", FuzzLayout.RomBase, new byte[FuzzLayout.RomSize]).Host;
        _lowRom = _bus.MapRom("isa-bios", FuzzLayout.LowAlias, new byte[FuzzLayout.RomSize]).Host;
        _cpu = new Cpu(_bus, new PortBus(_bus.Unassigned)) { BlockCompilation = false };
        _compileThreshold = _cpu.CompileThreshold;
    }

    public EmuRunner(byte[] rom, EncodedSequence sequence)
        : this() => Load(rom, sequence);

    /// <summary>
    /// A case's image on the machine, as a power-on would leave it: the ROM's bytes, RAM
    /// zeroed, the CPU reset, no decoded or compiled code, interpreted blocks.
    /// </summary>
    public void Load(byte[] rom, EncodedSequence sequence)
    {
        if (rom.Length != FuzzLayout.RomSize)
        {
            throw new ArgumentException($"a case's image is {FuzzLayout.RomSize} bytes, not {rom.Length}", nameof(rom));
        }

        _sequence = sequence;
        rom.CopyTo(new Span<byte>(_rom, rom.Length));
        rom.CopyTo(new Span<byte>(_lowRom, rom.Length));
        new Span<byte>(_ram, (int)FuzzLayout.RamSize).Clear();
        _cpu.Tracer = null;
        _cpu.BlockCompilation = false;
        _cpu.CompileThreshold = _compileThreshold;
        _cpu.Reset();
        _cpu.FlushCodeCache();
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

    /// <summary>
    /// The sequence in whole blocks, one <c>Run</c> call per block, with the state after each
    /// and the instructions retired by then: interpreted, then from the same start state
    /// compiled, each block compiled just before it runs (so a block that faults is compiled
    /// too); and whether the compiler took every block.
    /// </summary>
    public (List<(long Retired, CpuState State)> Interpreted, List<(long Retired, CpuState State)> Compiled, bool AllBlocksCompiled) RunCompiled(int maxBlocks)
    {
        RunToSequence();
        var start = SaveStart();
        bool allCompiled = true;
        var interpreted = RunBlockByBlock(maxBlocks, compile: false, ref allCompiled);
        RestoreStart(start);
        _cpu.BlockCompilation = true;
        _cpu.CompileThreshold = int.MaxValue;
        var compiled = RunBlockByBlock(maxBlocks, compile: true, ref allCompiled);
        return (interpreted, compiled, allCompiled);
    }

    private List<(long Retired, CpuState State)> RunBlockByBlock(int maxBlocks, bool compile, ref bool allCompiled)
    {
        long first = _cpu.InstructionCount;
        var states = new List<(long, CpuState)>();
        for (int blocks = 0; blocks < maxBlocks && !_cpu.Halted; blocks++)
        {
            if (compile)
            {
                allCompiled &= _cpu.CompileBlockAtRip();
            }

            _cpu.Run(_cpu.InstructionCount + _cpu.GetBlock().Count);
            states.Add((_cpu.InstructionCount - first, ReadState()));
        }

        return states;
    }

    /// <summary>
    /// Runs the image's set-up (page tables, mode switches: thousands of instructions) in whole
    /// blocks up to a breakpoint at the sequence's start; blocks end before a breakpoint, so the
    /// CPU stops exactly there. The breakpoint is removed before the sequence's code is decoded.
    /// </summary>
    private void RunToSequence()
    {
        var tracer = _cpu.Tracer;
        _cpu.Tracer = null;
        _cpu.AddBreakpoint(FuzzLayout.SequenceStart);
        _cpu.BreakpointHit = (_, linear) => linear == FuzzLayout.SequenceStart;
        _cpu.Run(_cpu.InstructionCount + 1_000_000);
        _cpu.BreakpointHit = null;
        _cpu.RemoveBreakpoint(FuzzLayout.SequenceStart);
        if (_cpu.LinearRip != FuzzLayout.SequenceStart)
        {
            throw new InvalidOperationException($"emu did not reach the sequence (RIP {_cpu.LinearRip:x}, last exception {_cpu.LastException})");
        }

        _cpu.Tracer = tracer;
    }

    private StartState SaveStart() =>
        new(Enumerable.Range(0, 16).Select(_cpu.GetGpr).ToArray(), _cpu._rip, _cpu.RFlagsValue,
            Enumerable.Range(0, 6).Select(_cpu.GetSegment).ToArray(), ReadPages(), (UInt128[])_cpu.Fpu.Xmm.Clone(), _cpu.Fpu.Mxcsr,
            ((Float80[])_cpu.Fpu.St.Clone(), _cpu.Fpu.ControlWord, _cpu.Fpu.StatusWord, _cpu.Fpu.TagValid, _cpu.Fpu.Top),
            (_cpu.Fpu.Fip, _cpu.Fpu.Fcs, _cpu.Fpu.Fdp, _cpu.Fpu.Fds),
            (_cpu._cr0, _cpu._cr3, _cpu._cr4, _cpu._cr8), (ulong[])_cpu._dr.Clone(),
            RestoredMsrs.Select(m => _cpu.Msrs.TryRead(m, out ulong v) ? v : 0).ToArray(), _cpu.Efer, _cpu.SaveSvm());

    /// <summary>The MSRs a case writes (EFER.SCE, the SYSCALL/SYSENTER MSRs, KERNEL_GS_BASE): a later RDMSR or SYSCALL reads them.</summary>
    private static readonly uint[] RestoredMsrs = [0xC0000080, 0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084, 0xC0000102, 0x174, 0x175, 0x176];

    /// <summary>
    /// Back to the sequence's start without flushing the decoded and compiled blocks (which
    /// <see cref="Cpu.RestoreState"/> would): registers, flags, XMM and MXCSR, the x87 state, the
    /// control registers (CR0, CR3, CR4, CR8: a case may toggle CR0.TS or CR4.OSFXSR), the
    /// debug registers and the MSRs a case writes, the pages, and the segment
    /// registers with the mode they imply — a case that ended in an exception handler left CS
    /// at the handler's 64-bit code segment, and a compatibility-mode sequence must not run there —
    /// EFER and the SVM state (a case that ended in an SVM guest must start again in the host).
    /// </summary>
    private void RestoreStart(StartState start)
    {
        _cpu._efer = start.Efer;
        _cpu.RestoreSvm(start.Svm);
        for (int i = 0; i < 6; i++)
        {
            _cpu._seg[i] = start.Segments[i];
        }

        _cpu.LoadCr0(start.ControlRegisters.Cr0);
        _cpu.WriteCr3(start.ControlRegisters.Cr3);
        _cpu.WriteCr4(start.ControlRegisters.Cr4);
        _cpu._cr8 = start.ControlRegisters.Cr8;
        for (int i = 0; i < RestoredMsrs.Length; i++)
        {
            _cpu.Msrs.TryWrite(RestoredMsrs[i], start.Msrs[i]);
        }

        start.DebugRegisters.CopyTo(_cpu._dr, 0);
        _cpu.DebugRegistersChanged();
        _cpu.UpdateMode();
        for (int i = 0; i < 16; i++)
        {
            _cpu.SetGpr(i, start.Gprs[i]);
        }

        start.Xmm.CopyTo(_cpu.Fpu.Xmm, 0);
        _cpu.Fpu.Mxcsr = start.Mxcsr;
        start.X87.St.CopyTo(_cpu.Fpu.St, 0);
        (_cpu.Fpu.ControlWord, _cpu.Fpu.StatusWord, _cpu.Fpu.TagValid, _cpu.Fpu.Top) = (start.X87.Control, start.X87.Status, start.X87.Tags, start.X87.Top);
        (_cpu.Fpu.Fip, _cpu.Fpu.Fcs, _cpu.Fpu.Fdp, _cpu.Fpu.Fds) = start.X87Pointers;
        _cpu._rip = start.Rip;
        _cpu.RFlagsValue = start.Flags;
        _cpu._halted = false;
        start.Memory.AsSpan(0, FuzzLayout.PageSize).CopyTo(Page(FuzzLayout.ScratchPage));
        start.Memory.AsSpan(FuzzLayout.PageSize).CopyTo(Page(FuzzLayout.StackPage));
    }

    private sealed record StartState(ulong[] Gprs, ulong Rip, ulong Flags, SegmentRegister[] Segments, byte[] Memory, UInt128[] Xmm, uint Mxcsr,
        (Float80[] St, ushort Control, ushort Status, byte Tags, int Top) X87, (ulong Fip, ushort Fcs, ulong Fdp, ushort Fds) X87Pointers,
        (ulong Cr0, ulong Cr3, ulong Cr4, ulong Cr8) ControlRegisters, ulong[] DebugRegisters, ulong[] Msrs, ulong Efer, SvmSnapshot? Svm);

    private byte[] ReadPages()
    {
        var bytes = new byte[2 * FuzzLayout.PageSize];
        Page(FuzzLayout.ScratchPage).CopyTo(bytes);
        Page(FuzzLayout.StackPage).CopyTo(bytes.AsSpan(FuzzLayout.PageSize));
        return bytes;
    }

    private Span<byte> Page(ulong address) => new(_ram + address, FuzzLayout.PageSize);

    private CpuState ReadState()
    {
        ulong rip = _cpu._rip;
        if (_cpu.Halted && (_sequence.VectorAt(rip - 1) >= 0 || rip - 1 == _sequence.HltAddress))
        {
            rip--;
        }

        int vector = _sequence.VectorAt(rip);
        var gprs = Enumerable.Range(0, 16).Select(_cpu.GetGpr).ToArray();
        var selectors = Enumerable.Range(0, 6).Select(s => _cpu.GetSegment(s).Selector).ToArray();
        return new CpuState(gprs, rip, _cpu.RFlagsValue, selectors, vector, ReadPages(), (UInt128[])_cpu.Fpu.Xmm.Clone(), _cpu.Fpu.Mxcsr)
        {
            X87 = new X87State((Float80[])_cpu.Fpu.St.Clone(), _cpu.Fpu.ControlWord, Handlers.X87StatusWord(_cpu.Fpu)),
        };
    }

    /// <summary>The compiler's last refusal, for the report when a block was not compiled.</summary>
    public string? CompilerRefusal => _cpu.CompilerStatistics.LastRefusal;

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
