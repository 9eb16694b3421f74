using System.Diagnostics;
using System.Text;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;

namespace Emulator.Hosting.Bench;

/// <summary>
/// What one run of the <see cref="FlashWorkload"/> guest did: the bytes and blocks it completed,
/// the guest instructions it took, and the wall time between its start and done markers on
/// COM1 (the same window benchmarks/qemu-flash-bench.sh times on QEMU).
/// File: With a vars file: what persisting cost (null for a snapshot run, which writes no file).
/// </summary>
internal sealed record GuestFigure(long BytesProgrammed, long BlocksErased, long Instructions, double Seconds, FileCost? File = null)
{
    /// <summary>Guest-visible programmed bytes per second of wall time.</summary>
    public double BytesPerSecond => BytesProgrammed / Seconds;

    /// <summary>Every guest instruction of the run (set-up, erases, programs, messages) per programmed byte.</summary>
    public double InstructionsPerByte => (double)Instructions / BytesProgrammed;

    public double Mips => Instructions / Seconds / 1e6;
}

/// <summary>Runs the flash workload as firmware on the PC machine and times it from marker to marker.</summary>
internal static class FlashGuestBench
{
    /// <summary>Generous: the workload needs about a dozen instructions per byte.</summary>
    private const long InstructionsPerByteLimit = 64;

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
        long startTicks = 0, doneTicks = 0;
        using var machine = new PcMachine(new MachineOptions
        {
            Flash = [new FlashImage("code", workload.BuildCodeImage(), true), new FlashImage("vars", varstore?.Bytes ?? workload.BuildVarsImage(), false)],
            SerialPorts = [new IsaSerialPort(0, b =>
            {
                if (b != '\n')
                {
                    line.Append((char)b);
                    return;
                }

                string text = line.ToString().TrimEnd('\r');
                line.Clear();
                if (text == FlashWorkload.StartMarker)
                {
                    startTicks = Stopwatch.GetTimestamp();
                }
                else if (text == FlashWorkload.DoneMarker)
                {
                    doneTicks = Stopwatch.GetTimestamp();
                }
            })],
        });

        varstore?.Attach(machine.FlashChips[1]);
        long limit = 1_000_000 + (workload.BytesProgrammed * InstructionsPerByteLimit);
        var reason = machine.Cpu.Run(limit);
        var chip = machine.FlashChips[1];
        if (reason != StopReason.PowerOff || startTicks == 0 || doneTicks == 0)
        {
            throw new InvalidOperationException($"the flash workload stopped with {reason} after {machine.Cpu.InstructionCount:N0} instructions, before powering off");
        }

        if (chip.BytesProgrammed != workload.BytesProgrammed || chip.BlocksErased != workload.BlocksErased)
        {
            throw new InvalidOperationException($"the flash workload programmed {chip.BytesProgrammed} bytes and erased {chip.BlocksErased} blocks, not {workload.BytesProgrammed} and {workload.BlocksErased}");
        }

        var cost = varstore?.Finish(workload.BuildFinalVarsImage());
        return new GuestFigure(chip.BytesProgrammed, chip.BlocksErased, machine.Cpu.InstructionCount, (double)(doneTicks - startTicks) / Stopwatch.Frequency, cost);
    }
}
