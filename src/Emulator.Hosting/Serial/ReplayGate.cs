namespace Emulator.Hosting.Serial;

/// <summary>
/// The host's side of re-executed history (the gdb server's reverse execution, docs/gdb.md):
/// while the machine runs instructions it has run before, what the guest sends out — console,
/// serial files and pseudo-terminals, the debug console — goes nowhere, because the host already
/// has it, and what the guest reads in comes from the log of what the host gave it the first
/// time. Reads are numbered across every source in the order the guest made them (a replay makes
/// the same reads in the same order); a point in history carries the number (<see cref="Reads"/>).
/// Only reads that got a byte are kept, so the log is as long as the input typed or scripted.
/// </summary>
internal sealed class ReplayGate
{
    private readonly Dictionary<long, int> _given = [];

    /// <summary>True while history is re-executed.</summary>
    public bool Replaying { get; set; }

    /// <summary>Input reads made so far (set back with a restored point in history).</summary>
    public long Reads { get; set; }

    public Action<byte> Output(Action<byte> output) => b =>
    {
        if (!Replaying)
        {
            output(b);
        }
    };

    public Func<int> Input(Func<int> input) => () =>
    {
        long read = Reads++;
        if (Replaying)
        {
            return _given.TryGetValue(read, out int given) ? given : -1;
        }

        int b = input();
        if (b >= 0)
        {
            _given[read] = b;
        }

        return b;
    };
}
