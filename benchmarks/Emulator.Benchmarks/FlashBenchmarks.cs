using BenchmarkDotNet.Attributes;
using Emulator.Core.Machine;

namespace Emulator.Benchmarks;

/// <summary>
/// Device-level flash throughput through the physical bus, with OVMF's own sequences: a byte
/// program is 0x10 then the data byte at the same address; an erase is 0x20, 0xD0 at the block
/// start. One operation is one programmed byte or one erased 4 KiB block. No persistence yet
/// (issue 3): these are the device model's costs alone.
/// </summary>
[MemoryDiagnoser]
public class FlashBenchmarks
{
    private const ulong VarsBase = 0xFFE00000;
    private const int Bytes = 0x10000;
    private const int Blocks = 16;
    private PcMachine _machine = null!;

    [GlobalSetup]
    public void Setup()
    {
        var vars = new byte[0x20000];
        vars.AsSpan().Fill(0xFF);
        _machine = new PcMachine(new MachineOptions
        {
            Flash = [new FlashImage("code", new byte[0x1E0000], true), new FlashImage("vars", vars, false)],
        });
    }

    [GlobalCleanup]
    public void Cleanup() => _machine.Dispose();

    [Benchmark(OperationsPerInvoke = Bytes)]
    public void ByteProgram()
    {
        var bus = _machine.Bus;
        for (ulong i = 0; i < Bytes; i++)
        {
            bus.Write(VarsBase + i, 1, 0x10);
            bus.Write(VarsBase + i, 1, i & 0xFF);
        }

        bus.Write(VarsBase, 1, 0xFF);
    }

    [Benchmark(OperationsPerInvoke = Blocks)]
    public void BlockErase()
    {
        var bus = _machine.Bus;
        for (ulong b = 0; b < Blocks; b++)
        {
            bus.Write(VarsBase + b * 0x1000, 1, 0x20);
            bus.Write(VarsBase + b * 0x1000, 1, 0xD0);
        }

        bus.Write(VarsBase, 1, 0xFF);
    }
}
