using Emulator.Core.Cpu;
using Emulator.Core.Machine;
using Microsoft.Extensions.Logging;

namespace Emulator.Hosting.Boot;

/// <summary>
/// <c>--save-state-at MILESTONE=FILE,...</c>: states written on the way, the run going on after
/// each. A milestone asks the CPU to stop; the stop lands where the run loop next leaves a block,
/// a point the uninterrupted run passes through at a block boundary too, so a machine restored
/// there continues exactly as the run that wrote it (and as one that wrote nothing).
/// </summary>
internal static class StateSaving
{
    private const string SaveDetail = "save state";

    public static StopReason Run(BootOptions o, PcMachine machine, MilestoneTracker tracker, Func<SessionState> session, ILogger log, Func<long, StopReason>? run = null)
    {
        run ??= machine.Run;
        if (o.SaveStateAt.Count == 0)
        {
            return run(o.MaxInstructions);
        }

        var pending = new Dictionary<string, string>(o.SaveStateAt);
        string? due = null;
        tracker.MilestoneReached += m =>
        {
            if (pending.Remove(m.Name, out var file))
            {
                due = file;
                machine.Cpu.RequestStop(StopReason.Breakpoint, SaveDetail);
            }
        };
        while (true)
        {
            var reason = run(o.MaxInstructions);
            if (due == null || reason != StopReason.Breakpoint || machine.StopDetail != SaveDetail)
            {
                return reason;
            }

            StateFiles.Save(due, machine, session());
            log.LogInformation("state saved to {File} at instruction {Instruction:N0}", due, machine.Cpu.InstructionCount);
            due = null;
            if (tracker.UntilReached)
            {
                // The --until milestone was the one saved at: the run ends here as asked.
                return reason;
            }
        }
    }

    /// <summary><c>--save-state FILE</c>: the state where the run stopped (not after an emulator failure, whose state is suspect).</summary>
    public static void SaveAtStop(BootOptions o, PcMachine machine, bool clean, Func<SessionState> session, ILogger log)
    {
        if (o.SaveState != null && clean)
        {
            StateFiles.Save(o.SaveState, machine, session());
            log.LogInformation("state saved to {File} at instruction {Instruction:N0}", o.SaveState, machine.Cpu.InstructionCount);
        }
    }
}
