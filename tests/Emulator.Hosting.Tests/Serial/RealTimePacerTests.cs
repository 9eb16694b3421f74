using System.Diagnostics;
using Emulator.Hosting.Serial;

namespace Emulator.Hosting.Tests.Serial;

/// <summary>The pacer holds the host until the wall clock catches up with a wait, never shortens one, and wakes on input.</summary>
[Trait("Category", "Unit")]
public class RealTimePacerTests
{
    private const long Millisecond = 1_000_000;

    [Fact]
    public void AWaitLastsAsLongInWallTimeAsInVirtualTime()
    {
        var pacer = new RealTimePacer(null);
        var wall = Stopwatch.StartNew();
        pacer.WaitUntil(0);
        for (long t = 10; t <= 200; t += 10)
        {
            pacer.WaitUntil(t * Millisecond);
        }

        Assert.True(wall.ElapsedMilliseconds >= 190, $"{wall.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void VirtualTimeBehindTheWallClockIsNotHurriedAfter()
    {
        var pacer = new RealTimePacer(null);
        pacer.WaitUntil(0);
        Thread.Sleep(100);

        // The guest computed for 100 ms of wall time but only 1 ms of virtual time: the next
        // 50 ms wait still lasts about 50 ms rather than being swallowed by the lag.
        pacer.WaitUntil(1 * Millisecond);
        var wall = Stopwatch.StartNew();
        pacer.WaitUntil(51 * Millisecond);
        Assert.True(wall.ElapsedMilliseconds >= 45, $"{wall.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void InputEndsASleepEarly()
    {
        using var input = new AutoResetEvent(false);
        var pacer = new RealTimePacer(input);
        pacer.WaitUntil(0);
        var wall = Stopwatch.StartNew();
        using var timer = new Timer(_ => input.Set(), null, 50, Timeout.Infinite);
        pacer.WaitUntil(10_000 * Millisecond);
        Assert.True(wall.ElapsedMilliseconds < 5_000, $"{wall.ElapsedMilliseconds} ms");
    }
}
