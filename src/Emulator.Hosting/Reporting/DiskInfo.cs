using System.Text.Json.Serialization;

namespace Emulator.Hosting.Reporting;

/// <summary>
/// A drive of the run: its IDE <paramref name="Index"/> (0–3; for a virtio drive its place among
/// them, <paramref name="Interface"/> "virtio"), <paramref name="Kind"/> (disk or
/// cdrom), the image <paramref name="File"/> or the <paramref name="Folder"/> presented as a FAT
/// disk (neither for an empty CD-ROM drive), <paramref name="Mode"/> (readwrite, readonly,
/// snapshot), for a <c>fat:rw</c> folder what its commit did, and for an image its
/// <paramref name="Format"/> ("raw" or "qcow2").
/// </summary>
public sealed record DiskInfo(
    int Index,
    string Kind,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? File,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Folder,
    string Mode,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] FolderCommitInfo? Commit = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Format = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Interface = null);

/// <summary>
/// A folder's commit at the end of the run: <paramref name="Committed"/> false with
/// <paramref name="Error"/> when it was refused (the folder unchanged); otherwise the files written
/// and deleted, the directories created and removed, and the notes (directories kept because they
/// hold what the guest never saw).
/// </summary>
public sealed record FolderCommitInfo(
    bool Committed,
    int FilesWritten,
    int FilesDeleted,
    int DirectoriesCreated,
    int DirectoriesRemoved,
    IReadOnlyList<string> Notes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null);
