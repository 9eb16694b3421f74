using System.Text.Json;
using System.Text.Json.Nodes;
using Emulator.Hosting.Serial;

namespace Emulator.Hosting.Boot;

/// <summary>
/// What a boot session tracks beside the machine, saved in the state file's session section so a
/// restored run continues it: the milestones reached (with their original instruction indices,
/// virtual times and the flash counters at each), the current boot and where its console text
/// starts, the console output so far (the report's transcript, and the text the banner and
/// prompt are matched in), and the modules started with their instruction tallies.
/// </summary>
internal sealed record SessionState
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public sealed record ReachedMilestone(Milestone Milestone, long FlashBytes, long FlashBlocks);

    public sealed record StartedModule(Guid File, string Type, ulong Header, ulong Entry, long Instruction, long VirtualNs, int Boot, long Inside);

    public required IReadOnlyList<ReachedMilestone> Milestones { get; init; }

    public required int Boot { get; init; }

    public required int ConsoleFrom { get; init; }

    /// <summary>The console's raw bytes (capped as the transcript caps them) and how many were printed in all.</summary>
    public required byte[] Console { get; init; }

    public required long ConsoleBytesPrinted { get; init; }

    public required IReadOnlyList<StartedModule> Modules { get; init; }

    public static SessionState Capture(MilestoneTracker tracker, Dictionary<Milestone, (long Bytes, long Blocks)> flashAt, ConsoleTranscript console, ModuleRecognizer modules) => new()
    {
        Milestones = tracker.Reached.Select(m => new ReachedMilestone(m, flashAt.GetValueOrDefault(m).Bytes, flashAt.GetValueOrDefault(m).Blocks)).ToList(),
        Boot = tracker.CurrentBoot,
        ConsoleFrom = tracker.ConsoleFrom,
        Console = System.Text.Encoding.Latin1.GetBytes(console.RawText),
        ConsoleBytesPrinted = console.BytesPrinted,
        Modules = modules.Started.Select(m => new StartedModule(m.Module.FileGuid, m.Module.Type.ToString(), m.HeaderAddress, m.Entry, m.Instruction, m.VirtualNs, m.Boot, m.Inside.Instructions)).ToList(),
    };

    public JsonNode ToJson() => JsonSerializer.SerializeToNode(this, Json)!;

    public static SessionState? FromJson(JsonNode? node) => node?.Deserialize<SessionState>(Json);

    /// <summary>
    /// Puts the saved session back: the console's bytes into the transcript and the screen (not
    /// to the output: they were shown by the run that saved them), the milestones into the tracker
    /// before it watches the console (so text already printed does not count again), the modules
    /// into the recognizer.
    /// </summary>
    public void Apply(MilestoneTracker tracker, Dictionary<Milestone, (long Bytes, long Blocks)> flashAt, ConsoleSession console, ModuleRecognizer modules)
    {
        foreach (byte b in Console)
        {
            console.Transcript.Append(b);
            console.Screen.Write(b);
        }

        console.Transcript.CountUnkept(ConsoleBytesPrinted - Console.Length);
        tracker.Restore(Milestones.Select(m => m.Milestone), Boot, ConsoleFrom);
        foreach (var m in Milestones)
        {
            flashAt[tracker.Reached.First(r => ReferenceEquals(r, m.Milestone))] = (m.FlashBytes, m.FlashBlocks);
        }

        modules.Restore(Boot, Modules.Select(m => (m.File, m.Type, m.Header, m.Entry, m.Instruction, m.VirtualNs, m.Boot, m.Inside)));
    }
}
