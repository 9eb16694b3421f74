using System.Diagnostics;
using System.Text;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;

namespace Emulator.Hosting.Bench;

/// <summary>
/// What one run of the <see cref="FlashWorkload"/> guest did: the bytes and blocks it completed,
/// the guest instructions it took, and the wall time between its start and done markers on
/// COM1 (the same window benchmarks/qemu-flash-bench.sh times on QEMU).
/// Smis: On the SMM path, the SMIs between the markers (each one request's round trip); 0 on the direct path.
/// SmmInstructions: Guest instructions retired in SMM over the whole run (the relocation SMI included).
/// File: With a vars file: what persisting cost (null for a snapshot run, which writes no file).
/// </summary>
internal sealed record GuestFigure(long BytesProgrammed, long BlocksErased, long Instructions, double Seconds, FileCost? File = null, long Smis = 0, long SmmInstructions = 0)
{
    /// <summary>Guest-visible programmed bytes per second of wall time.</summary>
    public double BytesPerSecond => BytesProgrammed / Seconds;

    /// <summary>Every guest instruction of the run (set-up, erases, programs, messages) per programmed byte.</summary>
    public double InstructionsPerByte => (double)Instructions / BytesProgrammed;

    public double Mips => Instructions / Seconds / 1e6;

    public double SmisPerSecond => Smis / Seconds;

    /// <summary>Wall time per SMI round trip (request, SMI, handler, RSM, status seen), in microseconds.</summary>
    public double MicrosecondsPerSmi => Smis == 0 ? 0 : Seconds * 1e6 / Smis;
}

/// <summary>Runs the flash workload as firmware on the machine its path needs and times it from marker to marker.</summary>
internal static class FlashGuestBench
{
    /// <summary>Generous: the direct workload needs about a dozen instructions per byte, the SMM one about twice that.</summary>
    private const long InstructionsPerByteLimit = 64;

    /// <summary>Generous: entering long mode, checking and copying a request take about 60 instructions per SMI.</summary>
    private const long InstructionsPerSmiLimit = 1024;

    /// <summary>
    /// The machine <paramref name="workload"/> runs on: QEMU's <c>pc</c> for the direct path; for the
    /// SMM path <c>q35</c> with SMM, secure flash and <see cref="SmmFlashProgram.RamBytes"/> of RAM
    /// (QEMU's <c>-machine q35,smm=on -m 256 -global driver=cfi.pflash01,property=secure,value=on</c>).
    /// </summary>
    public static PcMachine CreateMachine(FlashWorkload workload, byte[] code, byte[] vars, Action<byte> com1)
    {
        var flash = new[] { new FlashImage("code", code, true), new FlashImage("vars", vars, false) };
        var serial = new[] { new IsaSerialPort(0, com1) };
        return new PcMachine(workload.Path == FlashGuestPath.Smm
            ? new MachineOptions { Chipset = PcChipset.Q35, Smm = true, SecureFlash = true, RamSize = SmmFlashProgram.RamBytes, Flash = flash, SerialPorts = serial }
            : new MachineOptions { Flash = flash, SerialPorts = serial });
    }

    /// <summary>
    /// Runs <paramref name="workload"/>, as <c>boot --snapshot</c> would (no file), or with its vars
    /// chip persisted to a scratch varstore file in <paramref name="fileDirectory"/>, as
    /// <c>boot --vars FILE</c> would, the file checked afterwards against the workload's result.
    /// Throws <see cref="InvalidOperationException"/> if the guest does not finish as it should.
    /// </summary>
    public static GuestFigure Run(FlashWorkload workload, string? fileDirectory = null)
    {
        using var varstore = fileDirectory != null ? new BenchVarstore(fileDirectory, workload.VarsChipSize) : null;
        var line = new StringBuilder();
        string lastLine = string.Empty;
        long startTicks = 0, doneTicks = 0;
        using var machine = CreateMachine(workload, workload.BuildCodeImage(), varstore?.Bytes ?? workload.BuildVarsImage(), b =>
        {
            if (b != '\n')
            {
                line.Append((char)b);
                return;
            }

            lastLine = line.ToString().TrimEnd('\r');
            line.Clear();
            if (lastLine == FlashWorkload.StartMarker)
            {
                startTicks = Stopwatch.GetTimestamp();
            }
            else if (lastLine == FlashWorkload.DoneMarker)
            {
                doneTicks = Stopwatch.GetTimestamp();
            }
        });

        varstore?.Attach(machine.FlashChips[1]);
        long limit = 1_000_000 + (workload.BytesProgrammed * InstructionsPerByteLimit) + (workload.Smis * InstructionsPerSmiLimit);
        var reason = machine.Cpu.Run(limit);
        var chip = machine.FlashChips[1];
        if (reason != StopReason.PowerOff || startTicks == 0 || doneTicks == 0)
        {
            throw new InvalidOperationException($"the flash workload stopped with {reason} after {machine.Cpu.InstructionCount:N0} instructions, before powering off (last line on COM1: '{lastLine}')");
        }

        if (chip.BytesProgrammed != workload.BytesProgrammed || chip.BlocksErased != workload.BlocksErased)
        {
            throw new InvalidOperationException($"the flash workload programmed {chip.BytesProgrammed} bytes and erased {chip.BlocksErased} blocks, not {workload.BytesProgrammed} and {workload.BlocksErased}");
        }

        // The SMM path: every SMI but the relocation one is a request between the markers.
        long smis = machine.Cpu.SmmEntries - (workload.Path == FlashGuestPath.Smm ? 1 : 0);
        if (smis != workload.Smis)
        {
            throw new InvalidOperationException($"the flash workload took {smis} SMIs, not {workload.Smis}");
        }

        var cost = varstore?.Finish(workload.BuildFinalVarsImage());
        return new GuestFigure(chip.BytesProgrammed, chip.BlocksErased, machine.Cpu.InstructionCount, (double)(doneTicks - startTicks) / Stopwatch.Frequency, cost, smis, machine.Cpu.SmmInstructions);
    }
}
