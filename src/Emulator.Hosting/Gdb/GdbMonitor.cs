using System.Globalization;
using System.Text;
using Emulator.Core.Machine;
using Emulator.Hosting.Boot;

namespace Emulator.Hosting.Gdb;

/// <summary>
/// gdb's <c>monitor</c> commands: what emu knows about the run and gdb does not — the milestones
/// reached, the firmware modules started (name, type, image range, entry), virtual time and the
/// flash chips' counters.
/// </summary>
internal sealed class GdbMonitor(PcMachine machine, MilestoneTracker tracker, ModuleRecognizer modules)
{
    private const string Help =
        "emu monitor commands:\n"
        + "  milestones   the milestones reached so far (instruction, address, mode)\n"
        + "  modules      the firmware modules started so far (image range, entry, name)\n"
        + "  time         instructions executed and virtual time\n"
        + "  info flash   the flash chips: size, writes programmed, blocks erased\n"
        + "  break-module NAME   stop at the entry of module NAME (or its file GUID) when it starts\n"
        + "  history      reverse execution: the instructions it spans, the checkpoints and their memory\n"
        + "  help         this list\n";

    public string Execute(string command) => command switch
    {
        "" or "help" => Help,
        "milestones" => Milestones(),
        "modules" => Modules(),
        "time" => $"instruction {machine.Cpu.InstructionCount:N0}, virtual time {machine.Cpu.VirtualTime / 1e6:F3} ms, boot {machine.Boot}\n",
        "info flash" or "flash" => Flash(),
        _ => $"unknown monitor command '{command}' (try 'monitor help')\n",
    };

    private string Milestones()
    {
        var text = new StringBuilder();
        foreach (var m in tracker.Reached)
        {
            text.Append(CultureInfo.InvariantCulture, $"{m.Name,-9} boot {m.Boot}  instruction {m.Instruction,13:N0}  0x{m.Address:x}  {m.Mode}-bit\n");
        }

        return text.Length == 0 ? "no milestone reached yet\n" : text.ToString();
    }

    private string Modules()
    {
        var text = new StringBuilder();
        foreach (var m in modules.Started)
        {
            text.Append(CultureInfo.InvariantCulture, $"0x{m.ImageStart:x}-0x{m.ImageEnd:x}  entry 0x{m.Entry:x}  {m.Module.Type,-20} {m.Module.Name ?? m.Module.FileGuid.ToString()}\n");
        }

        return text.Length == 0 ? "no module started yet\n" : text.ToString();
    }

    private string Flash()
    {
        var text = new StringBuilder();
        foreach (var chip in machine.FlashChips)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{chip.Name}: {chip.Size / 1024} KiB{(chip.ReadOnly ? ", read-only" : string.Empty)}{(chip.Secure ? ", SMM-only writes" : string.Empty)}, {chip.BytesProgrammed:N0} bytes programmed, {chip.BlocksErased:N0} blocks erased, {(chip.ArrayMode ? "array mode" : "command mode")}\n");
        }

        return text.Length == 0 ? "no flash chips (a -bios ROM)\n" : text.ToString();
    }
}
