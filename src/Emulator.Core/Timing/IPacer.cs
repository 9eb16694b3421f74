namespace Emulator.Core.Timing;

/// <summary>
/// Host-side pacing of guest waits. Virtual time normally runs as fast as the host can skip it
/// (HLT and recognised polling jump straight ahead); a pacer may hold the CPU thread until the
/// wall clock has caught up with the virtual time a wait is about to reach, so a person at the
/// terminal sees waits last as long as the guest meant. It never changes guest state, so it
/// cannot change what the guest computes — only when, in wall time.
/// </summary>
public interface IPacer
{
    /// <summary>Called on the CPU thread before virtual time skips ahead to <paramref name="virtualTime"/>.</summary>
    void WaitUntil(long virtualTime);
}
