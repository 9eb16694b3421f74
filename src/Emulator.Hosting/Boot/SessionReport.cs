using System.Diagnostics;
using Emulator.Core.Machine;
using Emulator.Core.Memory;
using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Boot;

/// <summary>The <see cref="RunReport"/> of a finished <see cref="BootSession"/>, from the machine, the milestones and the files.</summary>
internal static class SessionReport
{
    public static RunReport Build(
        BootOptions o, PcMachine machine, List<FirmwareFileInfo> files, MilestoneTracker tracker, Dictionary<Milestone, (long Bytes, long Blocks)> flashAt, Stopwatch wall, string stop, ConsoleTranscript console)
    {
        var cpu = machine.Cpu;
        double seconds = wall.Elapsed.TotalSeconds;
        return new RunReport
        {
            Tool = new ToolInfo("emu", typeof(BootSession).Assembly.GetName().Version?.ToString() ?? "0"),
            Firmware = files,
            FirmwareChoice = o.FirmwareChoice,
            Machine = new MachineInfo(
                MachineTypeOf(machine.Options.Chipset),
                o.Memory,
                o.UnassignedZero ? "zero" : "all-ones",
                machine.FlashPlacements.Select(p => FlashInfoOf(p, machine.FlashChips[p.Unit])).ToList(),
                cpu.Model.Name,
                machine.Options.Smm),
            Milestones = tracker.Reached.Select(m => new MilestoneInfo(
                m.Name, m.Instruction, Hex.Format(m.Address), m.Mode, Math.Round(m.WallMs, 3), m.VirtualNs / 1e6, m.Boot, flashAt.GetValueOrDefault(m).Bytes, flashAt.GetValueOrDefault(m).Blocks, m.Screen,
                m.Image is { } image ? ImageInfo.Of(image) : null)).ToList(),
            Resets = machine.Resets.Select(r => new ResetInfo(r.Boot, r.Instruction, r.VirtualTime / 1e6, ResetInfo.CauseName(r.Cause), r.Detail)).ToList(),
            Instructions = cpu.InstructionCount,
            RepIterations = cpu.RepIterations,
            WallSeconds = Math.Round(seconds, 3),
            VirtualTime = new VirtualTimeInfo(cpu.VirtualTime, cpu.InstructionCount, cpu.RepIterations, cpu.IdleTicks, cpu.WaitTicks, machine.WaitSkipper.Skips),
            Mips = seconds > 0 ? Math.Round(cpu.InstructionCount / seconds / 1e6, 2) : 0,
            Stop = new StopInfo(stop, Hex.Format(cpu.LinearRip), cpu.Bitness, machine.StopDetail, machine.GuestExitStatus, RegistersOf(cpu)),
            Exceptions = cpu.ExceptionCount,
            Smm = new SmmInfo(cpu.SmmEntries, cpu.SmmInstructions, machine.FlashChips.Sum(f => f.SmmWrites), machine.FlashChips.Sum(f => f.RejectedWrites)),
            Unassigned = machine.Bus.Unassigned.Entries
                .OrderBy(e => e.Space).ThenBy(e => e.Address).ThenBy(e => e.Write)
                .Select(e => new UnassignedInfo(e.Space == UnassignedSpace.Port ? "port" : "memory", Hex.Format(e.Address), e.Size, e.Write, e.Count, e.FirstInstruction))
                .ToList(),
            UnassignedDropped = machine.Bus.Unassigned.Dropped,
            Unimplemented = cpu.Unimplemented.OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal)
                .Select(kv => new UnimplementedInfo(kv.Key.ToString(), Iced.Intel.MnemonicUtils.Mnemonic(kv.Key).ToString(), kv.Value))
                .ToList(),
            Console = new ConsoleInfo(console.BytesPrinted, console.Truncated, console.RawText),
        };
    }

    /// <summary>The report's machine type: QEMU's machine family names without the version.</summary>
    public static string MachineTypeOf(PcChipset chipset) => chipset == PcChipset.Q35 ? "pc-q35" : "pc-i440fx";

    private static readonly string[] GprNames = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
    private static readonly string[] SegmentNames = ["es", "cs", "ss", "ds", "fs", "gs"];

    /// <summary>The registers at the stop, by name, in hex (where a run halted, with what: a firmware's dead loop, a test ROM's failure).</summary>
    private static Dictionary<string, string> RegistersOf(Core.Cpu.Cpu cpu)
    {
        var registers = new Dictionary<string, string>();
        for (int i = 0; i < GprNames.Length; i++)
        {
            registers[GprNames[i]] = Hex.Format(cpu.GetGpr(i));
        }

        registers["rip"] = Hex.Format(cpu.Rip);
        registers["rflags"] = Hex.Format(cpu.RFlagsValue);
        for (int i = 0; i < SegmentNames.Length; i++)
        {
            registers[SegmentNames[i]] = Hex.Format(cpu.GetSegment(i).Selector);
        }

        registers["cr0"] = Hex.Format(cpu.Cr0);
        registers["cr2"] = Hex.Format(cpu.Cr2);
        registers["cr3"] = Hex.Format(cpu.Cr3);
        registers["cr4"] = Hex.Format(cpu.Cr4);
        registers["efer"] = Hex.Format(cpu.Efer);
        return registers;
    }

    private static FlashInfo FlashInfoOf(FlashPlacement p, Core.Devices.CfiFlash.CfiFlash chip) =>
        new(p.Unit, p.Name, Hex.Format(p.Base), p.Size, chip.ReadOnly, chip.BytesProgrammed, chip.BlocksErased, chip.Secure, chip.SmmWrites, chip.RejectedWrites);
}
