namespace Emulator.Core.Devices;

/// <summary>
/// A named one-bit output of a device — an interrupt request, the A20 gate — after QEMU's
/// qemu_irq (hw/core/irq.c): the device sets its level, and whatever the machine builder
/// connected it to is told on every <see cref="Set"/>, repeated levels included, as
/// qemu_set_irq calls its handler each time (receivers such as the 8259 and the I/O APIC
/// detect edges themselves). A line is created unconnected and stays so until the builder
/// calls <see cref="Connect"/> or, where nothing on the board listens, <see cref="LeaveUnconnected"/>
/// with the reason; <see cref="Target"/> says which.
/// </summary>
public sealed class OutputLine
{
    private Action<bool>? _sink;

    public OutputLine(string name)
    {
        Name = name;
    }

    /// <summary>Device name and output, e.g. "com1.irq".</summary>
    public string Name { get; }

    /// <summary>The level last set (or restored).</summary>
    public bool Level { get; private set; }

    /// <summary>What the line drives ("gsi 4"), "unconnected: reason", or null while the builder has not decided.</summary>
    public string? Target { get; private set; }

    /// <summary>Connects the line to <paramref name="sink"/> (called with the level on every set), named <paramref name="target"/>.</summary>
    public void Connect(string target, Action<bool> sink)
    {
        if (Target != null)
        {
            throw new InvalidOperationException($"line {Name} is already {Target}");
        }

        Target = target;
        _sink = sink;
    }

    /// <summary>Declares that nothing on this board listens to the line (QEMU leaves such a qemu_irq NULL), and why.</summary>
    public void LeaveUnconnected(string reason)
    {
        if (Target != null)
        {
            throw new InvalidOperationException($"line {Name} is already {Target}");
        }

        Target = "unconnected: " + reason;
    }

    /// <summary>Sets the level and tells the connected sink.</summary>
    public void Set(bool level)
    {
        Level = level;
        _sink?.Invoke(level);
    }

    /// <summary>A restore: drives the recorded level, telling the sink only when it differs from the present one.</summary>
    public void Restore(bool level)
    {
        if (level != Level)
        {
            Set(level);
        }
    }
}
