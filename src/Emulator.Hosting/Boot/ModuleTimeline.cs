using System.Globalization;
using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Boot;

/// <summary>
/// <c>--timeline</c>: every module the run started, in order — first instruction index, virtual
/// time, instructions executed inside its image (and their share of the run), type, load address,
/// name and GUID. What lets a RELEASE build, which prints nothing, be followed and compared.
/// </summary>
public static class ModuleTimeline
{
    /// <summary>Writes the timeline of <paramref name="modules"/> to <paramref name="output"/>; <paramref name="total"/> is the run's instruction count (for each module's share).</summary>
    public static void Write(TextWriter output, IReadOnlyList<ModuleInfo> modules, long total)
    {
        long inside = modules.Sum(m => m.Instructions);
        output.WriteLine($"timeline: {modules.Count} modules; {inside:N0} of {total:N0} instructions ran inside them ({Share(inside, total)})");
        output.WriteLine($"{"FIRST INSN",15}  {"VIRTUAL MS",10}  {"INSIDE",13}  {"SHARE",6}  {"TYPE",-19}  {"LOADED AT",-10}  NAME / GUID");
        foreach (ModuleInfo m in modules)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Instruction,15:N0}  {m.VirtualMs,10:F3}  {m.Instructions,13:N0}  {Share(m.Instructions, total),6}  {m.Type,-19}  {m.ImageAddress,-10}  {m.Name ?? "(no UI name)"} {m.Guid}"));
        }
    }

    private static string Share(long part, long total) =>
        total == 0 ? "-" : (100.0 * part / total).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
