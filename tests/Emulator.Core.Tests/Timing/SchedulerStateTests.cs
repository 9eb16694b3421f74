using Emulator.Core.Timing;

namespace Emulator.Core.Tests.Timing;

/// <summary>
/// The scheduler's saved state: ties at one deadline fire in the saved order after a restore even
/// when the devices re-arm in another order, and a deadline nobody re-armed (a device whose state
/// was not restored) is an error, not a silently different run.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SchedulerStateTests
{
    private sealed class Timer(string name, List<string> fired)
    {
        public void Fire(long when) => fired.Add($"{name}@{when}");
    }

    private sealed class OtherTimer(string name, List<string> fired)
    {
        public void Fire(long when) => fired.Add($"{name}@{when}");
    }

    [Fact]
    public void TiesFireInTheSavedOrderWhateverOrderTheDevicesReArmIn()
    {
        var fired = new List<string>();
        var a = new Timer("a", fired);
        var b = new OtherTimer("b", fired);
        var saved = new Scheduler();
        saved.Schedule(100, b.Fire);
        saved.Schedule(100, a.Fire);
        saved.Schedule(50, a.Fire);
        var state = saved.SaveState();
        saved.RunDue(100);
        var straight = fired.ToList();
        fired.Clear();

        var restored = new Scheduler();
        restored.Schedule(7, a.Fire); // state of the fresh machine: dropped by Clear
        restored.Clear();
        restored.Schedule(50, a.Fire);
        restored.Schedule(100, a.Fire);
        restored.Schedule(100, b.Fire);
        restored.RestoreOrder(state);
        restored.RunDue(100);

        Assert.Equal(["a@50", "b@100", "a@100"], straight);
        Assert.Equal(straight, fired);
        Assert.Equal(state.NextSequence, restored.SaveState().NextSequence);
    }

    [Fact]
    public void ADeadlineNoDeviceReArmedIsRefused()
    {
        var fired = new List<string>();
        var a = new Timer("a", fired);
        var b = new OtherTimer("b", fired);
        var saved = new Scheduler();
        saved.Schedule(100, a.Fire);
        saved.Schedule(200, b.Fire);
        var state = saved.SaveState();

        var restored = new Scheduler();
        restored.Schedule(100, a.Fire);
        var e = Assert.Throws<InvalidOperationException>(() => restored.RestoreOrder(state));
        Assert.Contains("OtherTimer.Fire at tick 200", e.Message, StringComparison.Ordinal);
    }
}
