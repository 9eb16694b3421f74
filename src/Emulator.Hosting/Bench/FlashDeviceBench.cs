using System.Diagnostics;
using Emulator.Core.Devices.CfiFlash;
using Emulator.Core.Machine;
using Emulator.Core.Memory;

namespace Emulator.Hosting.Bench;

/// <summary>One device-level measurement: how many operations (and bytes) completed in how much wall time.</summary>
/// <remarks>
/// <see cref="CpuSeconds"/> is the process's CPU time over the same window: on a shared machine
/// the wall figure includes time the thread was not running, the CPU figure does not.
/// </remarks>
internal sealed record DeviceFigure(string Name, long Operations, long Bytes, double Seconds, double CpuSeconds, long AllocatedBytes)
{
    public double OperationsPerSecond => Operations / Seconds;

    public double OperationsPerCpuSecond => Operations / CpuSeconds;

    public double BytesPerSecond => Bytes / Seconds;

    public double NanosecondsPerOperation => Seconds * 1e9 / Operations;

    public double AllocatedBytesPerOperation => (double)AllocatedBytes / Operations;
}

/// <summary>
/// Device-level flash throughput: the vars chip of a <see cref="FlashWorkload"/> machine driven
/// through <see cref="PhysicalBus.Write"/> (the path every guest store to flash takes once the
/// chip is in command mode), with no CPU in the way. The sequences are the ones firmware uses:
/// <list type="bullet">
/// <item>byte program — OVMF's QemuFlashWrite: 0x10 then the data byte at the same address, one
/// 0xFF (read array) after the last byte;</item>
/// <item>block erase — OVMF's QemuFlashEraseBlock: 0x20, 0xD0 at the block start;</item>
/// <item>buffered write — the Intel write-to-buffer sequence (Linux cfi_cmdset_0001's
/// do_write_buffer with bank width 1): 0xE8, count 0xFF (256 writes), 256 data bytes, 0xD0.</item>
/// </list>
/// Each kernel runs in rounds over the whole chip until the time budget is spent, after a warm-up
/// round set so the JIT has promoted it; allocations are counted over the measured rounds only.
/// </summary>
internal sealed class FlashDeviceBench : IDisposable
{
    public const string ByteProgramName = "byte-program";
    public const string BlockEraseName = "block-erase";
    public const string BufferedWriteName = "buffered-write";

    /// <summary>One write-to-buffer sequence fills the whole 256-byte buffer (CFI byte 0x2A: 2^8).</summary>
    public const int BufferBytes = 256;
    private const double WarmUpSeconds = 0.4;

    private readonly FlashWorkload _layout;
    private readonly PcMachine _machine;
    private readonly PhysicalBus _bus;
    private readonly ulong _base;
    private readonly int _size;

    /// <param name="chipBytes">The vars chip size (a whole number of 4 KiB blocks).</param>
    public FlashDeviceBench(int chipBytes)
    {
        _layout = new FlashWorkload(chipBytes, 1);
        _machine = new PcMachine(new MachineOptions
        {
            Flash = [new FlashImage("code", _layout.BuildCodeImage(), true), new FlashImage("vars", _layout.BuildVarsImage(), false)],
        });
        _bus = _machine.Bus;
        _base = _layout.VarsBase;
        _size = chipBytes;
    }

    /// <summary>The chip the kernels write (tests check what it holds).</summary>
    public CfiFlash Chip => _machine.FlashChips[1];

    public int ChipBytes => _size;

    /// <summary>Byte programs: one operation is one programmed byte.</summary>
    public DeviceFigure ByteProgram(TimeSpan budget) => Measure(ByteProgramName, budget, _size, 1, ByteProgramRound);

    /// <summary>Block erases: one operation is one erased 4 KiB block.</summary>
    public DeviceFigure BlockErase(TimeSpan budget) => Measure(BlockEraseName, budget, _size / FlashWorkload.BlockSize, FlashWorkload.BlockSize, BlockEraseRound);

    /// <summary>Buffered writes: one operation is one committed 256-byte buffer.</summary>
    public DeviceFigure BufferedWrite(TimeSpan budget) => Measure(BufferedWriteName, budget, _size / BufferBytes, BufferBytes, BufferedWriteRound);

    /// <summary>
    /// Byte programs on a fresh chip persisted to a scratch varstore file in
    /// <paramref name="directory"/> (<see cref="BenchVarstore"/>): the figure is the rate the
    /// CPU thread sustains with the persistence listener attached (including waits when the
    /// writer falls a whole ring behind); the cost says how many bytes reached the file and how
    /// long the writer took to finish after the last program.
    /// </summary>
    public static (DeviceFigure Figure, FileCost File, double FileBytesPerSecond) PersistedByteProgram(int chipBytes, TimeSpan budget, string directory)
    {
        using var bench = new FlashDeviceBench(chipBytes);
        using var varstore = new BenchVarstore(directory, chipBytes);
        long start = Stopwatch.GetTimestamp();
        varstore.Attach(bench.Chip);
        var figure = bench.Measure(ByteProgramName + "+file", budget, chipBytes, 1, bench.ByteProgramRound);
        var cost = varstore.Finish(bench.Chip.Contents);
        return (figure, cost, cost.BytesPersisted / Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    public void Dispose() => _machine.Dispose();

    private DeviceFigure Measure(string name, TimeSpan budget, int operationsPerRound, int bytesPerOperation, Action<int> round)
    {
        // Warm-up: long enough for tiered compilation to reach the optimised, PGO'd code (tier 0,
        // instrumented tier, then tier 1 after .NET's 100 ms tiering delay).
        long warmUntil = Stopwatch.GetTimestamp() + (long)(Math.Min(budget.TotalSeconds, WarmUpSeconds) * Stopwatch.Frequency);
        int pass = 0;
        do
        {
            round(pass++);
        }
        while (Stopwatch.GetTimestamp() < warmUntil || pass < 4);

        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        long stopAt = start + (long)(budget.TotalSeconds * Stopwatch.Frequency);
        long rounds = 0;
        long now;
        do
        {
            round(pass++);
            rounds++;
            now = Stopwatch.GetTimestamp();
        }
        while (now < stopAt);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        long operations = rounds * operationsPerRound;
        double wall = (double)(now - start) / Stopwatch.Frequency;

        // Process CPU time ticks coarsely and counts background threads (JIT, GC): keep it within (0, wall].
        return new DeviceFigure(name, operations, operations * bytesPerOperation, wall, Math.Clamp(cpu, wall / 1000, wall), allocated);
    }

    /// <summary>One round of the kernel over the whole chip (BenchmarkDotNet's FlashBenchmarks call it directly).</summary>
    public void ByteProgramRound(int pass)
    {
        var bus = _bus;
        ulong end = _base + (ulong)_size;
        ulong data = (ulong)pass;
        for (ulong a = _base; a < end; a++)
        {
            bus.Write(a, 1, FlashCommand.SingleProgram);
            bus.Write(a, 1, (data + a) & 0xFF);
        }

        bus.Write(end - 1, 1, FlashCommand.ReadArray);
    }

    /// <summary>One round of the kernel over the whole chip (BenchmarkDotNet's FlashBenchmarks call it directly).</summary>
    public void BlockEraseRound(int pass)
    {
        var bus = _bus;
        ulong end = _base + (ulong)_size;
        for (ulong a = _base; a < end; a += FlashWorkload.BlockSize)
        {
            bus.Write(a, 1, FlashCommand.BlockErase);
            bus.Write(a, 1, FlashCommand.Confirm);
        }

        bus.Write(_base, 1, FlashCommand.ReadArray);
    }

    /// <summary>One round of the kernel over the whole chip (BenchmarkDotNet's FlashBenchmarks call it directly).</summary>
    public void BufferedWriteRound(int pass)
    {
        var bus = _bus;
        ulong end = _base + (ulong)_size;
        ulong data = (ulong)pass;
        for (ulong buffer = _base; buffer < end; buffer += BufferBytes)
        {
            bus.Write(buffer, 1, FlashCommand.WriteToBuffer);
            bus.Write(buffer, 1, BufferBytes - 1);
            for (ulong a = buffer; a < buffer + BufferBytes; a++)
            {
                bus.Write(a, 1, (data + a) & 0xFF);
            }

            bus.Write(buffer, 1, FlashCommand.Confirm);
        }

        bus.Write(_base, 1, FlashCommand.ReadArray);
    }
}
