using BenchmarkDotNet.Attributes;
using Emulator.Core.Machine;
using Emulator.Hosting.Varstore;

namespace Emulator.Benchmarks;

/// <summary>
/// Flash writes with varstore persistence attached (issue 3): OVMF's byte program through the bus
/// over a 1 MiB vars chip, four passes, backed by a real file. <see cref="ByteProgramPersisted"/> is the CPU
/// thread's cost while the writer thread journals, fsyncs and writes in the background;
/// <see cref="ByteProgramToDisk"/> adds the drain at the end (journal, fsync, file write, final
/// fsync, journal removed), so its rate is bytes reaching the file per second.
/// </summary>
[MemoryDiagnoser]
public class PersistenceBenchmarks
{
    private const ulong VarsBase = 0xFFE00000; // a 1 MiB vars chip below a 1 MiB code chip
    private const int Bytes = 1 << 20;
    private const int Passes = 4;
    private string _path = null!;
    private VarstoreFile _file = null!;
    private PcMachine _machine = null!;
    private FlashPersistence _persistence = null!;

    [IterationSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"emu-bench-{Guid.NewGuid():N}.fd");
        File.WriteAllBytes(_path, Enumerable.Repeat((byte)0xFF, Bytes).ToArray());
        _file = VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), _path, snapshot: false);
        _machine = new PcMachine(new MachineOptions
        {
            Flash = [new FlashImage("code", new byte[Bytes], true), new FlashImage("vars", _file.Bytes, false)],
        });
        _persistence = new FlashPersistence(_file);
        _machine.FlashChips[1].AddListener(_persistence);
    }

    [IterationCleanup]
    public void Cleanup()
    {
        _persistence.Dispose();
        _machine.Dispose();
        _file.Dispose();
        File.Delete(_path);
    }

    [Benchmark(OperationsPerInvoke = Bytes * Passes)]
    public void ByteProgramPersisted() => Program();

    [Benchmark(OperationsPerInvoke = Bytes * Passes)]
    public void ByteProgramToDisk()
    {
        Program();
        _persistence.Dispose();
    }

    private void Program()
    {
        var bus = _machine.Bus;
        for (ulong pass = 0; pass < Passes; pass++)
        {
            for (ulong i = 0; i < Bytes; i++)
            {
                bus.Write(VarsBase + i, 1, 0x10);
                bus.Write(VarsBase + i, 1, (i + pass) & 0xFF);
            }
        }

        bus.Write(VarsBase, 1, 0xFF);
    }
}
