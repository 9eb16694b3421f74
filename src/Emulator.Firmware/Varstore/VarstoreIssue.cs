namespace Emulator.Firmware.Varstore;

/// <summary>What OVMF does at its next boot about a problem found in a varstore.</summary>
public enum VarstoreIssueClass
{
    /// <summary>
    /// The firmware does not accept the store as it is: it erases and reformats it (every variable
    /// is lost), or cannot use it at all (its drivers fail or read past their copy of the store).
    /// </summary>
    Reject,

    /// <summary>
    /// The firmware accepts the store but rewrites part of it: a reclaim that drops records, a
    /// reinitialised fault-tolerant-write working block, an interrupted write completed or aborted.
    /// </summary>
    Repair,

    /// <summary>Worth knowing, but the firmware leaves it alone (or it is its ordinary housekeeping).</summary>
    Note,
}

/// <summary>One finding of the varstore validation: where (offset into the file), how bad, what.</summary>
public sealed record VarstoreIssue(long Offset, VarstoreIssueClass Class, string Message)
{
    public override string ToString() => $"at 0x{Offset:X}: {Message}";
}

/// <summary>The issues found while parsing, in file order of discovery.</summary>
internal sealed class VarstoreFindings
{
    public List<VarstoreIssue> Issues { get; } = [];

    public bool HasReject => Issues.Exists(i => i.Class == VarstoreIssueClass.Reject);

    public void Reject(long offset, string message) => Issues.Add(new VarstoreIssue(offset, VarstoreIssueClass.Reject, message));

    public void Repair(long offset, string message) => Issues.Add(new VarstoreIssue(offset, VarstoreIssueClass.Repair, message));

    public void Note(long offset, string message) => Issues.Add(new VarstoreIssue(offset, VarstoreIssueClass.Note, message));
}
