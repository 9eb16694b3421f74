using BenchmarkDotNet.Attributes;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;
using Emulator.Firmware;

namespace Emulator.Benchmarks;

/// <summary>
/// The reset-to-PEI workload: Debian's 2 MB OVMF from the reset vector to the PEI core's entry,
/// almost all of it SEC's LZMA decompression. Each invocation builds a fresh machine and boots;
/// the instruction count is returned so MIPS = instructions / mean time.
/// </summary>
[MemoryDiagnoser]
public class BootBenchmarks
{
    private byte[] _code = null!;
    private byte[] _vars = null!;
    private ulong _peiEntry;

    [Params("OVMF_CODE.fd")]
    public string Code { get; set; } = "OVMF_CODE.fd";

    [GlobalSetup]
    public void Setup()
    {
        _code = File.ReadAllBytes(Fixtures.Path(Code));
        _vars = File.ReadAllBytes(Fixtures.Path(Code.Replace("CODE", "VARS", StringComparison.Ordinal)));
        _peiEntry = BootEntryPoints.Locate(_code).PeiCoreEntry ?? throw new InvalidOperationException("no PEI core in " + Code);
    }

    [Benchmark]
    public long ResetToPei()
    {
        using var machine = new PcMachine(new MachineOptions
        {
            Flash = [new FlashImage("code", _code, true), new FlashImage("vars", (byte[])_vars.Clone(), false)],
        });
        var cpu = machine.Cpu;
        cpu.AddBreakpoint(_peiEntry);
        cpu.BreakpointHit = (_, address) => address == _peiEntry;
        var reason = cpu.Run(2_000_000_000);
        if (reason != StopReason.Breakpoint)
        {
            throw new InvalidOperationException($"boot stopped early: {reason} at 0x{cpu.LinearRip:X}");
        }

        return cpu.InstructionCount;
    }
}
