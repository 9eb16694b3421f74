using BenchmarkDotNet.Attributes;
using Emulator.Core.Machine;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Benchmarks;

/// <summary>
/// Decode-dispatch micro-benchmarks: guest integer loops shaped like SEC's LZMA decoder (loads,
/// ALU, shifts, compares, a taken branch per iteration) run from the decoded-block cache. One
/// operation is one guest instruction, so the reported time per operation is ns/instruction.
/// <see cref="Compiled"/> false runs the interpreter alone (<c>--interpret</c>); true lets the
/// block compiler take the loop once it is hot (on its thread, as in a boot).
/// </summary>
[MemoryDiagnoser]
public class InterpreterBenchmarks
{
    private const int Iterations = 100_000;
    private const int InstructionsPerIteration = 10;
    private const ulong CodeAt = 0x100000;
    private BareMachine _machine = null!;

    [Params(false, true)]
    public bool Compiled { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _machine = new BareMachine();
        _machine.Cpu.BlockCompilation = Compiled;
        var a = new Assembler(64);
        var loop = a.CreateLabel();
        a.mov(ecx, Iterations);
        a.mov(rsi, 0x200000);
        a.mov(ebx, 0x1234);
        a.Label(ref loop);
        a.mov(eax, __dword_ptr[rsi]);
        a.add(eax, ebx);
        a.xor(edx, eax);
        a.shr(eax, 3);
        a.mov(__dword_ptr[rsi + 4], eax);
        a.cmp(edx, ebx);
        a.lea(ebx, __dword_ptr[rbx + rax * 2 + 1]);
        a.and(ebx, 0xFFFF);
        a.dec(ecx);
        a.jne(loop);
        a.hlt();
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), CodeAt);
        _machine.Load(CodeAt, stream.ToArray());
    }

    [GlobalCleanup]
    public void Cleanup() => _machine.Dispose();

    [Benchmark(OperationsPerInvoke = Iterations * InstructionsPerIteration)]
    public long IntegerLoop64()
    {
        var cpu = _machine.Cpu;
        cpu.Reset();
        _machine.EnterLong64(CodeAt);
        long start = cpu.InstructionCount;
        cpu.Run(long.MaxValue);
        return cpu.InstructionCount - start;
    }
}
