using BenchmarkDotNet.Attributes;
using Emulator.Hosting.Bench;

namespace Emulator.Benchmarks;

/// <summary>
/// Device-level flash throughput through the physical bus: the same kernels `emu bench flash`
/// times (<see cref="FlashDeviceBench"/>: OVMF's 0x10 + data byte program, 0x20/0xD0 block
/// erase, 0xE8 write-to-buffer of 256 bytes), here under BenchmarkDotNet. One operation is one
/// programmed byte, one erased 4 KiB block, or one committed 256-byte buffer. No persistence:
/// these are the device model's and the bus's costs alone.
/// </summary>
[MemoryDiagnoser]
public class FlashBenchmarks
{
    private const int ChipBytes = 256 << 10;
    private FlashDeviceBench _bench = null!;
    private int _pass;

    [GlobalSetup]
    public void Setup() => _bench = new FlashDeviceBench(ChipBytes);

    [GlobalCleanup]
    public void Cleanup() => _bench.Dispose();

    [Benchmark(OperationsPerInvoke = ChipBytes)]
    public void ByteProgram() => _bench.ByteProgramRound(_pass++);

    [Benchmark(OperationsPerInvoke = ChipBytes / 4096)]
    public void BlockErase() => _bench.BlockEraseRound(_pass++);

    [Benchmark(OperationsPerInvoke = ChipBytes / FlashDeviceBench.BufferBytes)]
    public void BufferedWrite() => _bench.BufferedWriteRound(_pass++);
}
