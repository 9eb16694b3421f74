namespace Emulator.Core.Cpu;

/// <summary>
/// One software-TLB entry: a 4 KiB linear page, its physical page, and host pointers for direct
/// reads and writes when the page is plain memory. A null pointer means "take the slow path"
/// (MMIO, flash in command mode, a page holding decoded code, or dirty bit not yet set).
/// </summary>
internal unsafe struct TlbEntry
{
    /// <summary>Linear page number, or <see cref="ulong.MaxValue"/> when empty.</summary>
    public ulong Tag;
    public ulong PhysPage;
    public byte* ReadHost;
    public byte* WriteHost;

    /// <summary>Execution allowed (no NX on any level).</summary>
    public bool Exec;

    /// <summary>Writes allowed at the CPL/WP that filled the entry.</summary>
    public bool Write;
}
