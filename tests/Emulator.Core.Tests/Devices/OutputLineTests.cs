using Emulator.Core.Devices;

namespace Emulator.Core.Tests.Devices;

/// <summary>Output lines: every set reaches the sink (qemu_set_irq), a restore only a change, connection is once and explicit.</summary>
[Trait("Category", "Unit")]
public sealed class OutputLineTests
{
    [Fact]
    public void EverySetReachesTheSinkRepeatedLevelsIncluded()
    {
        var levels = new List<bool>();
        var line = new OutputLine("dev.irq");
        line.Connect("test", levels.Add);
        line.Set(true);
        line.Set(true);
        line.Set(false);
        Assert.Equal([true, true, false], levels);
        Assert.False(line.Level);
        Assert.Equal("test", line.Target);
    }

    [Fact]
    public void RestoreDrivesOnlyAChangedLevel()
    {
        var levels = new List<bool>();
        var line = new OutputLine("dev.irq");
        line.Connect("test", levels.Add);
        line.Restore(false);
        line.Restore(true);
        line.Restore(true);
        Assert.Equal([true], levels);
    }

    [Fact]
    public void AnUnconnectedLineSaysWhyAndKeepsItsLevel()
    {
        var line = new OutputLine("dev.a20");
        Assert.Null(line.Target);
        line.LeaveUnconnected("nothing listens");
        line.Set(true);
        Assert.True(line.Level);
        Assert.Equal("unconnected: nothing listens", line.Target);
        Assert.Throws<InvalidOperationException>(() => line.Connect("late", _ => { }));
    }
}
