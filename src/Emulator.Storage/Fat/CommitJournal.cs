using System.Text.Json;
using System.Text.Json.Serialization;

namespace Emulator.Storage.Fat;

/// <summary>One step of a folder commit. <see cref="Path"/> is '/'-separated, relative to the folder.</summary>
/// <param name="Op">"delete" (a file), "rmdir" (an empty directory), "mkdir", or "put" (rename staged file <see cref="Staged"/> onto the path).</param>
/// <param name="Staged">For "put": the staged file's number in the journal's data directory.</param>
internal sealed record CommitOp(string Op, string Path, int Staged = -1);

/// <summary>
/// The commit journal, <c>DIR/.emu-fat-commit/journal.json</c>: every step of one commit, in the
/// order they run — deletions, directory removals deepest first, new directories parents first,
/// then staged files renamed into place. Each step is idempotent (see
/// <see cref="FolderCommit"/>), so replaying the whole journal after a crash at any point gives the
/// committed folder. Written, fsynced and only then made visible by renaming its directory, so a
/// journal that exists is complete.
/// </summary>
internal sealed record CommitJournal(string Format, IReadOnlyList<CommitOp> Ops)
{
    public const string CurrentFormat = "emu-fat-commit 1";
    public const string FileName = "journal.json";

    private static readonly JsonSerializerOptions s_options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, s_options);

    /// <summary>The journal in <paramref name="bytes"/>, or null when it is not one emu wrote.</summary>
    public static CommitJournal? Parse(byte[] bytes)
    {
        try
        {
            var journal = JsonSerializer.Deserialize<CommitJournal>(bytes, s_options);
            return journal is { Format: CurrentFormat, Ops: not null } && journal.Ops.All(o => o is { Op: "delete" or "rmdir" or "mkdir" or "put", Path: not null }) ? journal : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
