using BenchmarkDotNet.Attributes;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;
using Emulator.Hosting.Bench;

namespace Emulator.Benchmarks;

/// <summary>
/// The SMM round trip of one variable write, as a Secure Boot VM makes it: on the q35 board with
/// SMM and secure flash, the SMM workload's round-trip loop (<see cref="SmmFlashProgram.BuildRoundTripCodeImage"/>)
/// writes the request status, raises an SMI on the APM port 0xB2, and the handler in locked TSEG
/// enters long mode, copies and checks the request, programs <see cref="BytesPerSmi"/> bytes of the
/// secure vars chip with OVMF's sequence and RSMs; the caller sees the status and sends the next.
/// One operation is one such round trip: each <c>Cpu.Run</c> stops at the first instruction
/// boundary after an RSM. 1 byte is OVMF's smallest write (a variable's state byte), 128 about a
/// whole variable record. The block compiler is on, as in <c>emu boot</c>.
/// </summary>
[MemoryDiagnoser]
public class SmmRoundTripBenchmarks
{
    private const int RoundTripsPerInvoke = 16;
    private const long InstructionsPerRoundTripLimit = 20_000;

    private PcMachine _machine = null!;

    [Params(1, 128)]
    public int BytesPerSmi { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        var workload = new FlashWorkload(FlashWorkload.BlockSize, 1, FlashGuestPath.Smm, BytesPerSmi);
        _machine = FlashGuestBench.CreateMachine(workload, SmmFlashProgram.BuildRoundTripCodeImage(workload), workload.BuildVarsImage(), _ => { });
        var cpu = _machine.Cpu;
        cpu.SmmChanged += inSmm =>
        {
            if (!inSmm)
            {
                cpu.RequestStop(StopReason.Requested);
            }
        };

        // The set-up's relocation SMI, then enough round trips for the block compiler to take the
        // loop and the handler; each must be exactly one SMI that programmed the request's bytes.
        RoundTrip();
        long smis = cpu.SmmEntries, programmed = _machine.FlashChips[1].BytesProgrammed;
        for (int i = 0; i < 1000; i++)
        {
            RoundTrip();
        }

        if (cpu.SmmEntries - smis != 1000 || _machine.FlashChips[1].BytesProgrammed - programmed != 1000L * BytesPerSmi || _machine.FlashChips[1].RejectedWrites != 2)
        {
            throw new InvalidOperationException($"1,000 round trips took {cpu.SmmEntries - smis} SMIs and programmed {_machine.FlashChips[1].BytesProgrammed - programmed} bytes");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _machine.Dispose();

    [Benchmark(OperationsPerInvoke = RoundTripsPerInvoke)]
    public void SmiRoundTrip()
    {
        for (int i = 0; i < RoundTripsPerInvoke; i++)
        {
            RoundTrip();
        }
    }

    private void RoundTrip()
    {
        var cpu = _machine.Cpu;
        var reason = cpu.Run(cpu.InstructionCount + InstructionsPerRoundTripLimit);
        if (reason != StopReason.Requested)
        {
            throw new InvalidOperationException($"the round trip stopped with {reason} at 0x{cpu.LinearRip:X}");
        }
    }
}
